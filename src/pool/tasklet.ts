// The owner thread's handler state for one backend connection (HAProxy's fcgi_conn tasklet).
// Its `wake()` runs first on every socket event of the connection and implements the USR1
// fast path of shared/reference/haproxy-usr1-fastpath.patch:
//   - USR1 clear: the connection cannot be in an idle list nor stolen, so no lock (usr1_fast);
//   - USR1 set: take this thread's takeover lock (locked), then either hand the connection over
//     (a thief marked it stolen: we only release local objects) or take it out of its idle list.
import type { FcgiConnection, WakeKind } from '../fcgi/connection.ts';
import type { PoolThread } from './pool-thread.ts';

export class Tasklet {
  readonly slot: number;
  /** Slot generation this tasklet was created for: a wake message naming another one is stale. */
  readonly gen: number;
  readonly server: number;
  readonly conn: FcgiConnection;
  readonly #thread: PoolThread;
  /** Requests this thread attached since it got the connection (0 = fresh or just adopted). */
  uses = 0;
  /** A request is attached (counted in the `used` gauge). */
  busy = false;
  /** Set once handed over or closed: the connection is no longer ours. */
  gone = false;

  constructor(thread: PoolThread, slot: number, gen: number, server: number, conn: FcgiConnection) {
    this.#thread = thread;
    this.slot = slot;
    this.gen = gen;
    this.server = server;
    this.conn = conn;
    conn.tasklet = this;
  }

  /** Returns false when the connection was handed to another thread: ignore the event. */
  wake(kind: WakeKind): boolean {
    return this.#thread.onWake(this, kind);
  }
}
