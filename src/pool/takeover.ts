// Moving a backend connection between threads with a real hand-off of its TCP handle
// (DESIGN.md §4, HAProxy's conn_backend_get + fcgi_takeover + fd_takeover):
//  1. the thief locks the victim's lock, removes the connection from the victim's idle list and
//     marks the victim's tasklet stolen (context NULL), unlocks;          → steal()
//  2. it asks the victim, naming the tasklet generation, to hand it over;  → 'wake' message
//  3. the victim's wake-up sees USR1, takes its lock, sees "stolen", stops reading, transfers the
//     handle and frees its local objects; it never touches the socket again; → handOver()
//  4. the thief adopts the handle with a fresh tasklet (no USR1) and attaches a request. → adopt()
// A push (rule 5) is steps 3–4 started by the owner itself for a thread that waits.
import { FcgiConnection, type WakeKind } from '../fcgi/connection.ts';
import { LockSite } from '../shm/lock.ts';
import { ListKind } from '../shm/slots.ts';
import { TakeoverOutcome } from '../shm/thread-stats.ts';
import {
  adoptHandle,
  detachHandle,
  handleTransferList,
  type TransferableTcpHandle,
} from '../worker/handle-transfer.ts';
import type { PeerMessage } from '../worker/messages.ts';
import { deliver, kick, onWant, openReserved } from './acquire.ts';
import type { PendingAdopt, PoolThread } from './pool-thread.ts';
import type { ServerPool } from './server-pool.ts';
import { Tasklet } from './tasklet.ts';

/** Sub-millisecond time comparable across threads (each thread has its own timeOrigin). */
function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Steals one idle connection of `sp` from another thread for this thread's queue. Scans from the
 * server's rotating start thread (HAProxy next_takeover), try-locks and skips a busy thread
 * rather than waiting on it. True when a hand-off is on its way.
 */
export function steal(pt: PoolThread, sp: ServerPool, from = -1): boolean {
  const { lists, lock, slots, counters, stats } = pt.shm;
  const threads = pt.shm.cfg.threads;
  const s = sp.index;
  if (threads < 2) return false;
  if (from < 0 && pt.options.lowIdleNoSteal > 0 && pt.idleCount(s) < pt.options.lowIdleNoSteal) return false;
  const start = from >= 0 ? from : counters.nextTakeover(s) % threads;
  let busy = false;
  for (let i = 0; i < threads; i++) {
    const th = (start + i) % threads;
    if (th === pt.thread || pt.peers[th] == null) continue;
    if (from >= 0 && th !== from) continue;
    if (lists.count(th, s, ListKind.SAFE) + lists.count(th, s, ListKind.IDLE) === 0) continue;
    if (!lock.tryLock(th, LockSite.takeover)) {
      busy = true;
      continue;
    }
    let slot = lists.popHead(th, s, ListKind.SAFE);
    if (slot < 0) slot = lists.popHead(th, s, ListKind.IDLE);
    if (slot < 0) {
      lock.unlock(th);
      continue;
    }
    const gen = slots.gen(slot);
    // rule 1: the thief never touches USR1; it only marks the victim's context stolen
    slots.markStolen(slot, pt.thread);
    lock.unlock(th);
    counters.setNextTakeover(s, th + 1);
    expectHandle(pt, sp, slot, null);
    pt.peers[th]!.postMessage({ t: 'wake', slot, gen } satisfies PeerMessage);
    return true;
  }
  stats.takeover(pt.thread, s, busy ? TakeoverOutcome.busy : TakeoverOutcome.empty);
  return false;
}

/** Control plane: steal up to `count` idle connections of `sp` from thread `from` (or one by id). */
export function stealFor(
  pt: PoolThread,
  sp: ServerPool,
  from: number,
  count: number,
  connId: number | undefined,
  onArrive: (slot: number, ok: boolean) => void,
): number {
  const { lists, lock, slots } = pt.shm;
  const s = sp.index;
  const port = pt.peers[from];
  if (port == null) return 0;
  const claimed: Array<[number, number]> = [];
  lock.lock(from, LockSite.control);
  for (const kind of [ListKind.SAFE, ListKind.IDLE]) {
    lists.forEach(from, s, kind, (slot) => {
      if (claimed.length >= count) return false;
      if (connId !== undefined && slots.connId(slot) !== connId) return true;
      claimed.push([slot, slots.gen(slot)]);
      return true;
    });
  }
  for (const [slot] of claimed) {
    lists.remove(slot);
    slots.markStolen(slot, pt.thread);
  }
  lock.unlock(from);
  for (const [slot, gen] of claimed) {
    expectHandle(pt, sp, slot, onArrive);
    port.postMessage({ t: 'wake', slot, gen } satisfies PeerMessage);
  }
  return claimed.length;
}

function expectHandle(
  pt: PoolThread,
  sp: ServerPool,
  slot: number,
  onArrive: PendingAdopt['onArrive'],
): void {
  const p: PendingAdopt = { server: sp.index, since: wallMs(), timer: null, timedOut: false, onArrive };
  if (onArrive === null) sp.adopting++;
  // a hand-off that does not arrive in time: the waiters try something else; if the handle
  // still comes later it is adopted into the idle list
  p.timer = setTimeout(() => {
    p.timer = null;
    p.timedOut = true;
    if (p.onArrive === null) sp.adopting--;
    pt.shm.stats.takeover(pt.thread, sp.index, TakeoverOutcome.failed);
    if (p.onArrive !== null) p.onArrive(slot, false);
    kick(pt, sp);
  }, pt.options.handoffTimeoutMs);
  p.timer.unref();
  pt.pending.set(slot, p);
}

/**
 * Step 3, on the victim, under its own lock (called from the wake-up handler or a 'wake'
 * message): the connection is no longer ours. A connection that saw EOF, an error or stray data
 * while being stolen is reported lost instead: the thief retries elsewhere, nothing is sent twice.
 */
export function handOver(pt: PoolThread, t: Tasklet, kind: WakeKind | 'handoff'): void {
  const { slots } = pt.shm;
  const thief = slots.thief(t.slot);
  t.gone = true;
  pt.tasklets.delete(t.slot);
  const port = pt.peers[thief];
  if (port == null) {
    t.conn.destroy(); // the thief died: the supervisor frees the slot
    return;
  }
  if (kind === 'handoff' || kind === 'drain') {
    try {
      const handle = detachHandle(t.conn.detachSocket());
      const msg: PeerMessage = {
        t: 'handle',
        slot: t.slot,
        gen: t.gen,
        server: t.server,
        push: false,
        handle,
        sentAt: wallMs(),
      };
      port.postMessage(msg, handleTransferList(handle));
      slots.markHandedOff(t.slot);
      return;
    } catch {
      // unread bytes or a closing socket: not a connection to hand on
    }
  }
  t.conn.destroy();
  port.postMessage({ t: 'lost', slot: t.slot, gen: t.gen, reason: kind } satisfies PeerMessage);
}

/** Rule 5: hand a connection that just went idle straight to a thread that waits. */
export function push(pt: PoolThread, sp: ServerPool, t: Tasklet, target: number): boolean {
  const port = pt.peers[target];
  if (port == null) return false;
  let handle: TransferableTcpHandle;
  try {
    handle = detachHandle(t.conn.detachSocket());
  } catch {
    return false;
  }
  // the target owns the slot's fate from here (like a thief after a steal)
  pt.shm.slots.markStolen(t.slot, target);
  t.gone = true;
  pt.tasklets.delete(t.slot);
  const msg: PeerMessage = {
    t: 'handle',
    slot: t.slot,
    gen: t.gen,
    server: sp.index,
    push: true,
    handle,
    sentAt: wallMs(),
  };
  port.postMessage(msg, handleTransferList(handle));
  pt.shm.slots.markHandedOff(t.slot);
  pt.shm.stats.pushed(pt.thread, sp.index);
  return true;
}

/** Step 4 on the receiving thread: a fresh tasklet (no USR1) around the moved handle. */
function adopt(pt: PoolThread, msg: Extract<PeerMessage, { t: 'handle' }>): void {
  const { slots, stats } = pt.shm;
  const p = pt.pending.get(msg.slot);
  pt.pending.delete(msg.slot);
  const sp = pt.servers[msg.server];
  if (p) {
    if (p.timer) clearTimeout(p.timer);
    if (!p.timedOut && p.onArrive === null && sp) sp.adopting--;
  }
  const socket = adoptHandle(msg.handle as TransferableTcpHandle);
  // when its last answer ended: adopt() clears it, the recycle detection needs it
  const idleSince = slots.idleSince(msg.slot);
  // -1: the slot was reclaimed meanwhile (the victim died): nobody accounts for this socket
  const gen = slots.adopt(msg.slot, pt.thread, msg.gen);
  if (gen >= 0) slots.setIdleSince(msg.slot, idleSince);
  if (gen < 0 || sp === undefined || pt.closed) {
    socket.destroy();
    if (gen >= 0) slots.closeSlot(msg.slot, gen);
    return;
  }
  const conn = new FcgiConnection(socket, { id: slots.connId(msg.slot) });
  const t = new Tasklet(pt, msg.slot, gen, msg.server, conn);
  conn.onClose = () => pt.onConnClose(t);
  pt.tasklets.set(msg.slot, t);
  stats.takeover(pt.thread, msg.server, TakeoverOutcome.success);
  stats.handoffLatency(pt.thread, Math.max(0, wallMs() - (p ? p.since : msg.sentAt)));
  if (p?.onArrive) {
    deliver(pt, sp, t, true);
    p.onArrive(msg.slot, true);
  } else {
    deliver(pt, sp, t, false);
  }
  socket.resume();
}

/** The victim lost a stolen connection (EOF while stolen): its slot is ours to free. */
function lost(pt: PoolThread, msg: Extract<PeerMessage, { t: 'lost' }>): void {
  const p = pt.pending.get(msg.slot);
  pt.pending.delete(msg.slot);
  const sp = pt.servers[pt.shm.slots.server(msg.slot)];
  if (p) {
    if (p.timer) clearTimeout(p.timer);
    if (!p.timedOut && p.onArrive === null && sp) sp.adopting--;
    p.onArrive?.(msg.slot, false);
  }
  pt.shm.stats.takeover(pt.thread, pt.shm.slots.server(msg.slot), TakeoverOutcome.failed);
  const { slots } = pt.shm;
  if (slots.thief(msg.slot) === pt.thread && slots.isStolen(msg.slot) && slots.closeSlot(msg.slot, msg.gen)) {
    if (sp) pt.capacityFreed(sp);
  }
}

export function onPeerMessage(pt: PoolThread, msg: PeerMessage): void {
  switch (msg.t) {
    case 'wake': {
      // rule 2: a wake for a tasklet that is already gone (handed over on an I/O wake-up) is ignored
      const t = pt.tasklets.get(msg.slot);
      if (t === undefined || t.gen !== msg.gen || t.gone) return;
      const { lock, slots } = pt.shm;
      lock.lock(pt.thread, LockSite.handoff);
      if (slots.isCurrent(msg.slot, t.gen) && slots.isStolen(msg.slot)) handOver(pt, t, 'handoff');
      lock.unlock(pt.thread);
      return;
    }
    case 'handle':
      adopt(pt, msg);
      return;
    case 'lost':
      lost(pt, msg);
      return;
    case 'want':
      onWant(pt, msg.server, msg.from);
      return;
    case 'client': {
      const handle = msg.handle as TransferableTcpHandle;
      // no gateway here (a pool without one): the connection cannot be served
      if (pt.clientAdopter === null) adoptHandle(handle).destroy();
      else pt.clientAdopter(handle);
      return;
    }
    case 'capacity': {
      const sp = pt.servers[msg.server];
      if (msg.reserved) {
        // a connection slot's reservation handed over with it (a Unix socket that could not
        // move): open with it, or give it back to the pool when nobody waits here any more
        if (sp && sp.waiting > sp.opening + sp.adopting && !pt.closed) openReserved(pt, sp);
        else {
          pt.shm.counters.release(msg.server);
          if (sp) pt.capacityFreed(sp);
        }
        return;
      }
      if (sp && sp.waiting > 0) kick(pt, sp);
      return;
    }
  }
}
