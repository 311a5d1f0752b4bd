// Per-thread statistics, each written only by its own thread (callers pass their own id) and
// read by the main thread at scrape time: metrics cost no messages (DESIGN §3). Above all the
// wake-up split of the USR1 patch — usr1Fast (no lock) vs locked — which shows the fast path at
// work; then takeovers, hand-off latency, and the per-server gauges the pool publishes.

import {
  HANDOFF_BUCKETS_S,
  HistWord,
  REQUEST_BUCKETS_S,
  RequestWord,
  STATUS_CODE_NAMES,
  type TakeoverOutcome,
  ThreadServerWord,
  ThreadWord,
} from './offsets.ts';
import type { SharedState } from './shared-state.ts';

export { TakeoverOutcome } from './offsets.ts';

/** Bucket upper bounds in microseconds, for the integer comparisons of the hot path. */
const REQUEST_BOUNDS_US = Float64Array.from(REQUEST_BUCKETS_S, (s) => s * 1e6);
const HANDOFF_BOUNDS_US = Float64Array.from(HANDOFF_BUCKETS_S, (s) => s * 1e6);

/** HTTP status → index in STATUS_CODE_NAMES: the status itself when listed, else its class. */
const CODE_INDEX = ((): Uint8Array => {
  const names: readonly string[] = STATUS_CODE_NAMES;
  const table = new Uint8Array(600).fill(names.indexOf('5xx'));
  for (let status = 100; status < 600; status++) {
    const exact = names.indexOf(String(status));
    table[status] = exact >= 0 ? exact : names.indexOf(`${Math.floor(status / 100)}xx`);
  }
  return table;
})();

/** The `code` label a status is counted under (fcgipool_requests_total). */
export function statusCodeLabel(status: number): (typeof STATUS_CODE_NAMES)[number] {
  return STATUS_CODE_NAMES[CODE_INDEX[status >= 100 && status < 600 ? status | 0 : 0]];
}

function bucketOf(bounds: Float64Array, value: number): number {
  let i = 0;
  while (i < bounds.length && value > bounds[i]) i++;
  return i;
}

export class ThreadStats {
  private readonly i32: Int32Array;
  private readonly i64: BigInt64Array;
  private readonly histBase: number;
  private readonly histStride: number;
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
    this.i64 = state.i64;
    this.histBase = state.layout.histBase;
    this.histStride = state.layout.histStride;
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
  /**
   * A hand-off adopted `ms` after the steal or push that started it (shared clock, so whole
   * milliseconds today; a fractional value is kept to the microsecond in the histogram's sum).
   */
  handoffLatency(thread: number, ms: number): void {
    const b = this.at(thread);
    const us = ms > 0 ? Math.round(ms * 1000) : 0;
    Atomics.add(this.i32, b + ThreadWord.HANDOFFS, 1);
    Atomics.add(this.i32, b + ThreadWord.HANDOFF_MS, ms > 0 ? ms | 0 : 0);
    const h = this.histBase + thread * this.histStride;
    Atomics.add(this.i32, h + HistWord.HANDOFF_BUCKETS + bucketOf(HANDOFF_BOUNDS_US, us), 1);
    Atomics.add(this.i64, (h + HistWord.HANDOFF_US) >> 1, BigInt(us));
  }
  /**
   * A request answered with HTTP `status` after `durationUs` µs, through `server` (the gateway
   * calls it once per request it sent to a backend; fcgipool_requests_total and
   * fcgipool_request_duration_seconds). A status outside 100..599 counts as "5xx".
   */
  requestDone(thread: number, server: number, status: number, durationUs: number): void {
    const b = this.atRequest(thread, server);
    const us = durationUs > 0 ? Math.round(durationUs) : 0;
    const code = CODE_INDEX[status >= 100 && status < 600 ? status | 0 : 0];
    Atomics.add(this.i32, b + RequestWord.CODES + code, 1);
    Atomics.add(this.i32, b + RequestWord.BUCKETS + bucketOf(REQUEST_BOUNDS_US, us), 1);
    Atomics.add(this.i64, (b + RequestWord.DURATION_US) >> 1, BigInt(us));
  }
  /**
   * A request the gateway answered itself with HTTP `status`, no backend asked (a refusal, a
   * static file, a request that did not parse): fcgipool_gateway_answers_total.
   */
  answered(thread: number, status: number): void {
    const code = CODE_INDEX[status >= 100 && status < 600 ? status | 0 : 0];
    Atomics.add(this.i32, this.at(thread) + ThreadWord.ANSWERED + code, 1);
  }
  /** Gauge: this thread's event-loop utilisation (0..1) over its last sample period. */
  eventLoopUtilization(thread: number, ratio: number): void {
    const ppm = ratio > 0 ? Math.min(1e6, Math.round(ratio * 1e6)) : 0;
    Atomics.store(this.i32, this.at(thread) + ThreadWord.ELU_PPM, ppm);
  }
  /** A client connection this thread's listener accepted (kept or moved). */
  clientAccepted(thread: number): void {
    Atomics.add(this.i32, this.at(thread) + ThreadWord.CLIENTS_ACCEPTED, 1);
  }
  /** An accepted client connection this thread moved to a less loaded thread. */
  clientMoved(thread: number): void {
    Atomics.add(this.i32, this.at(thread) + ThreadWord.CLIENTS_MOVED, 1);
  }
  /** Gauge: a client connection is served on this thread from now on / has closed. */
  clientOpened(thread: number): void {
    Atomics.add(this.i32, this.at(thread) + ThreadWord.CLIENTS, 1);
  }
  /** Returns the connections still open on `thread`. */
  clientClosed(thread: number): number {
    return Atomics.sub(this.i32, this.at(thread) + ThreadWord.CLIENTS, 1) - 1;
  }
  /** The client connections of a thread that died went with it, and its listener. */
  clearClients(thread: number): void {
    Atomics.store(this.i32, this.at(thread) + ThreadWord.CLIENTS, 0);
    Atomics.store(this.i32, this.at(thread) + ThreadWord.LISTENING, 0);
  }
  /** This thread's HTTP listener accepts (true) or has closed. */
  setListening(thread: number, on: boolean): void {
    Atomics.store(this.i32, this.at(thread) + ThreadWord.LISTENING, on ? 1 : 0);
  }
  listening(thread: number): boolean {
    return Atomics.load(this.i32, this.at(thread) + ThreadWord.LISTENING) === 1;
  }
  /** Gauge: client connections `thread` holds open (read by any thread). */
  clients(thread: number): number {
    return Atomics.load(this.i32, this.at(thread) + ThreadWord.CLIENTS);
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

  private atRequest(thread: number, server: number): number {
    if (thread >>> 0 > this.threads) throw new RangeError(`no thread ${thread}`);
    if (server >>> 0 >= this.maxServers) throw new RangeError(`no server ${server}`);
    return this.histBase + thread * this.histStride + HistWord.SERVERS + server * RequestWord.SIZE;
  }

  private atServer(thread: number, server: number): number {
    if (server >>> 0 >= this.maxServers) throw new RangeError(`no server ${server}`);
    return this.at(thread) + ThreadWord.SERVERS + server * ThreadServerWord.SIZE;
  }
}
