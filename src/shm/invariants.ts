// The invariants of DESIGN §4 and of the capacity accounting, checked over the whole shared
// state. Meant for tests and debugging on a quiescent pool (workers idle or paused): the reads are
// not one atomic snapshot, so on a busy pool a check can report a state that was only half
// written. Returns one line per violation; empty = all hold.

import {
  FREE,
  ListKind,
  ListWord,
  LockWord,
  ServerState,
  ServerWord,
  SlotWord,
  TaskletCtx,
  ThreadServerWord,
  ThreadWord,
  USR1,
} from './offsets.ts';
import type { SharedState } from './shared-state.ts';

export interface InvariantOptions {
  /**
   * Reservations that may be in flight per server: taken by tryReserve() but not yet turned into
   * a slot, or a slot freed whose reservation is not yet released. 0 (default) on a quiescent pool.
   */
  inFlight?: number;
}

export function checkInvariants(state: SharedState, opts: InvariantOptions = {}): string[] {
  const inFlight = opts.inFlight ?? 0;
  const { threads, maxServers, maxSlots } = state.cfg;
  const L = state.layout;
  const i32 = state.i32;
  const errors: string[] = [];
  const slotWord = (slot: number, w: number): number =>
    Atomics.load(i32, L.slotBase + slot * L.slotStride + w);

  for (let t = 0; t < threads; t++) {
    const holder = Atomics.load(i32, L.lockBase + t * L.lockStride + LockWord.HOLDER) - 1;
    if (holder < -1 || holder > threads) errors.push(`lock ${t}: holder word names thread ${holder}`);
  }

  // Every slot: free, or held by exactly one worker thread, with a coherent context.
  const allocated = new Array<number>(maxServers).fill(0);
  for (let slot = 0; slot < maxSlots; slot++) {
    const owner = slotWord(slot, SlotWord.OWNER);
    const list = slotWord(slot, SlotWord.LIST);
    if (owner === FREE) {
      if (list !== ListKind.NONE) errors.push(`slot ${slot}: free but in list ${list}`);
      continue;
    }
    if (owner < 0) {
      errors.push(`slot ${slot}: being freed by thread ${-2 - owner}`);
      continue;
    }
    if (owner >= threads) errors.push(`slot ${slot}: owner ${owner} is not a worker thread`);
    const server = slotWord(slot, SlotWord.SERVER);
    if (server < 0 || server >= maxServers) {
      errors.push(`slot ${slot}: server ${server} out of range`);
      continue;
    }
    allocated[server]++;
    const ctx = slotWord(slot, SlotWord.CTX);
    const thief = slotWord(slot, SlotWord.THIEF);
    if (ctx === TaskletCtx.VALID) {
      if (thief !== -1) errors.push(`slot ${slot}: context valid but thief ${thief}`);
    } else if (ctx === TaskletCtx.STOLEN || ctx === TaskletCtx.TRANSIT) {
      if (thief < 0 || thief >= threads || thief === owner) {
        errors.push(`slot ${slot}: stolen from ${owner} by impossible thief ${thief}`);
      }
      if (list !== ListKind.NONE) errors.push(`slot ${slot}: stolen but still in list ${list}`);
    } else {
      errors.push(`slot ${slot}: unknown context ${ctx}`);
    }
    if (list !== ListKind.NONE) {
      // a listed tasklet always has USR1 (the fast path depends on it)
      if ((slotWord(slot, SlotWord.STATE) & USR1) === 0) errors.push(`slot ${slot}: listed without USR1`);
      if (ctx !== TaskletCtx.VALID) errors.push(`slot ${slot}: listed with context ${ctx}`);
    }
  }

  // Every list: links both ways, counters, tail; each listed slot belongs to the list's thread.
  const seen = new Uint8Array(maxSlots);
  for (let t = 0; t < threads; t++) {
    for (let s = 0; s < maxServers; s++) {
      for (const kind of [ListKind.IDLE, ListKind.SAFE]) {
        checkList(t, s, kind);
      }
    }
  }
  function checkList(t: number, s: number, kind: number): void {
    const h =
      L.listBase + t * L.listThreadStride + s * L.listServerStride + (kind - 1) * ListWord.KIND_STRIDE;
    const name = `list thread ${t} server ${s} ${kind === ListKind.IDLE ? 'IDLE' : 'SAFE'}`;
    let prev = -1;
    let n = 0;
    let slot = Atomics.load(i32, h + ListWord.HEAD);
    while (slot !== -1) {
      if (slot < 0 || slot >= maxSlots) {
        errors.push(`${name}: link to slot ${slot} out of range`);
        return;
      }
      if (seen[slot]) {
        errors.push(`${name}: slot ${slot} reached twice (a loop, or in two lists)`);
        return;
      }
      seen[slot] = 1;
      n++;
      if (slotWord(slot, SlotWord.LIST) !== kind)
        errors.push(`${name}: slot ${slot} says list ${slotWord(slot, SlotWord.LIST)}`);
      if (slotWord(slot, SlotWord.OWNER) !== t)
        errors.push(`${name}: slot ${slot} owned by ${slotWord(slot, SlotWord.OWNER)}`);
      if (slotWord(slot, SlotWord.SERVER) !== s)
        errors.push(`${name}: slot ${slot} of server ${slotWord(slot, SlotWord.SERVER)}`);
      if (slotWord(slot, SlotWord.PREV) !== prev)
        errors.push(`${name}: slot ${slot} prev link ${slotWord(slot, SlotWord.PREV)}, expected ${prev}`);
      prev = slot;
      slot = slotWord(slot, SlotWord.NEXT);
    }
    if (Atomics.load(i32, h + ListWord.TAIL) !== prev)
      errors.push(`${name}: tail ${Atomics.load(i32, h + ListWord.TAIL)}, last is ${prev}`);
    if (Atomics.load(i32, h + ListWord.COUNT) !== n)
      errors.push(`${name}: count ${Atomics.load(i32, h + ListWord.COUNT)}, holds ${n}`);
  }
  for (let slot = 0; slot < maxSlots; slot++) {
    const list = slotWord(slot, SlotWord.LIST);
    if (list !== ListKind.NONE && !seen[slot] && slotWord(slot, SlotWord.OWNER) !== FREE) {
      errors.push(`slot ${slot}: says list ${list} but no list reaches it`);
    }
  }

  // Capacity: a reservation precedes allocSlot() and follows freeSlot(), so curConns never falls
  // below the allocated slots, and exceeds them only by reservations in flight.
  for (let s = 0; s < maxServers; s++) {
    const b = L.serverBase + s * L.serverStride;
    const cur = Atomics.load(i32, b + ServerWord.CUR_CONNS);
    const st = Atomics.load(i32, b + ServerWord.STATE);
    if (cur < allocated[s]) errors.push(`server ${s}: curConns ${cur} < ${allocated[s]} allocated slots`);
    else if (cur > allocated[s] + inFlight) {
      errors.push(
        `server ${s}: curConns ${cur} > ${allocated[s]} allocated slots (+${inFlight} in flight): capacity leak`,
      );
    }
    if (st === ServerState.FREE && cur !== 0) errors.push(`server ${s}: FREE entry with ${cur} connections`);
    // a waiter bit is set exactly while the thread publishes a queue for the server
    for (let t = 0; t < threads; t++) {
      const bit = (Atomics.load(i32, b + ServerWord.WAITERS + (t >> 5)) >>> (t & 31)) & 1;
      const g = L.threadBase + t * L.threadStride + ThreadWord.SERVERS + s * ThreadServerWord.SIZE;
      const queue = Atomics.load(i32, g + ThreadServerWord.QUEUE);
      if ((bit === 1) !== queue > 0)
        errors.push(`server ${s}: thread ${t} waiter bit ${bit} but queue ${queue}`);
    }
  }
  return errors;
}
