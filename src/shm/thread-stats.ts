// Per-thread statistics, each written only by its own thread (callers pass their own id) and
// read by the main thread at scrape time: metrics cost no messages (DESIGN §3). Above all the
// wake-up split of the USR1 patch — usr1Fast (no lock) vs locked — which shows the fast path at
// work; then takeovers, hand-off latency, and the per-server gauges the pool publishes.

import { type TakeoverOutcome, ThreadServerWord, ThreadWord } from './offsets.ts';
import type { SharedState } from './shared-state.ts';

export { TakeoverOutcome } from './offsets.ts';

export class ThreadStats {
  private readonly i32: Int32Array;
  private readonly threads: number;
  private readonly maxServers: number;
  private readonly base: number;
  private readonly stride: number;

  constructor(state: SharedState) {
    this.i32 = state.i32;
    this.threads = state.cfg.threads;
    this.maxServers = state.cfg.maxServers;
    this.base = state.layout.threadBase;
    this.stride = state.layout.threadStride;
  }

  /** A backend I/O wake-up that skipped the lock (no USR1). */
  usr1Fast(thread: number): void {
    Atomics.add(this.i32, this.at(thread) + ThreadWord.USR1_FAST, 1);
  }
  /** A backend I/O wake-up that took the lock. */
  locked(thread: number): void {
    Atomics.add(this.i32, this.at(thread) + ThreadWord.LOCKED, 1);
  }
  request(thread: number): void {
    Atomics.add(this.i32, this.at(thread) + ThreadWord.REQUESTS, 1);
  }
  /** A hand-off adopted `ms` (shared clock) after the steal or push that started it. */
  handoffLatency(thread: number, ms: number): void {
    const b = this.at(thread);
    Atomics.add(this.i32, b + ThreadWord.HANDOFFS, 1);
    Atomics.add(this.i32, b + ThreadWord.HANDOFF_MS, ms > 0 ? ms | 0 : 0);
  }
  /** A takeover attempt by this thread (pull) and its outcome. */
  takeover(thread: number, server: number, outcome: TakeoverOutcome): void {
    Atomics.add(this.i32, this.atServer(thread, server) + ThreadServerWord.TAKEOVER + (outcome & 3), 1);
  }
  /** A connection this thread handed straight to a waiting thread (push). */
  pushed(thread: number, server: number): void {
    Atomics.add(this.i32, this.atServer(thread, server) + ThreadServerWord.PUSHED, 1);
  }
  purged(thread: number, server: number, n = 1): void {
    Atomics.add(this.i32, this.atServer(thread, server) + ThreadServerWord.PURGED, n);
  }
  /** Gauge: connections of `server` attached to a request on this thread. */
  setUsed(thread: number, server: number, n: number): void {
    Atomics.store(this.i32, this.atServer(thread, server) + ThreadServerWord.USED, n);
  }
  addUsed(thread: number, server: number, delta: number): void {
    Atomics.add(this.i32, this.atServer(thread, server) + ThreadServerWord.USED, delta);
  }

  private at(thread: number): number {
    // Any id up to `threads` (the main thread's): a stray one would write another thread's line.
    if (thread >>> 0 > this.threads) throw new RangeError(`no thread ${thread}`);
    return this.base + thread * this.stride;
  }

  private atServer(thread: number, server: number): number {
    if (server >>> 0 >= this.maxServers) throw new RangeError(`no server ${server}`);
    return this.at(thread) + ThreadWord.SERVERS + server * ThreadServerWord.SIZE;
  }
}
