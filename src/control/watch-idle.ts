// WatchIdle: idle-list changes computed by the main thread from shared memory. One listing serves
// every watcher (cached per change of a lock-free fingerprint), and each watcher diffs it against
// what it sent last, at most once per interval, so watching adds no work to the request path:
// while nothing changes, the lists are not even read under their locks.
//
// The fingerprint: every idle-list insertion or removal happens under the owner thread's lock
// (DESIGN §4 rule 3), and every acquisition is counted per site in the acquiring thread's own
// block of shared memory. The acquisitions of a thread's lock by worker threads, plus the list
// counts, therefore change whenever the lists may have. Left out: the main thread's acquisitions
// (its listings only read) and the periodic purge's (it only removes, which the counts show), so
// an idle pool is not re-listed on every purge tick.
import type { IdleConnectionInfo, PoolRuntime } from '../pool/pool-runtime.ts';
import { ListKind, LOCK_SITE_COUNT, LockSite, LockStatWord } from '../shm/offsets.ts';

export interface IdleFilter {
  server?: number;
  thread?: number;
}

export interface IdleChange {
  initial: boolean;
  added: IdleConnectionInfo[];
  removed: IdleConnectionInfo[];
  total: number;
  sequence: number;
}

export type IdleRuntime = Pick<PoolRuntime, 'listIdle' | 'shm' | 'servers' | 'threads'>;

/** A listing is read again after this long even when the fingerprint did not move. */
const FORCE_RELIST_MS = 2000;

/** Changes when any thread's idle lists may have changed; lock-free reads only. */
export function idleFingerprint(rt: IdleRuntime): string {
  const { i32, layout: L } = rt.shm;
  const parts: number[] = [];
  for (let th = 0; th < rt.threads; th++) {
    let acq = 0;
    // acquirers 0..threads-1 are the workers; the main thread's block (index `threads`) is left out
    for (let a = 0; a < rt.threads; a++) {
      const b = L.lockStatsBase + a * L.lockStatsAcquirerStride + th * L.lockStatsTargetStride;
      for (let s = 0; s < LOCK_SITE_COUNT; s++) {
        if (s !== LockSite.purge) acq = (acq + Atomics.load(i32, b + LockStatWord.ACQ + s)) | 0;
      }
    }
    parts.push(acq);
    rt.servers.forEach((s, i) => {
      if (s)
        parts.push(i, rt.shm.lists.count(th, i, ListKind.IDLE), rt.shm.lists.count(th, i, ListKind.SAFE));
    });
  }
  return parts.join(',');
}

/** Where a watcher's changes go: a server stream in PoolControl. */
export interface IdleSink {
  /** Returns false when the stream's buffer is full: later changes coalesce until resume(). */
  emit(change: IdleChange): boolean;
  /** The hub closed (shutdown). */
  end(): void;
  /** Reading the lists failed; the watch is over. */
  fail(err: unknown): void;
}

interface Watcher {
  filter: IdleFilter;
  sink: IdleSink;
  sent: Map<string, IdleConnectionInfo> | null;
  sequence: number;
  busy: boolean;
  /** The stream's buffer is full: skip ticks (changes coalesce) until it drains. */
  blocked: boolean;
  timer: NodeJS.Timeout;
}

export interface WatchHandle {
  cancel(): void;
  /** The stream drained: changes flow again. */
  resume(): void;
}

export class IdleWatchHub {
  readonly #rt: IdleRuntime;
  readonly #watchers = new Set<Watcher>();
  #cache: { fingerprint: string; at: number; list: IdleConnectionInfo[] } | null = null;
  #inflight: Promise<IdleConnectionInfo[]> | null = null;
  /** Listings read under the locks: stays flat while nothing changes (tests, metrics). */
  listings = 0;
  /** Watcher ticks so far (every interval of every watcher). */
  ticks = 0;

  constructor(rt: IdleRuntime) {
    this.#rt = rt;
  }

  get watchers(): number {
    return this.#watchers.size;
  }

  /** Sends the current idle set at once, then at most one change per interval. */
  watch(filter: IdleFilter, intervalMs: number, sink: IdleSink): WatchHandle {
    const w: Watcher = {
      filter,
      sink,
      sent: null,
      sequence: 0,
      busy: false,
      blocked: false,
      timer: setInterval(() => void this.#tick(w), intervalMs),
    };
    this.#watchers.add(w);
    void this.#tick(w);
    return {
      cancel: () => this.#drop(w),
      resume: () => {
        w.blocked = false;
      },
    };
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    for (const w of [...this.#watchers]) {
      this.#drop(w);
      w.sink.end();
    }
  }

  #drop(w: Watcher): void {
    clearInterval(w.timer);
    this.#watchers.delete(w);
    if (this.#watchers.size === 0) this.#cache = null;
  }

  async #tick(w: Watcher): Promise<void> {
    if (w.busy || w.blocked || !this.#watchers.has(w)) return;
    this.ticks++;
    w.busy = true;
    try {
      const list = await this.#current();
      if (!this.#watchers.has(w)) return;
      const now = new Map<string, IdleConnectionInfo>();
      for (const c of list) {
        if (w.filter.server !== undefined && c.serverIndex !== w.filter.server) continue;
        if (w.filter.thread !== undefined && c.thread !== w.filter.thread) continue;
        now.set(key(c), c);
      }
      const initial = w.sent === null;
      const before = w.sent ?? new Map<string, IdleConnectionInfo>();
      const added = [...now].filter(([k]) => !before.has(k)).map(([, c]) => c);
      const removed = [...before].filter(([k]) => !now.has(k)).map(([, c]) => c);
      if (!initial && added.length === 0 && removed.length === 0) return;
      w.sent = now;
      const ok = w.sink.emit({ initial, added, removed, total: now.size, sequence: ++w.sequence });
      if (!ok) w.blocked = true;
    } catch (err) {
      if (this.#watchers.has(w)) {
        this.#drop(w);
        w.sink.fail(err);
      }
    } finally {
      w.busy = false;
    }
  }

  /** The whole idle set, read again only when the fingerprint moved (or the copy is old). */
  #current(): Promise<IdleConnectionInfo[]> {
    const fingerprint = idleFingerprint(this.#rt);
    const c = this.#cache;
    if (c && c.fingerprint === fingerprint && Date.now() - c.at < FORCE_RELIST_MS) {
      return Promise.resolve(c.list);
    }
    if (this.#inflight) return this.#inflight;
    this.listings++;
    const at = Date.now();
    this.#inflight = this.#rt.listIdle().then(
      (list) => {
        this.#inflight = null;
        if (this.#watchers.size > 0) this.#cache = { fingerprint, at, list };
        return list;
      },
      (err: unknown) => {
        this.#inflight = null;
        throw err;
      },
    );
    return this.#inflight;
  }
}

/** A connection "changed" when it moved thread or list, or served a request in between. */
function key(c: IdleConnectionInfo): string {
  return `${c.id}/${c.serverIndex}/${c.thread}/${c.list}/${c.requestsServed}`;
}
