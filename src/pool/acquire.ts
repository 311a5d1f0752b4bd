// The policy: which connection serves a request (DESIGN.md §5), and where a connection goes when
// its request ends. In order: own idle list (safe list first) → a new connection while under the
// server's global cap → take over another thread's idle connection → wait in the queue.
// On release: a request elsewhere that waited past the starvation bound, else our own oldest
// waiter, else any other thread's waiter (push, rule 5), else our idle list.

import { PoolError, PoolErrorCode } from '../errors.ts';
import { FcgiConnection } from '../fcgi/connection.ts';
import { LockSite } from '../shm/lock.ts';
import { ServerState } from '../shm/server-counters.ts';
import { ListKind } from '../shm/slots.ts';
import type { PeerMessage } from '../worker/messages.ts';
import type { PoolThread } from './pool-thread.ts';
import type { ServerPool } from './server-pool.ts';
import { push, steal } from './takeover.ts';
import { Tasklet } from './tasklet.ts';
import type { Waiter } from './wait-queue.ts';

function usable(pt: PoolThread, server: number): ServerPool {
  const sp = pt.servers[server];
  if (sp === undefined) throw new PoolError(PoolErrorCode.NO_SERVER, `no server with index ${server}`);
  if (pt.closed) throw new PoolError(PoolErrorCode.CLOSED, 'the pool is shutting down');
  if (pt.shm.counters.state(server) !== ServerState.READY) {
    throw new PoolError(PoolErrorCode.SERVER_DOWN, `server ${sp.settings.name} is not accepting requests`);
  }
  return sp;
}

/** Pops a connection from this thread's own idle lists under its lock, or -1. */
function popOwn(pt: PoolThread, sp: ServerPool, anyList: boolean): number {
  const { lists, lock } = pt.shm;
  const me = pt.thread;
  if (lists.count(me, sp.index, ListKind.SAFE) + lists.count(me, sp.index, ListKind.IDLE) === 0) return -1;
  lock.lock(me, LockSite.attach);
  let slot = lists.popHead(me, sp.index, ListKind.SAFE);
  if (slot < 0 && anyList) slot = lists.popHead(me, sp.index, ListKind.IDLE);
  lock.unlock(me);
  // idle since before the backend's recycle point was learned: its close is on its way
  if (slot >= 0 && sp.spent(pt.shm.slots.requests(slot))) {
    pt.tasklets.get(slot)?.conn.destroy();
    return popOwn(pt, sp, anyList);
  }
  return slot;
}

/**
 * The hot path: a connection from this thread's own idle list, with no message to another
 * thread and no lock but the brief idle-list one. Null when the request has to wait.
 * `retryable`: the request can be retried if a reused connection fails (reuse `safe` only gives
 * never-proven connections to such requests).
 */
export function tryAcquire(pt: PoolThread, server: number, retryable: boolean): Tasklet | null {
  const sp = usable(pt, server);
  // FIFO: a request never overtakes this thread's waiters
  if (sp.waiting > 0 || sp.settings.reuse === 'never') return null;
  const slot = popOwn(pt, sp, sp.settings.reuse === 'always' || retryable);
  if (slot < 0) return null;
  const t = pt.tasklets.get(slot)!;
  pt.attach(t);
  pt.shm.counters.addReuse(server);
  return t;
}

/** Where a queued request learns its fate: a connection, or why there is none. */
export type LeaseCallback = (t: Tasklet | null, err: Error | null) => void;

/**
 * The slow path: queue the request and try to get a connection for the queue. `cb` runs once,
 * never before this call returns (as a promise's continuation would, without a promise per
 * queued request: under a capacity-bound load every request comes this way).
 */
export function acquireSlow(pt: PoolThread, server: number, cb: LeaseCallback): void {
  const sp = usable(pt, server);
  if (sp.waiting >= pt.options.maxQueue) {
    const err = new PoolError(
      PoolErrorCode.QUEUE_FULL,
      `queue of ${sp.settings.name} is full (${sp.waiting} waiting)`,
    );
    queueMicrotask(() => cb(null, err));
    return;
  }
  const timeoutMs = pt.options.queueTimeoutMs;
  const w: Waiter<Tasklet> = {
    since: pt.shm.nowMs(),
    done: false,
    settle(t, err) {
      clearTimeout(timer);
      queueMicrotask(() => cb(t, err));
    },
  };
  const timer = setTimeout(() => {
    if (w.done) return;
    w.done = true;
    sp.waiting--;
    pt.publishQueue(sp);
    cb(
      null,
      new PoolError(
        PoolErrorCode.QUEUE_TIMEOUT,
        `no connection to ${sp.settings.name} within ${timeoutMs} ms (${sp.settings.maxConnections} max, all busy)`,
      ),
    );
  }, timeoutMs);
  sp.queue.push(w);
  sp.waiting++;
  pt.publishQueue(sp);
  kick(pt, sp);
}

/** Connections on their way to this thread's queue: being opened or being handed over. */
function inbound(sp: ServerPool): number {
  return sp.opening + sp.adopting;
}

/**
 * Gets connections for this thread's waiters until each has one on its way: own idle list,
 * then a new connection under the global cap, then a takeover. The queue keeps the rest.
 */
export function kick(pt: PoolThread, sp: ServerPool): void {
  while (sp.waiting > inbound(sp) && !pt.closed) {
    if (sp.settings.reuse !== 'never') {
      const slot = popOwn(pt, sp, true);
      if (slot >= 0) {
        const t = pt.tasklets.get(slot)!;
        pt.shm.counters.addReuse(sp.index);
        serveWaiter(pt, sp, t);
        continue;
      }
    }
    if (pt.shm.counters.tryReserve(sp.index)) {
      openNew(pt, sp);
      continue;
    }
    if (sp.canMove && steal(pt, sp)) continue;
    // a connection that cannot move (Unix socket) idle on another thread: ask for its capacity
    if (!sp.canMove) askForCapacity(pt, sp);
    break;
  }
}

/** Gives a connection to this thread's oldest waiter; false if nobody waits any more. */
export function serveWaiter(pt: PoolThread, sp: ServerPool, t: Tasklet): boolean {
  const w = sp.queue.shift();
  if (w === undefined) return false;
  w.done = true;
  sp.waiting--;
  pt.publishQueue(sp);
  pt.attach(t);
  w.settle(t, null);
  return true;
}

/**
 * Opens a connection (its capacity already reserved). It goes to this thread's queue, or, with
 * `forOne`, to that one caller only (a retry that must not meet a kept connection).
 */
function openNew(pt: PoolThread, sp: ServerPool, forOne?: LeaseCallback): void {
  const { slots, counters } = pt.shm;
  const slot = slots.allocSlot(pt.thread, sp.index);
  if (slot < 0) {
    // more connections than slots: configuration leaves headroom, so this is a bug to surface
    counters.release(sp.index);
    const err = new PoolError(PoolErrorCode.QUEUE_FULL, 'no free connection slot');
    if (forOne) queueMicrotask(() => forOne(null, err));
    else failOldest(sp, pt, err);
    return;
  }
  sp.opening++;
  pt.connector(sp.settings.address, sp.settings.connectTimeoutMs).then(
    (socket) => {
      sp.opening--;
      counters.addOpened(sp.index);
      const conn = new FcgiConnection(socket, { id: slots.connId(slot) });
      slots.setLocalAddress(slot, socket.localAddress, socket.localPort);
      const t = new Tasklet(pt, slot, slots.gen(slot), sp.index, conn);
      conn.onClose = () => pt.onConnClose(t);
      pt.tasklets.set(slot, t);
      if (pt.closed) {
        conn.destroy();
        forOne?.(null, new PoolError(PoolErrorCode.CLOSED, 'the pool is shutting down'));
      } else if (forOne) {
        pt.attach(t);
        forOne(t, null);
      } else deliver(pt, sp, t, false);
    },
    (err: Error) => {
      sp.opening--;
      slots.closeSlot(slot);
      // one failed connect fails one request with the reason (502), the others try again
      if (forOne) forOne(null, err);
      else failOldest(sp, pt, err);
      if (sp.waiting > 0) kick(pt, sp);
    },
  );
}

/** Opens a connection for this thread's queue with a reservation it already holds. */
export function openReserved(pt: PoolThread, sp: ServerPool): void {
  openNew(pt, sp);
}

/**
 * A connection no request has used yet, for the retry of a request whose kept connection the
 * backend closed under it: php-fpm accepts a new connection only in a child that can serve it,
 * while another kept connection may be closing too (children recycled at the same moment).
 * Makes room by closing one of this thread's idle connections; at capacity with none, it waits
 * in the queue like any request.
 */
export function acquireFresh(pt: PoolThread, server: number, cb: LeaseCallback): void {
  const sp = usable(pt, server);
  const { counters } = pt.shm;
  const open = () => {
    if (!counters.tryReserve(server)) return false;
    openNew(pt, sp, cb);
    return true;
  };
  if (open()) return;
  const slot = popOwn(pt, sp, true);
  if (slot >= 0) {
    pt.tasklets.get(slot)?.conn.destroy();
    if (open()) return;
  }
  acquireSlow(pt, server, cb);
}

function askForCapacity(pt: PoolThread, sp: ServerPool): void {
  const { lists } = pt.shm;
  for (let th = 0; th < pt.shm.cfg.threads; th++) {
    if (th === pt.thread) continue;
    if (lists.count(th, sp.index, ListKind.SAFE) + lists.count(th, sp.index, ListKind.IDLE) === 0) continue;
    pt.peers[th]?.postMessage({ t: 'want', server: sp.index, from: pt.thread } satisfies PeerMessage);
    return;
  }
}

/** Another thread asks for the capacity of one of our idle connections it cannot take over. */
export function onWant(pt: PoolThread, server: number, from: number): void {
  const sp = pt.servers[server];
  if (sp === undefined) return;
  const slot = popOwn(pt, sp, true);
  if (slot < 0) return;
  const t = pt.tasklets.get(slot)!;
  if (!giveCapacity(pt, t, from)) t.conn.destroy();
}

/**
 * A Unix-domain connection cannot move between threads, so its capacity does: it is closed here
 * and its reservation handed to the waiting thread, which opens its own connection with it (no
 * other thread can take that capacity in between).
 */
function giveCapacity(pt: PoolThread, t: Tasklet, target: number): boolean {
  const port = pt.peers[target];
  if (port == null) return false;
  t.gone = true; // closing it must not release the capacity: it travels with the message
  pt.tasklets.delete(t.slot);
  t.conn.destroy();
  pt.shm.slots.freeSlot(t.slot, t.gen);
  port.postMessage({ t: 'capacity', server: t.server, reserved: true } satisfies PeerMessage);
  return true;
}

function failOldest(sp: ServerPool, pt: PoolThread, err: Error): void {
  const w = sp.queue.shift();
  if (w === undefined) return;
  w.done = true;
  sp.waiting--;
  pt.publishQueue(sp);
  w.settle(null, err);
}

/**
 * A connection arrived for this thread (new, or handed over): our oldest waiter gets it, else it
 * goes to our idle list (IDLE: not proven on this thread yet). Never pushed on again here, so a
 * connection cannot ping-pong between threads.
 */
export function deliver(pt: PoolThread, sp: ServerPool, t: Tasklet, listOnly: boolean): void {
  // handed over by a thread that had not seen the backend's recycle point yet
  if (sp.spent(pt.shm.slots.requests(t.slot))) {
    t.conn.destroy();
    return;
  }
  if (!listOnly && sp.waiting > 0 && serveWaiter(pt, sp, t)) return;
  if (sp.settings.reuse === 'never' || !pt.detach(t, sp, ListKind.IDLE)) t.conn.destroy();
}

/**
 * This thread holds more connections to `sp` than its share of the cap (cap ÷ threads, rounded
 * down). Only then does a starving request elsewhere get one pushed: a thread below its share
 * must not starve (with a cap of 1 the connection goes round), but two saturated threads at
 * their share would only trade connections back and forth, each move a hand-off (DESIGN.md §8).
 */
function aboveShare(pt: PoolThread, sp: ServerPool): boolean {
  const share = Math.floor(pt.shm.counters.maxConnections(sp.index) / pt.shm.cfg.threads);
  let mine = 0;
  for (const t of pt.tasklets.values()) if (t.server === sp.index && ++mine > share) return true;
  return false;
}

/**
 * The request on `t` ended. `reusable`: it completed cleanly and the connection may serve again.
 */
export function release(pt: PoolThread, t: Tasklet, reusable: boolean): void {
  const sp = pt.servers[t.server];
  const { slots, counters } = pt.shm;
  pt.unbusy(t);
  // when the last answer ended, also for a connection handed straight to a waiter: a close
  // soon after it is the backend recycling (see run-request's quick reuse)
  slots.setIdleSince(t.slot, pt.shm.nowMs());
  if (
    sp === undefined ||
    !reusable ||
    pt.closed ||
    t.conn.closed ||
    !t.conn.reusable ||
    sp.settings.reuse === 'never' ||
    counters.state(t.server) !== ServerState.READY ||
    // the cap was lowered (fewer replicas share the backend now): give connections back
    counters.curConns(t.server) > counters.maxConnections(t.server) ||
    sp.spent(slots.requests(t.slot))
  ) {
    t.conn.destroy(); // onConnClose frees the slot and hands the capacity on
    return;
  }
  const now = pt.shm.nowMs();
  // a request elsewhere waited past the bound and longer than ours: it goes first (no starvation)
  const head = sp.waiting > 0 ? sp.queue.peek() : undefined;
  const bound = now - pt.options.starvationBoundMs;
  const olderThan = head === undefined ? -1 : head.since - bound < 0 ? head.since : bound;
  const target = pt.oldestWaiterThread(sp.index, olderThan);
  if (target >= 0 && aboveShare(pt, sp)) {
    if (sp.canMove && push(pt, sp, t, target)) return;
    if (!sp.canMove && giveCapacity(pt, t, target)) return;
  }
  if (head !== undefined && serveWaiter(pt, sp, t)) {
    counters.addReuse(sp.index);
    return;
  }
  if (!pt.detach(t, sp, ListKind.SAFE)) {
    t.conn.destroy();
    return;
  }
  // lost wake-up: a thread may have queued between our check and the insertion; it may have
  // found nothing to steal, so take the connection back and push it there (or, for a Unix
  // socket, close it so that thread can open one). Not when we are at or below our share: then
  // that thread holds its share (or may open one) and its own connections will serve it.
  const late = pt.oldestWaiterThread(sp.index, -1);
  if (late >= 0 && aboveShare(pt, sp)) {
    const { lock, lists } = pt.shm;
    lock.lock(pt.thread, LockSite.detach);
    const was = lists.remove(t.slot);
    lock.unlock(pt.thread);
    if (was === ListKind.NONE) return;
    if (!sp.canMove) {
      if (!giveCapacity(pt, t, late)) t.conn.destroy();
    } else if (!push(pt, sp, t, late)) pt.detach(t, sp, was);
  }
}
