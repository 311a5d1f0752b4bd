// What the supervisor does with a worker's shared state once the worker has died, before a
// replacement starts with the same id: no lock stays held, no idle list points at connections
// whose handles died with the thread, no capacity leaks, nothing is freed twice.
//
// Who frees a slot (single-freer rule; every free goes through the OWNER CAS, so when two
// parties race for one slot exactly one wins and only the winner releases the capacity):
//
// | slot state                          | handle is with              | freed by                     |
// |-------------------------------------|-----------------------------|------------------------------|
// | FREE                                | —                           | —                            |
// | owner X, ctx VALID (busy or listed) | X                           | X when it closes;            |
// |                                     |                             | reclaimThread(X) if X died   |
// | owner X, STOLEN, thief T            | X until it hands over, then | T (adopts it, or frees it on |
// |                                     | a message to T              | 'lost' / closing);           |
// |                                     |                             | reclaimThread(X) if X died;  |
// |                                     |                             | reclaimThread(T) if T died   |
// | owner X, TRANSIT, thief T           | a message to T              | T; reclaimThread(T) if T     |
// | (X called markHandedOff)            |                             | died — not reclaimThread(X)  |
// | owner at thread D's FREEING mark    | nobody (D was freeing it)   | D; reclaimThread(D) finishes |
//
// A thief whose steal was reclaimed under it finds out from the generation: adopt(slot, T, gen)
// returns -1 and it only closes the socket it received; a victim whose stolen slot was reclaimed
// (its thief died) sees the generation change on its next wake-up and only closes the socket.
// Such victims are listed in `orphaned`, so the supervisor can wake them at once instead of
// leaving a php-fpm child pinned to a dead connection until the socket's next event.
//
// One gap stays: a thread killed after freeing a slot but before releasing its reservation
// leaves the server's curConns one too high; checkInvariants() reports it.

import { ShmError, ShmErrorCode } from '../errors.ts';
import { FREEING, ListKind, LockSite, TaskletCtx } from './offsets.ts';
import type { SharedState } from './shared-state.ts';

export interface ReclaimResult {
  /** Slots freed (and their server capacity released). */
  freedSlots: number;
  /** Locks the dead thread held, now free. */
  locksRecovered: number;
  /** Entries removed from the dead thread's idle lists (their slots are among freedSlots). */
  unlisted: number;
  /** Stolen-by-the-dead slots freed while their live owner still holds a tasklet for them. */
  orphaned: Array<{ slot: number; owner: number }>;
  /** Slots left alone because their owner's lock stayed busy: call reclaimThread again. */
  deferred: number;
}

/** Try-lock rounds (each a 1000-pause spin) before giving up on a lock: ~ms, never blocking. */
const LOCK_ROUNDS = 100;

function tryLockHard(state: SharedState, target: number): boolean {
  for (let i = 0; i < LOCK_ROUNDS; i++) if (state.lock.tryLock(target, LockSite.control, 1000)) return true;
  return false;
}

/**
 * Reclaims the shared state of `deadThread`, which must really be gone (its 'exit' event fired).
 * Runs on the main thread without ever blocking; safe to call again (e.g. after `deferred`).
 * Throws LOCK_BUSY only if the dead thread's own lock stays taken by a live thread.
 */
export function reclaimThread(state: SharedState, deadThread: number): ReclaimResult {
  const { threads, maxServers, maxSlots } = state.cfg;
  if (!Number.isInteger(deadThread) || deadThread < 0 || deadThread >= threads) {
    throw new RangeError(`no worker thread ${deadThread}`);
  }
  const { lock, lists, slots } = state;
  const result: ReclaimResult = { freedSlots: 0, locksRecovered: 0, unlisted: 0, orphaned: [], deferred: 0 };
  result.locksRecovered = lock.recover(deadThread);

  // Under the dead thread's lock: thieves cannot pick a dead connection from its lists meanwhile.
  if (!tryLockHard(state, deadThread)) {
    throw new ShmError(ShmErrorCode.LOCK_BUSY, `thread ${deadThread}'s lock stays busy, reclaim later`);
  }
  try {
    for (let s = 0; s < maxServers; s++) {
      for (const kind of [ListKind.IDLE, ListKind.SAFE]) {
        while (lists.popHead(deadThread, s, kind) >= 0) result.unlisted++;
      }
    }
    for (let slot = 0; slot < maxSlots; slot++) {
      const owner = slots.owner(slot);
      if (owner === FREEING - deadThread) {
        // It died inside freeSlot(); its closeSlot() had not released the capacity yet.
        const server = slots.server(slot);
        if (slots.finishFree(slot, deadThread)) {
          state.counters.release(server);
          result.freedSlots++;
        }
      } else if (owner === deadThread) {
        // Its own connection, or one stolen from it whose handle never left: gone with it. A
        // handle marked TRANSIT is on its way to a live thief, who adopts or frees it.
        if (slots.ctx(slot) === TaskletCtx.TRANSIT) continue;
        if (slots.closeSlot(slot, slots.gen(slot))) result.freedSlots++;
      } else if (owner >= 0 && slots.thief(slot) === deadThread) {
        reclaimStolenBy(state, slot, owner, result);
      }
    }
    // Its queues died with it: clear its waiter bits and gauges so nobody pushes to it.
    for (let s = 0; s < maxServers; s++) {
      state.waits.publish(deadThread, s, 0, 0);
      state.stats.setUsed(deadThread, s, 0);
    }
    // and its client connections: the replacement starts with none (listener balancing reads it)
    state.stats.clearClients(deadThread);
  } finally {
    lock.unlock(deadThread);
  }
  return result;
}

/**
 * A connection the dead thread stole and never adopted. The owner still holds the handle
 * (STOLEN) or sent it to the dead thread's port (TRANSIT): either way no one will adopt it. Freed
 * under the owner's lock, so the owner's locked-path check (stolen? same generation?) sees
 * either the theft or the free, never half of one.
 */
function reclaimStolenBy(state: SharedState, slot: number, owner: number, result: ReclaimResult): void {
  const { lock, slots } = state;
  if (!tryLockHard(state, owner)) {
    result.deferred++; // the owner is stuck or dead too; its own reclaim frees the slot
    return;
  }
  try {
    const gen = slots.gen(slot);
    if (slots.owner(slot) !== owner || !slots.isStolen(slot)) return;
    const handedOff = slots.ctx(slot) === TaskletCtx.TRANSIT;
    if (slots.closeSlot(slot, gen)) {
      result.freedSlots++;
      if (!handedOff) result.orphaned.push({ slot, owner });
    }
  } finally {
    lock.unlock(owner);
  }
}
