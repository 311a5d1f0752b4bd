// Client connections spread evenly over the worker threads. Each thread listens on the HTTP
// port with reusePort and the kernel picks the listener by a hash of the client's address and
// port: with a few dozen long keep-alive connections (a load balancer, an ingress, a benchmark)
// one thread often holds half as many again as the other, and its clients then wait longer for
// the same share of the backend. So, as HAProxy's listeners hand each accepted connection to the
// least loaded thread, a thread that accepts a connection while holding BALANCE_MARGIN more than
// the least loaded thread moves it there before reading a byte of it. A move is one hand-off of
// the TCP handle (~0.1 ms, DESIGN.md §8), once per connection, never per request.

import type net from 'node:net';
import type { PoolThread } from '../pool/pool-thread.ts';
import {
  adoptHandle,
  detachHandle,
  handleTransferList,
  type TransferableTcpHandle,
} from '../worker/handle-transfer.ts';
import type { PeerMessage } from '../worker/messages.ts';

/** A connection moves when its thread would hold this many more than the least loaded one. */
export const BALANCE_MARGIN = 2;

export class ClientBalancer {
  readonly #pt: PoolThread;
  /** Serves a connection on this thread (it arrives paused; serve resumes it). */
  readonly #serve: (socket: net.Socket) => void;
  #closing = false;
  #onDrained: (() => void) | null = null;

  constructor(pt: PoolThread, serve: (socket: net.Socket) => void) {
    this.#pt = pt;
    this.#serve = serve;
    pt.clientAdopter = (handle) => this.#adopt(handle);
  }

  /** This thread's listener accepts: other threads may move connections here from now on. */
  listening(): void {
    this.#pt.shm.stats.setListening(this.#pt.thread, true);
  }

  /** The listener closes: no more moves from or to this thread (one already on its way is served). */
  close(): void {
    this.#closing = true;
    this.#pt.shm.stats.setListening(this.#pt.thread, false);
  }

  /** A connection this thread's listener accepted, not read from yet. */
  accepted(socket: net.Socket): void {
    const { thread, shm } = this.#pt;
    shm.stats.clientAccepted(thread);
    const target = this.#closing ? -1 : this.#lessLoaded();
    if (target >= 0 && this.#move(socket, target)) return;
    this.#keep(socket);
  }

  /** The other thread holding BALANCE_MARGIN fewer connections than this one would, or -1. */
  #lessLoaded(): number {
    const { thread, shm, peers } = this.#pt;
    const mine = shm.stats.clients(thread) + 1;
    let best = -1;
    let fewest = mine - BALANCE_MARGIN + 1;
    for (let th = 0; th < shm.cfg.threads; th++) {
      if (th === thread || peers[th] == null || !shm.stats.listening(th)) continue;
      const theirs = shm.stats.clients(th);
      if (theirs < fewest) {
        best = th;
        fewest = theirs;
      }
    }
    return best;
  }

  #move(socket: net.Socket, target: number): boolean {
    let handle: TransferableTcpHandle;
    try {
      handle = detachHandle(socket);
    } catch {
      return false; // already closed by the client: nothing to move
    }
    const msg: PeerMessage = { t: 'client', handle };
    try {
      this.#pt.peers[target]!.postMessage(msg, handleTransferList(handle));
    } catch {
      // it could not be posted (a DataCloneError): it stays here rather than being lost
      this.#keep(adoptHandle(handle, { allowHalfOpen: true }));
      return true;
    }
    this.#pt.shm.stats.clientMoved(this.#pt.thread);
    return true;
  }

  #adopt(handle: TransferableTcpHandle): void {
    // also while closing: it was accepted before the other thread closed, and its requests are
    // answered like those under way here, with Connection: close
    this.#keep(adoptHandle(handle, { allowHalfOpen: true }));
  }

  /**
   * Calls `cb` once no connection is served on this thread any more. A listener's close waits
   * only for the connections it accepted itself, not for those moved here.
   */
  drained(cb: () => void): void {
    if (this.#pt.shm.stats.clients(this.#pt.thread) === 0) cb();
    else this.#onDrained = cb;
  }

  /** Serves a connection here; this thread's client gauge counts it while it is open. */
  #keep(socket: net.Socket): void {
    const { thread, shm } = this.#pt;
    shm.stats.clientOpened(thread);
    socket.once('close', () => {
      if (shm.stats.clientClosed(thread) === 0 && this.#onDrained !== null) {
        const cb = this.#onDrained;
        this.#onDrained = null;
        cb();
      }
    });
    this.#serve(socket);
  }
}
