// The main thread's view of everything the workers publish in shared memory, as one plain
// snapshot object per scrape (undici's `stats`, prom-client's collect()). The workers' counters
// are 32-bit words that wrap; the reader keeps the last raw value of each word and accumulates
// the deltas mod 2^32, so the counters it reports are 64-bit-exact (doubles, exact to 2^53) and
// never go backwards — as long as no word advances 2^32 between two snapshots.

import { type LockStats, readLockStats } from './lock-stats.ts';
import {
  FREE,
  HANDOFF_BUCKETS_S,
  HistWord,
  ListKind,
  ListWord,
  REQUEST_BUCKETS_S,
  RequestWord,
  ServerState,
  ServerWord,
  SlotWord,
  STATUS_CODE_NAMES,
  TAKEOVER_OUTCOME_NAMES,
  TaskletCtx,
  ThreadServerWord,
  ThreadWord,
} from './offsets.ts';
import type { SharedState } from './shared-state.ts';

export type TakeoverOutcomeName = (typeof TAKEOVER_OUTCOME_NAMES)[number];
export type StatusCodeName = (typeof STATUS_CODE_NAMES)[number];

/** A histogram as Prometheus exposes it. */
export interface HistogramSnapshot {
  /** Upper bounds in seconds, without +Inf. */
  bounds: readonly number[];
  /** Cumulative counts: buckets[i] observations ≤ bounds[i]; one more entry for +Inf (= count). */
  buckets: number[];
  count: number;
  sumSeconds: number;
}

export interface ThreadServerSnapshot {
  server: number;
  idle: number;
  safe: number;
  /** Connections attached to a request on this thread. */
  used: number;
  /** Requests queued on this thread, and how long the oldest has waited (ms, 0 = none). */
  queue: number;
  oldestWaitMs: number;
  opened: number;
  reuses: number;
  /** Takeover attempts by this thread (pulls), by outcome. */
  takeovers: Record<TakeoverOutcomeName, number>;
  pushed: number;
  purged: number;
}

export interface ThreadSnapshot {
  thread: number;
  /** Backend I/O wake-ups that skipped the lock / took it. */
  usr1Fast: number;
  locked: number;
  requests: number;
  handoffs: number;
  handoffMsSum: number;
  /** Hand-offs adopted by this thread: latency from the steal or push to the adoption. */
  handoff: HistogramSnapshot;
  /** Event-loop utilisation (0..1) over the thread's last sample period. */
  eventLoopUtilization: number;
  /** Client connections open on this thread; accepted here; moved away to balance threads. */
  clients: number;
  clientsAccepted: number;
  clientsMoved: number;
  /** Requests the gateway answered itself (no backend asked), by `code` label. */
  answered: Record<StatusCodeName, number>;
  /** Statistics of this thread's lock (this thread as the victim), summed over acquirers. */
  lock: LockStats;
  servers: ThreadServerSnapshot[];
}

export interface ServerSnapshot {
  server: number;
  state: number;
  curConns: number;
  maxConnections: number;
  opened: number;
  reuses: number;
  idle: number;
  safe: number;
  used: number;
  queue: number;
  /** Takeover attempts for this server by outcome, all threads (pulls and adopted pushes). */
  takeovers: Record<TakeoverOutcomeName, number>;
  pushed: number;
  purged: number;
  /** Requests answered through this server (requestDone), by `code` label, all threads. */
  requests: Record<StatusCodeName, number>;
  duration: HistogramSnapshot;
  /** Threads with requests queued for this server (the waiters bitmap). */
  waitingThreads: number[];
  nextTakeover: number;
}

export interface SlotSummary {
  total: number;
  free: number;
  /** Held by their owner, in no list (busy, opening, or between lists). */
  attached: number;
  idle: number;
  safe: number;
  /** Claimed by a thief, hand-off not adopted yet. */
  stolen: number;
}

export interface ShmSnapshot {
  nowMs: number;
  threads: ThreadSnapshot[];
  /** Server entries in use (not FREE). */
  servers: ServerSnapshot[];
  slots: SlotSummary;
}

function zeros<K extends string>(names: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const name of names) out[name] = 0;
  return out;
}

function emptyHistogram(bounds: readonly number[]): HistogramSnapshot {
  return { bounds, buckets: new Array<number>(bounds.length + 1).fill(0), count: 0, sumSeconds: 0 };
}

/** Per-bucket counts (the shared words) → Prometheus's cumulative `le` buckets. */
function cumulative(bounds: readonly number[], perBucket: number[], sumUs: number): HistogramSnapshot {
  let acc = 0;
  const buckets = perBucket.map((n) => {
    acc += n;
    return acc;
  });
  return { bounds, buckets, count: acc, sumSeconds: sumUs / 1e6 };
}

export class StatsReader {
  private readonly state: SharedState;
  /** Per counter word: last raw uint32 seen and the extended total. */
  private readonly last = new Map<number, number>();
  private readonly total = new Map<number, number>();
  private readonly extend = (word: number): number => {
    const raw = Atomics.load(this.state.i32, word) >>> 0;
    const prev = this.last.get(word) ?? 0;
    const sum = (this.total.get(word) ?? 0) + ((raw - prev) >>> 0);
    this.last.set(word, raw);
    this.total.set(word, sum);
    return sum;
  };

  constructor(state: SharedState) {
    this.state = state;
  }

  /** A 32-bit counter word read as a never-decreasing 64-bit total. */
  counter(word: number): number {
    return this.extend(word);
  }

  snapshot(): ShmSnapshot {
    const st = this.state;
    const { threads, maxServers } = st.cfg;
    const L = st.layout;
    const i32 = st.i32;
    const now = st.nowMs();
    const inUse: number[] = [];
    for (let s = 0; s < maxServers; s++) {
      if (Atomics.load(i32, L.serverBase + s * L.serverStride + ServerWord.STATE) !== ServerState.FREE)
        inUse.push(s);
    }
    const servers: ServerSnapshot[] = inUse.map((s) => {
      const b = L.serverBase + s * L.serverStride;
      const waitingThreads: number[] = [];
      for (let t = 0; t < threads; t++) {
        if ((Atomics.load(i32, b + ServerWord.WAITERS + (t >> 5)) >>> (t & 31)) & 1) waitingThreads.push(t);
      }
      return {
        server: s,
        state: Atomics.load(i32, b + ServerWord.STATE),
        curConns: Atomics.load(i32, b + ServerWord.CUR_CONNS),
        maxConnections: Atomics.load(i32, b + ServerWord.MAX_CONNS),
        opened: 0,
        reuses: 0,
        idle: 0,
        safe: 0,
        used: 0,
        queue: 0,
        takeovers: zeros(TAKEOVER_OUTCOME_NAMES),
        pushed: 0,
        purged: 0,
        requests: zeros(STATUS_CODE_NAMES),
        duration: emptyHistogram(REQUEST_BUCKETS_S),
        waitingThreads,
        nextTakeover: Atomics.load(i32, b + ServerWord.NEXT_TAKEOVER),
      };
    });
    const threadSnaps: ThreadSnapshot[] = [];
    for (let t = 0; t < threads; t++) {
      const tb = L.threadBase + t * L.threadStride;
      const perServer = servers.map((srv, k) => {
        const s = srv.server;
        const g = tb + ThreadWord.SERVERS + s * ThreadServerWord.SIZE;
        const lb = L.listBase + t * L.listThreadStride + s * L.listServerStride;
        const since = Atomics.load(i32, g + ThreadServerWord.OLDEST_WAITER);
        const takeovers = {} as Record<TakeoverOutcomeName, number>;
        TAKEOVER_OUTCOME_NAMES.forEach((name, o) => {
          takeovers[name] = this.extend(g + ThreadServerWord.TAKEOVER + o);
        });
        const snap: ThreadServerSnapshot = {
          server: s,
          idle: Atomics.load(i32, lb + (ListKind.IDLE - 1) * ListWord.KIND_STRIDE + ListWord.COUNT),
          safe: Atomics.load(i32, lb + (ListKind.SAFE - 1) * ListWord.KIND_STRIDE + ListWord.COUNT),
          used: Atomics.load(i32, g + ThreadServerWord.USED),
          queue: Atomics.load(i32, g + ThreadServerWord.QUEUE),
          oldestWaitMs: since === 0 ? 0 : Math.max(0, (now - since) | 0),
          opened: this.extend(g + ThreadServerWord.OPENED),
          reuses: this.extend(g + ThreadServerWord.REUSES),
          takeovers,
          pushed: this.extend(g + ThreadServerWord.PUSHED),
          purged: this.extend(g + ThreadServerWord.PURGED),
        };
        const agg = servers[k];
        agg.idle += snap.idle;
        agg.safe += snap.safe;
        agg.used += snap.used;
        agg.queue += snap.queue;
        agg.opened += snap.opened;
        agg.reuses += snap.reuses;
        agg.pushed += snap.pushed;
        agg.purged += snap.purged;
        for (const name of TAKEOVER_OUTCOME_NAMES) agg.takeovers[name] += takeovers[name];
        return snap;
      });
      threadSnaps.push({
        thread: t,
        usr1Fast: this.extend(tb + ThreadWord.USR1_FAST),
        locked: this.extend(tb + ThreadWord.LOCKED),
        requests: this.extend(tb + ThreadWord.REQUESTS),
        handoffs: this.extend(tb + ThreadWord.HANDOFFS),
        handoffMsSum: this.extend(tb + ThreadWord.HANDOFF_MS),
        handoff: this.histogram(
          HANDOFF_BUCKETS_S,
          L.histBase + t * L.histStride + HistWord.HANDOFF_BUCKETS,
          L.histBase + t * L.histStride + HistWord.HANDOFF_US,
        ),
        eventLoopUtilization: Atomics.load(i32, tb + ThreadWord.ELU_PPM) / 1e6,
        clients: Atomics.load(i32, tb + ThreadWord.CLIENTS),
        clientsAccepted: this.extend(tb + ThreadWord.CLIENTS_ACCEPTED),
        clientsMoved: this.extend(tb + ThreadWord.CLIENTS_MOVED),
        answered: this.codes(tb + ThreadWord.ANSWERED),
        lock: readLockStats(st, t, this.extend),
        servers: perServer,
      });
    }
    // the main thread's stripe counts too (connections opened by the control plane)
    for (const srv of servers) {
      const g =
        L.threadBase + threads * L.threadStride + ThreadWord.SERVERS + srv.server * ThreadServerWord.SIZE;
      srv.opened += this.extend(g + ThreadServerWord.OPENED);
      srv.reuses += this.extend(g + ThreadServerWord.REUSES);
    }
    for (const srv of servers) this.requestStats(srv);
    return { nowMs: now, threads: threadSnaps, servers, slots: this.slotSummary() };
  }

  /** Requests of `srv` by code and their durations, summed over every thread (main included). */
  private requestStats(srv: ServerSnapshot): void {
    const st = this.state;
    const L = st.layout;
    const perBucket = new Array<number>(REQUEST_BUCKETS_S.length + 1).fill(0);
    let sumUs = 0;
    for (let t = 0; t <= st.cfg.threads; t++) {
      const b = L.histBase + t * L.histStride + HistWord.SERVERS + srv.server * RequestWord.SIZE;
      const codes = this.codes(b + RequestWord.CODES);
      for (const name of STATUS_CODE_NAMES) srv.requests[name] += codes[name];
      for (let k = 0; k < perBucket.length; k++) perBucket[k] += this.extend(b + RequestWord.BUCKETS + k);
      sumUs += Number(Atomics.load(st.i64, (b + RequestWord.DURATION_US) >> 1));
    }
    srv.duration = cumulative(REQUEST_BUCKETS_S, perBucket, sumUs);
  }

  /** STATUS_CODE_NAMES.length counter words from `word`, by code label. */
  private codes(word: number): Record<StatusCodeName, number> {
    const out = zeros(STATUS_CODE_NAMES);
    STATUS_CODE_NAMES.forEach((name, c) => {
      out[name] = this.extend(word + c);
    });
    return out;
  }

  /** One thread's histogram: bounds.length + 1 bucket words from `bucketWord`, a 64-bit µs sum. */
  private histogram(bounds: readonly number[], bucketWord: number, sumWord: number): HistogramSnapshot {
    const perBucket: number[] = [];
    for (let k = 0; k <= bounds.length; k++) perBucket.push(this.extend(bucketWord + k));
    return cumulative(bounds, perBucket, Number(Atomics.load(this.state.i64, sumWord >> 1)));
  }

  private slotSummary(): SlotSummary {
    const st = this.state;
    const L = st.layout;
    const sum: SlotSummary = { total: st.cfg.maxSlots, free: 0, attached: 0, idle: 0, safe: 0, stolen: 0 };
    for (let slot = 0; slot < st.cfg.maxSlots; slot++) {
      const b = L.slotBase + slot * L.slotStride;
      const owner = Atomics.load(st.i32, b + SlotWord.OWNER);
      if (owner === FREE || owner < 0) {
        sum.free++;
        continue;
      }
      const list = Atomics.load(st.i32, b + SlotWord.LIST);
      if (Atomics.load(st.i32, b + SlotWord.CTX) !== TaskletCtx.VALID) sum.stolen++;
      else if (list === ListKind.IDLE) sum.idle++;
      else if (list === ListKind.SAFE) sum.safe++;
      else sum.attached++;
    }
    return sum;
  }
}
