// The takeover lock: one word per worker thread (HAProxy's idle_conns[tid].idle_conns_lock). It
// guards that thread's idle lists and the tasklet contexts of its connections (DESIGN §4 rule 3),
// for a handful of shared-word updates — never across I/O or an await.
//
// The word holds the holder's thread id + 1 (0 = free), so the supervisor can free the lock of a
// worker that died holding it. Acquisition: one CAS; on contention a short Atomics.pause() spin,
// then bounded Atomics.wait() rounds. A waiter count next to the word lets unlock() skip
// Atomics.notify() when nobody sleeps, so the uncontended lock + unlock is two CAS, one load and
// one stats add.
//
// Statistics: each acquiring thread writes only its own blocks (one per target lock), so counting
// costs no shared-line traffic; stats-reader.ts sums them per lock.

import { isMainThread } from 'node:worker_threads';
import { ShmError, ShmErrorCode } from '../errors.ts';
import { type LockSite, LockStatWord, LockWord } from './offsets.ts';
import type { SharedState } from './shared-state.ts';

export { LockSite } from './offsets.ts';

/** Pause-spins before sleeping: a holder keeps the lock for ~100 ns, a spin round costs ~40 ns. */
const SPIN_LIMIT = 128;
/** Sleep bound: unlock() notifies, the bound only covers a holder that died (until recover()). */
const WAIT_MS = 1;
const HAS_PAUSE = typeof Atomics.pause === 'function';

export class TakeoverLocks {
  /** The calling thread's id: 0..threads-1 for workers, `threads` for the main thread. */
  readonly self: number;
  private readonly i32: Int32Array;
  private readonly i64: BigInt64Array;
  private readonly tag: number;
  private readonly threads: number;
  private readonly lockBase: number;
  private readonly lockStride: number;
  /** Start of this thread's own statistics blocks. */
  private readonly statBase: number;
  private readonly statStride: number;
  private readonly canBlock: boolean;

  constructor(state: SharedState, self: number) {
    const { threads } = state.cfg;
    if (!Number.isInteger(self) || self < 0 || self > threads) {
      throw new RangeError(`thread id ${self} out of range [0, ${threads}]`);
    }
    if (isMainThread && self !== threads) {
      throw new RangeError(`the main thread's lock id is ${threads} (threads), not ${self}`);
    }
    const L = state.layout;
    this.self = self;
    this.tag = self + 1;
    this.threads = threads;
    this.i32 = state.i32;
    this.i64 = state.i64;
    this.lockBase = L.lockBase;
    this.lockStride = L.lockStride;
    this.statBase = L.lockStatsBase + self * L.lockStatsAcquirerStride;
    this.statStride = L.lockStatsTargetStride;
    this.canBlock = !isMainThread;
  }

  /**
   * Takes `target`'s lock, blocking for as long as it is held (microseconds by design). Workers
   * only: the main thread must never block, it uses tryLock().
   */
  lock(target: number, site: LockSite): void {
    if (!this.canBlock) {
      throw new ShmError(ShmErrorCode.MAIN_THREAD_BLOCK, 'lock() would block the main thread; use tryLock()');
    }
    const idx = this.wordOf(target);
    if (Atomics.compareExchange(this.i32, idx, 0, this.tag) !== 0) this.lockSlow(idx, target);
    Atomics.add(this.i32, this.statBase + target * this.statStride + LockStatWord.ACQ + site, 1);
  }

  /**
   * One CAS; with `spins` > 0 the caller (the main thread, or a thief that prefers a short
   * wait to skipping) spins that many pause rounds before giving up. Never sleeps.
   */
  tryLock(target: number, site: LockSite, spins = 0): boolean {
    const idx = this.wordOf(target);
    const stats = this.statBase + target * this.statStride;
    if (Atomics.compareExchange(this.i32, idx, 0, this.tag) === 0) {
      Atomics.add(this.i32, stats + LockStatWord.ACQ + site, 1);
      return true;
    }
    if (Atomics.load(this.i32, idx) === this.tag) this.recursive(target);
    if (spins > 0) {
      const t0 = performance.now();
      for (let i = 0; i < spins; i++) {
        if (HAS_PAUSE) Atomics.pause();
        if (Atomics.load(this.i32, idx) === 0 && Atomics.compareExchange(this.i32, idx, 0, this.tag) === 0) {
          Atomics.add(this.i32, stats + LockStatWord.ACQ + site, 1);
          this.countContended(stats, t0);
          return true;
        }
      }
    }
    Atomics.add(this.i32, stats + LockStatWord.TRY_FAILED, 1);
    return false;
  }

  /** Releases `target`'s lock; throws if this thread does not hold it (a protocol bug). */
  unlock(target: number): void {
    const idx = this.wordOf(target);
    const was = Atomics.compareExchange(this.i32, idx, this.tag, 0);
    if (was !== this.tag) {
      throw new ShmError(
        ShmErrorCode.LOCK_NOT_HELD,
        `thread ${this.self} unlocks thread ${target}'s lock held by ${was === 0 ? 'nobody' : was - 1}`,
      );
    }
    if (Atomics.load(this.i32, idx + LockWord.WAITERS) !== 0) Atomics.notify(this.i32, idx, 1);
  }

  /** Thread holding `target`'s lock, or -1 when free. */
  holder(target: number): number {
    return Atomics.load(this.i32, this.wordOf(target)) - 1;
  }

  /** True when the calling thread holds `target`'s lock (the idle lists' debug assertion). */
  heldByMe(target: number): boolean {
    return Atomics.load(this.i32, this.wordOf(target)) === this.tag;
  }

  /**
   * The supervisor's cleanup after `deadThread` died: frees every lock it still held and wakes
   * their sleepers. Returns how many locks were freed. A waiter count the dead thread left
   * behind only costs later unlocks a spare notify.
   */
  recover(deadThread: number): number {
    let freed = 0;
    for (let t = 0; t < this.threads; t++) {
      const idx = this.lockBase + t * this.lockStride + LockWord.HOLDER;
      if (Atomics.compareExchange(this.i32, idx, deadThread + 1, 0) === deadThread + 1) {
        freed++;
        Atomics.notify(this.i32, idx);
      }
    }
    return freed;
  }

  private wordOf(target: number): number {
    // One unsigned compare: a stray id would otherwise write another region's words.
    if (target >>> 0 >= this.threads) throw new RangeError(`no lock for thread ${target}`);
    return this.lockBase + target * this.lockStride + LockWord.HOLDER;
  }

  private lockSlow(idx: number, target: number): void {
    if (Atomics.load(this.i32, idx) === this.tag) this.recursive(target);
    const t0 = performance.now();
    let spins = 0;
    for (;;) {
      const v = Atomics.load(this.i32, idx);
      if (v === 0) {
        if (Atomics.compareExchange(this.i32, idx, 0, this.tag) === 0) break;
      } else if (spins < SPIN_LIMIT) {
        spins++;
        if (HAS_PAUSE) Atomics.pause();
      } else {
        // Register as a waiter before re-reading the word: unlock() stores 0 before it reads
        // WAITERS, so either it sees us and notifies, or we see its 0 and do not sleep.
        Atomics.add(this.i32, idx + LockWord.WAITERS, 1);
        const w = Atomics.load(this.i32, idx);
        if (w !== 0) Atomics.wait(this.i32, idx, w, WAIT_MS);
        Atomics.sub(this.i32, idx + LockWord.WAITERS, 1);
      }
    }
    this.countContended(this.statBase + target * this.statStride, t0);
  }

  private countContended(stats: number, t0: number): void {
    Atomics.add(this.i32, stats + LockStatWord.CONTENDED, 1);
    const ns = Math.round((performance.now() - t0) * 1e6);
    Atomics.add(this.i64, (stats + LockStatWord.WAIT_NS) >> 1, BigInt(ns));
  }

  private recursive(target: number): never {
    throw new ShmError(
      ShmErrorCode.LOCK_RECURSIVE,
      `thread ${this.self} already holds thread ${target}'s lock`,
    );
  }
}
