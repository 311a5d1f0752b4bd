// Who waits for which server, in shared memory: each thread publishes its queue length and the
// shared-clock time its oldest waiter started waiting (DESIGN §5: "a thread publishes in shared
// memory how long its oldest waiter has waited"), and sets its bit in the server's waiters
// bitmap while it has waiters. A thread whose connection goes idle reads these to decide a push
// (rule 5) without sending a message to ask.

import { ServerWord, ThreadServerWord, ThreadWord } from './offsets.ts';
import type { SharedState } from './shared-state.ts';

export class Waits {
  private readonly i32: Int32Array;
  private readonly threads: number;
  private readonly maxServers: number;
  private readonly serverBase: number;
  private readonly serverStride: number;
  private readonly threadBase: number;
  private readonly threadStride: number;

  constructor(state: SharedState) {
    const L = state.layout;
    this.i32 = state.i32;
    this.threads = state.cfg.threads;
    this.maxServers = state.cfg.maxServers;
    this.serverBase = L.serverBase;
    this.serverStride = L.serverStride;
    this.threadBase = L.threadBase;
    this.threadStride = L.threadStride;
  }

  /**
   * `thread` (the caller) has `waiting` requests queued for `server`, the oldest since `since`
   * (nowMs(); 0 = none). The gauges are written first and the bitmap bit last, so a reader that
   * sees the bit finds the timestamp; the shared bitmap word is touched only when the bit flips.
   */
  publish(thread: number, server: number, waiting: number, since: number): void {
    const g = this.gauges(thread, server);
    Atomics.store(this.i32, g + ThreadServerWord.QUEUE, waiting);
    Atomics.store(this.i32, g + ThreadServerWord.OLDEST_WAITER, waiting > 0 ? since : 0);
    const word = this.serverBase + server * this.serverStride + ServerWord.WAITERS + (thread >> 5);
    const bit = 1 << (thread & 31);
    const isSet = (Atomics.load(this.i32, word) & bit) !== 0;
    if (waiting > 0 && !isSet) Atomics.or(this.i32, word, bit);
    else if (waiting <= 0 && isSet) Atomics.and(this.i32, word, ~bit);
  }

  /** Some thread other than `except` has requests queued for `server`. */
  anyWaiting(server: number, except = -1): boolean {
    const w = this.serverBase + this.checkServer(server) * this.serverStride + ServerWord.WAITERS;
    let lo = Atomics.load(this.i32, w);
    let hi = Atomics.load(this.i32, w + 1);
    if (except >= 0 && except < 32) lo &= ~(1 << except);
    else if (except >= 32) hi &= ~(1 << (except - 32));
    return (lo | hi) !== 0;
  }

  isWaiting(thread: number, server: number): boolean {
    const w = this.serverBase + this.checkServer(server) * this.serverStride + ServerWord.WAITERS;
    return (Atomics.load(this.i32, w + (thread >> 5)) & (1 << (thread & 31))) !== 0;
  }

  /** nowMs() at which `thread`'s oldest waiter for `server` started waiting; 0 = none. */
  oldestSince(thread: number, server: number): number {
    return Atomics.load(this.i32, this.gauges(thread, server) + ThreadServerWord.OLDEST_WAITER);
  }

  queueLength(thread: number, server: number): number {
    return Atomics.load(this.i32, this.gauges(thread, server) + ThreadServerWord.QUEUE);
  }

  /**
   * The thread other than `except` whose oldest waiter for `server` has waited longest, or -1.
   * With `olderThan` !== 0, only a waiter that started before that nowMs() counts (the
   * starvation bound). Walks only the threads whose bitmap bit is set.
   */
  oldestWaiter(server: number, except = -1, olderThan = 0): number {
    const w = this.serverBase + this.checkServer(server) * this.serverStride + ServerWord.WAITERS;
    let best = -1;
    let bestSince = 0;
    for (let word = 0; word < 2; word++) {
      let bits = Atomics.load(this.i32, w + word);
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        const t = word * 32 + (31 - Math.clz32(low));
        if (t === except || t >= this.threads) continue;
        const since = this.oldestSince(t, server);
        if (since === 0 || (olderThan !== 0 && ((since - olderThan) | 0) >= 0)) continue;
        if (best < 0 || ((since - bestSince) | 0) < 0) {
          best = t;
          bestSince = since;
        }
      }
    }
    return best;
  }

  private gauges(thread: number, server: number): number {
    if (thread >>> 0 >= this.threads) throw new RangeError(`no worker thread ${thread}`);
    return (
      this.threadBase +
      thread * this.threadStride +
      ThreadWord.SERVERS +
      this.checkServer(server) * ThreadServerWord.SIZE
    );
  }

  private checkServer(server: number): number {
    if (server >>> 0 >= this.maxServers) throw new RangeError(`no server ${server}`);
    return server;
  }
}
