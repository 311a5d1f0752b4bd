// One worker thread's backend pools: attach/detach of connections, the I/O wake-up handler with
// the USR1 fast path, connection close and capacity accounting. Getting a connection for a
// request is in acquire.ts; moving connections between threads in takeover.ts.
//
// Invariants kept here (DESIGN.md §4):
// - a tasklet without USR1 is in no idle list and cannot be stolen: its wake-ups take no lock;
// - USR1 is set before a connection is inserted into an idle list, cleared on attach, and only
//   by the thread that holds the connection's handle;
// - idle-list insertion/removal and the stolen check happen under this thread's lock.
import type { MessagePort } from 'node:worker_threads';
import type { WakeKind } from '../fcgi/connection.ts';
import { LockSite } from '../shm/lock.ts';
import type { SharedState } from '../shm/shared-state.ts';
import { ListKind } from '../shm/slots.ts';
import type { TransferableTcpHandle } from '../worker/handle-transfer.ts';
import { kick } from './acquire.ts';
import type { Connector } from './connector.ts';
import { connectSocket } from './connector.ts';
import type { ServerPool } from './server-pool.ts';
import { handOver } from './takeover.ts';
import type { Tasklet } from './tasklet.ts';

/** A backend close this soon after the last response is a recycle (pm.max_requests), not a timeout. */
export const RECYCLE_WINDOW_MS = 50;

/** The pool's tuning, the same for every thread (from the configuration's `pool` and `fastPath`). */
export interface PoolSettings {
  /** false: every wake-up takes the lock (HAProxy before the patch), to measure the difference. */
  fastPath: boolean;
  /** A request that waited longer than this is served before younger ones on other threads. */
  starvationBoundMs: number;
  /** No stealing while the server has fewer idle connections than this (HAProxy pool-low-conn). */
  lowIdleNoSteal: number;
  handoffTimeoutMs: number;
  queueTimeoutMs: number;
  maxQueue: number;
  /** How often idle lists are scanned for connections idle longer than their purge delay. */
  purgeIntervalMs: number;
}

export interface PoolThreadOptions extends PoolSettings {
  thread: number;
  shm: SharedState;
  connector?: Connector;
}

/** A hand-off this thread is waiting for (it stole `slot`, or asked for it over the control plane). */
export interface PendingAdopt {
  server: number;
  /** When the thief decided (timeOrigin + now, ms): the hand-off latency starts here. */
  since: number;
  timer: NodeJS.Timeout | null;
  timedOut: boolean;
  /** Set by a control-plane takeover: list the connection instead of serving a waiter. */
  onArrive: ((slot: number, ok: boolean) => void) | null;
}

export class PoolThread {
  readonly thread: number;
  readonly shm: SharedState;
  readonly fastPath: boolean;
  readonly options: PoolThreadOptions;
  readonly connector: Connector;
  readonly servers: Array<ServerPool | undefined> = [];
  /** This thread's tasklets, by slot: the connections whose handle it holds. */
  readonly tasklets = new Map<number, Tasklet>();
  readonly pending = new Map<number, PendingAdopt>();
  /** Ports to the other workers, by thread id (null for this thread or a dead one). */
  readonly peers: Array<MessagePort | null> = [];
  /** Takes a client connection another thread moved here (set by the HTTP gateway). */
  clientAdopter: ((handle: TransferableTcpHandle) => void) | null = null;
  closed = false;

  constructor(options: PoolThreadOptions) {
    this.options = options;
    this.thread = options.thread;
    this.shm = options.shm;
    this.fastPath = options.fastPath;
    this.connector = options.connector ?? connectSocket;
  }

  // ---- the I/O wake-up handler (fcgi_io_cb) ----

  onWake(t: Tasklet, kind: WakeKind): boolean {
    if (t.gone) return false;
    const { slots, lists, lock, stats } = this.shm;
    const slot = t.slot;
    if (this.fastPath && !slots.hasUsr1(slot)) {
      // certain the connection is in no idle list and was not stolen
      stats.usr1Fast(this.thread);
      return true;
    }
    lock.lock(this.thread, LockSite.wake);
    stats.locked(this.thread);
    if (!slots.isCurrent(slot, t.gen)) {
      // the slot was reclaimed under us (its thief died): the connection is no longer accounted
      lock.unlock(this.thread);
      t.gone = true;
      this.tasklets.delete(slot);
      t.conn.destroy();
      return false;
    }
    if (slots.isStolen(slot)) {
      // context NULL: a thief claimed it; we only release our local objects
      handOver(this, t, kind);
      lock.unlock(this.thread);
      return false;
    }
    const was = lists.remove(slot);
    if (
      was !== ListKind.NONE &&
      kind === 'end' &&
      this.shm.nowMs() - slots.idleSince(slot) <= RECYCLE_WINDOW_MS
    ) {
      // closed right after a response: the backend recycles connections after that many requests
      this.servers[t.server]?.noteRecycle(slots.requests(slot));
    }
    if (was !== ListKind.NONE && kind === 'drain') {
      // nothing to process for an idle connection: it stays idle, so it goes back
      lists.insert(this.thread, t.server, slot, was, this.shm.nowMs());
    }
    lock.unlock(this.thread);
    // data on an idle connection is a protocol error and end/error/close end it: the connection
    // closes itself and onClose frees the slot
    return true;
  }

  // ---- attach / detach ----

  /** A request is attached: the connection is busy, so its wake-ups may skip the lock again. */
  attach(t: Tasklet): void {
    this.shm.slots.clearUsr1(t.slot);
    this.shm.slots.bumpRequests(t.slot);
    this.shm.stats.request(this.thread);
    this.shm.stats.addUsed(this.thread, t.server, 1);
    t.uses++;
    t.busy = true;
  }

  /** The request on `t` is over (ended, failed or cut off): it no longer counts as used. */
  unbusy(t: Tasklet): void {
    if (!t.busy) return;
    t.busy = false;
    this.shm.stats.addUsed(this.thread, t.server, -1);
  }

  /**
   * The connection goes idle: USR1 first, then the insertion (after it another thread may
   * already have stolen it). Returns false when refused (over maxIdle): the caller closes it.
   */
  detach(t: Tasklet, sp: ServerPool, kind: number): boolean {
    const { slots, lists, lock } = this.shm;
    slots.setUsr1(t.slot);
    lock.lock(this.thread, LockSite.detach);
    const ok = this.idleCount(sp.index) < sp.settings.maxIdle;
    if (ok) lists.insert(this.thread, sp.index, t.slot, kind, this.shm.nowMs());
    lock.unlock(this.thread);
    return ok;
  }

  /** Idle connections of a server across all threads (a hint: read without the locks). */
  idleCount(server: number): number {
    const { lists } = this.shm;
    let n = 0;
    for (let th = 0; th < this.shm.cfg.threads; th++) {
      n += lists.count(th, server, ListKind.IDLE) + lists.count(th, server, ListKind.SAFE);
    }
    return n;
  }

  // ---- closing ----

  /** FcgiConnection.onClose: free the slot and give the capacity to whoever waits. */
  onConnClose(t: Tasklet): void {
    if (t.gone) return; // handed over: the slot is not ours to free
    this.unbusy(t);
    t.gone = true;
    this.tasklets.delete(t.slot);
    const { slots, lists, lock } = this.shm;
    if (slots.hasUsr1(t.slot)) {
      // a listed connection closing outside a wake-up (destroyed by us): unlist it like a purge
      lock.lock(this.thread, LockSite.purge);
      if (slots.list(t.slot) !== ListKind.NONE && slots.isCurrent(t.slot, t.gen)) lists.remove(t.slot);
      lock.unlock(this.thread);
    }
    // false when the supervisor reclaimed the slot meanwhile: nothing left to free
    slots.closeSlot(t.slot, t.gen);
    const sp = this.servers[t.server];
    if (sp) this.capacityFreed(sp);
  }

  /** A connection slot of `sp` was freed: our waiters first, else the thread waiting longest. */
  capacityFreed(sp: ServerPool): void {
    if (sp.waiting > 0) {
      kick(this, sp);
      return;
    }
    const target = this.oldestWaiterThread(sp.index, -1);
    if (target >= 0) this.peers[target]?.postMessage({ t: 'capacity', server: sp.index });
  }

  /**
   * The other thread with the oldest waiter for `server`, or -1. With `olderThan` >= 0 only a
   * waiter that started before that shared-clock time counts.
   */
  oldestWaiterThread(server: number, olderThan: number): number {
    const { waits } = this.shm;
    if (!waits.anyWaiting(server, this.thread)) return -1;
    let best = -1;
    let bestSince = 0;
    for (let th = 0; th < this.shm.cfg.threads; th++) {
      if (th === this.thread) continue;
      const since = waits.oldestSince(th, server);
      if (since === 0) continue;
      if (olderThan >= 0 && since - olderThan >= 0) continue;
      if (best < 0 || since - bestSince < 0) {
        best = th;
        bestSince = since;
      }
    }
    return best;
  }

  /** Publishes this thread's queue of `sp` in shared memory, for pushes and metrics. */
  publishQueue(sp: ServerPool): void {
    const head = sp.waiting > 0 ? sp.queue.peek() : undefined;
    this.shm.waits.publish(this.thread, sp.index, sp.waiting, head ? head.since : 0);
  }
}
