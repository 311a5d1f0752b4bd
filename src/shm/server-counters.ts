// Per-server shared words: the global connection cap (php-fpm's pm.max_children, all threads
// together), the server's state, and HAProxy's next_takeover. The opened/reuses counters are
// striped per thread (each thread writes its own line, no shared-line traffic per request) and
// summed on read.

import { ShmError, ShmErrorCode } from '../errors.ts';
import { ServerState, ServerWord, ThreadServerWord, ThreadWord } from './offsets.ts';
import type { SharedState } from './shared-state.ts';

export { ServerState } from './offsets.ts';

export class ServerCounters {
  private readonly i32: Int32Array;
  private readonly threads: number;
  private readonly maxServers: number;
  private readonly base: number;
  private readonly stride: number;
  private readonly threadBase: number;
  private readonly threadStride: number;
  /** This thread's own per-server counter blocks. */
  private readonly ownBase: number;

  /** `self`: the calling thread (its stripe receives addOpened/addReuse). */
  constructor(state: SharedState, self: number) {
    const L = state.layout;
    this.i32 = state.i32;
    this.threads = state.cfg.threads;
    this.maxServers = state.cfg.maxServers;
    this.base = L.serverBase;
    this.stride = L.serverStride;
    this.threadBase = L.threadBase;
    this.threadStride = L.threadStride;
    this.ownBase = L.threadBase + self * L.threadStride + ThreadWord.SERVERS;
  }

  /** Puts a server entry in service: its cap, and READY. */
  configure(server: number, maxConnections: number): void {
    this.setMaxConnections(server, maxConnections);
    Atomics.store(this.i32, this.at(server) + ServerWord.STATE, ServerState.READY);
  }

  /** Claims a FREE entry of the table for a server added at run time (left in MAINT); -1 if full. */
  claimServer(): number {
    for (let s = 0; s < this.maxServers; s++) {
      const idx = this.base + s * this.stride + ServerWord.STATE;
      if (Atomics.compareExchange(this.i32, idx, ServerState.FREE, ServerState.MAINT) === ServerState.FREE) {
        return s;
      }
    }
    return -1;
  }

  /**
   * Reserves one connection under the server's cap (a CAS loop while cur < max): true when the
   * caller may open a connection. Pair with release() when it closes or fails to open.
   */
  tryReserve(server: number): boolean {
    const b = this.at(server);
    for (;;) {
      const cur = Atomics.load(this.i32, b + ServerWord.CUR_CONNS);
      if (cur >= Atomics.load(this.i32, b + ServerWord.MAX_CONNS)) return false;
      if (Atomics.compareExchange(this.i32, b + ServerWord.CUR_CONNS, cur, cur + 1) === cur) return true;
    }
  }

  /** Gives back a reservation. Going below zero means a double release: a capacity bug. */
  release(server: number): void {
    const idx = this.at(server) + ServerWord.CUR_CONNS;
    if (Atomics.sub(this.i32, idx, 1) <= 0) {
      Atomics.add(this.i32, idx, 1);
      throw new ShmError(
        ShmErrorCode.BAD_SLOT_STATE,
        `server ${server}: capacity released more than reserved`,
      );
    }
  }

  curConns(server: number): number {
    return Atomics.load(this.i32, this.at(server) + ServerWord.CUR_CONNS);
  }
  maxConnections(server: number): number {
    return Atomics.load(this.i32, this.at(server) + ServerWord.MAX_CONNS);
  }
  /** Lowering the cap closes nothing: connections above it drain as they close. */
  setMaxConnections(server: number, max: number): void {
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`maxConnections must be >= 0, got ${max}`);
    Atomics.store(this.i32, this.at(server) + ServerWord.MAX_CONNS, max);
  }
  state(server: number): ServerState {
    return Atomics.load(this.i32, this.at(server) + ServerWord.STATE) as ServerState;
  }
  setState(server: number, state: ServerState): void {
    Atomics.store(this.i32, this.at(server) + ServerWord.STATE, state);
  }

  /** Counts a connection opened by the calling thread. */
  addOpened(server: number): void {
    Atomics.add(this.i32, this.own(server) + ThreadServerWord.OPENED, 1);
  }
  /** Counts a request served on an already used connection by the calling thread. */
  addReuse(server: number): void {
    Atomics.add(this.i32, this.own(server) + ThreadServerWord.REUSES, 1);
  }
  /** Connections opened, all threads (uint32 sum, wraps: stats-reader.ts extends it). */
  opened(server: number): number {
    return this.sum(server, ThreadServerWord.OPENED);
  }
  reuses(server: number): number {
    return this.sum(server, ThreadServerWord.REUSES);
  }

  /** Thread where the next takeover scan for this server starts. */
  nextTakeover(server: number): number {
    return Atomics.load(this.i32, this.at(server) + ServerWord.NEXT_TAKEOVER);
  }
  setNextTakeover(server: number, thread: number): void {
    Atomics.store(this.i32, this.at(server) + ServerWord.NEXT_TAKEOVER, thread % this.threads);
  }

  private sum(server: number, word: number): number {
    this.at(server);
    let n = 0;
    for (let t = 0; t <= this.threads; t++) {
      const idx = this.threadBase + t * this.threadStride + ThreadWord.SERVERS;
      n += Atomics.load(this.i32, idx + server * ThreadServerWord.SIZE + word) >>> 0;
    }
    return n % 2 ** 32;
  }

  private own(server: number): number {
    if (server >>> 0 >= this.maxServers) throw new RangeError(`no server ${server}`);
    return this.ownBase + server * ThreadServerWord.SIZE;
  }

  private at(server: number): number {
    if (server >>> 0 >= this.maxServers) throw new RangeError(`no server ${server}`);
    return this.base + server * this.stride;
  }
}
