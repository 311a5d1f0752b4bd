// The SharedArrayBuffer of the pool and its typed views: made once by the main thread before the
// workers start, attached by each worker from workerData. Where each word lives is offsets.ts.

import { isMainThread } from 'node:worker_threads';
import { ShmError, ShmErrorCode } from '../errors.ts';
import { IdleLists } from './idle-lists.ts';
import { TakeoverLocks } from './lock.ts';
import {
  ConnIdWord,
  FREE,
  HeaderWord,
  LINE_WORDS,
  ListKind,
  ListWord,
  ServerState,
  ServerWord,
  SHM_MAGIC,
  SHM_VERSION,
  type ShmConfig,
  SlotWord,
  ThreadWord,
} from './offsets.ts';
import { computeLayout, type ShmLayout } from './regions.ts';
import { ServerCounters } from './server-counters.ts';
import { Slots } from './slots.ts';
import { ThreadStats } from './thread-stats.ts';
import { Waits } from './waits.ts';

/**
 * The SharedArrayBuffer and its views. The main thread create()s it once before starting the
 * workers; each worker attach()es to the buffer it received in workerData.
 */
export class SharedState {
  readonly sab: SharedArrayBuffer;
  readonly cfg: ShmConfig;
  readonly layout: ShmLayout;
  readonly i32: Int32Array;
  /** 64-bit view of the same memory, for counters that would wrap too fast in 32 bits. */
  readonly i64: BigInt64Array;
  /** Epoch of nowMs() on this thread's clock, cached: the header words never change. */
  readonly epochMs: number;
  /** The calling thread: 0..threads-1 in a worker, `threads` on the main thread. */
  readonly self: number;
  /** This thread's view of the takeover locks (lock.ts). */
  readonly lock: TakeoverLocks;
  /** Idle lists, asserting this thread holds the owning lock (idle-lists.ts). */
  readonly lists: IdleLists;
  readonly slots: Slots;
  readonly counters: ServerCounters;
  readonly stats: ThreadStats;
  readonly waits: Waits;

  private constructor(sab: SharedArrayBuffer, cfg: ShmConfig, layout: ShmLayout, self: number) {
    this.sab = sab;
    this.cfg = Object.freeze({ threads: cfg.threads, maxServers: cfg.maxServers, maxSlots: cfg.maxSlots });
    this.layout = layout;
    this.i32 = new Int32Array(sab);
    this.i64 = new BigInt64Array(sab);
    const h = layout.headerBase;
    this.epochMs =
      (Atomics.load(this.i32, h + HeaderWord.EPOCH_HI) >>> 0) * 2 ** 32 +
      (Atomics.load(this.i32, h + HeaderWord.EPOCH_LO) >>> 0);
    this.self = self;
    this.lock = new TakeoverLocks(this, self);
    this.lists = new IdleLists(this, this.lock);
    this.counters = new ServerCounters(this, self);
    this.slots = new Slots(this, this.counters, self);
    this.stats = new ThreadStats(this);
    this.waits = new Waits(this);
  }

  static create(cfg: ShmConfig): SharedState {
    const layout = computeLayout(cfg);
    const sab = new SharedArrayBuffer(layout.totalWords * 4);
    const i32 = new Int32Array(sab);
    const h = layout.headerBase;
    // The epoch is one ms before now so nowMs() starts at 1: 0 means "none" in timestamp gauges.
    const epoch = Math.floor(clockMs()) - 1;
    Atomics.store(i32, h + HeaderWord.THREADS, cfg.threads);
    Atomics.store(i32, h + HeaderWord.MAX_SERVERS, cfg.maxServers);
    Atomics.store(i32, h + HeaderWord.MAX_SLOTS, cfg.maxSlots);
    Atomics.store(i32, h + HeaderWord.EPOCH_HI, Math.floor(epoch / 2 ** 32));
    Atomics.store(i32, h + HeaderWord.EPOCH_LO, (epoch % 2 ** 32) | 0);
    Atomics.store(i32, h + HeaderWord.TOTAL_WORDS, layout.totalWords);
    Atomics.store(i32, h + HeaderWord.VERSION, SHM_VERSION);
    // Free markers that are not zero: slots start FREE with no links, lists start empty.
    for (let s = 0; s < cfg.maxSlots; s++) {
      const b = layout.slotBase + s * layout.slotStride;
      Atomics.store(i32, b + SlotWord.OWNER, FREE);
      Atomics.store(i32, b + SlotWord.THIEF, -1);
      Atomics.store(i32, b + SlotWord.PREV, -1);
      Atomics.store(i32, b + SlotWord.NEXT, -1);
    }
    for (let srv = 0; srv < cfg.maxServers; srv++) {
      Atomics.store(i32, layout.serverBase + srv * layout.serverStride + ServerWord.STATE, ServerState.FREE);
    }
    for (let t = 0; t < cfg.threads; t++) {
      for (let srv = 0; srv < cfg.maxServers; srv++) {
        const b = layout.listBase + t * layout.listThreadStride + srv * layout.listServerStride;
        for (const kind of [ListKind.IDLE, ListKind.SAFE]) {
          Atomics.store(i32, b + (kind - 1) * ListWord.KIND_STRIDE + ListWord.HEAD, -1);
          Atomics.store(i32, b + (kind - 1) * ListWord.KIND_STRIDE + ListWord.TAIL, -1);
        }
      }
      // Spread the threads' first allocSlot() scans so they do not all CAS the same slots.
      Atomics.store(
        i32,
        layout.threadBase + t * layout.threadStride + ThreadWord.ALLOC_HINT,
        Math.floor((t * cfg.maxSlots) / cfg.threads),
      );
    }
    // MAGIC last: a reader that sees it sees a fully initialised buffer.
    Atomics.store(i32, h + HeaderWord.MAGIC, SHM_MAGIC);
    return new SharedState(sab, cfg, layout, cfg.threads);
  }

  /**
   * Attaches to a buffer made by create(). `cfg`, when given, must match the header. `self` is
   * the worker's thread id (0..threads-1), required in a worker: locks record their holder and
   * counters their writer. On the main thread it is `threads`.
   */
  static attach(sab: SharedArrayBuffer, cfg?: ShmConfig, self?: number): SharedState {
    if (sab.byteLength < LINE_WORDS * 4) {
      throw new ShmError(ShmErrorCode.BAD_HEADER, 'shared buffer too small to hold an fcgi-pool header');
    }
    const i32 = new Int32Array(sab, 0, LINE_WORDS);
    const magic = Atomics.load(i32, HeaderWord.MAGIC);
    const version = Atomics.load(i32, HeaderWord.VERSION);
    if (magic !== SHM_MAGIC || version !== SHM_VERSION) {
      throw new ShmError(
        ShmErrorCode.BAD_HEADER,
        `not an fcgi-pool v${SHM_VERSION} shared buffer (magic 0x${(magic >>> 0).toString(16)}, version ${version})`,
      );
    }
    const stored: ShmConfig = {
      threads: Atomics.load(i32, HeaderWord.THREADS),
      maxServers: Atomics.load(i32, HeaderWord.MAX_SERVERS),
      maxSlots: Atomics.load(i32, HeaderWord.MAX_SLOTS),
    };
    if (
      cfg &&
      (cfg.threads !== stored.threads ||
        cfg.maxServers !== stored.maxServers ||
        cfg.maxSlots !== stored.maxSlots)
    ) {
      throw new ShmError(
        ShmErrorCode.BAD_HEADER,
        `shared buffer was laid out for ${JSON.stringify(stored)}, not ${JSON.stringify(cfg)}`,
      );
    }
    const layout = computeLayout(stored);
    if (layout.totalWords * 4 !== sab.byteLength) {
      throw new ShmError(ShmErrorCode.BAD_HEADER, 'shared buffer size does not match its header');
    }
    if (self === undefined) {
      if (!isMainThread) {
        throw new ShmError(
          ShmErrorCode.THREAD_ID,
          'a worker attaches with its thread id: attach(sab, cfg, thread)',
        );
      }
      self = stored.threads;
    }
    return new SharedState(sab, stored, layout, self);
  }

  /**
   * The shared millisecond clock: ms since the epoch in the header, the same on every thread
   * (to clock-sync precision), wrapping every 2^32 ms. Compare two readings only as
   * `(a - b) | 0`. Never 0, so 0 can mean "no timestamp".
   */
  nowMs(): number {
    const t = (clockMs() - this.epochMs) | 0;
    return t === 0 ? 1 : t;
  }

  /** A fresh connection id, unique among the connections of this process (uint32, skips 0). */
  nextConnId(): number {
    const idx = this.layout.connIdBase + ConnIdWord.NEXT;
    let id = (Atomics.add(this.i32, idx, 1) + 1) >>> 0;
    if (id === 0) id = (Atomics.add(this.i32, idx, 1) + 1) >>> 0;
    return id;
  }
}

/**
 * Wall-clock-anchored monotonic time. performance.timeOrigin is each thread's own start time, so
 * timeOrigin + now() agrees across threads, while each thread's reading never goes backwards.
 */
function clockMs(): number {
  return performance.timeOrigin + performance.now();
}
