import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkInvariants } from '../../src/shm/invariants.ts';
import {
  ListKind,
  ListWord,
  LockSite,
  SharedState,
  SlotWord,
  ThreadServerWord,
  ThreadWord,
} from '../../src/shm/layout.ts';

/** Thread 0 with three idle connections of server 0 and one busy one. */
function pool(): { state: SharedState; listed: number[]; busy: number } {
  const state = SharedState.create({ threads: 2, maxServers: 1, maxSlots: 6 });
  state.counters.configure(0, 6);
  const open = () => {
    assert.ok(state.counters.tryReserve(0));
    return state.slots.allocSlot(0, 0);
  };
  const listed = [open(), open(), open()];
  const busy = open();
  assert.ok(state.lock.tryLock(0, LockSite.control));
  for (const s of listed) {
    state.slots.setUsr1(s);
    state.lists.insert(0, 0, s, ListKind.SAFE, state.nowMs());
  }
  state.lock.unlock(0);
  return { state, listed, busy };
}

const slotWord = (state: SharedState, slot: number, w: number) =>
  state.layout.slotBase + slot * state.layout.slotStride + w;

describe('checkInvariants', () => {
  it('finds nothing wrong in a consistent pool', () => {
    assert.deepEqual(checkInvariants(pool().state), []);
  });

  it('catches a broken back link in an idle list', () => {
    const { state, listed } = pool();
    Atomics.store(state.i32, slotWord(state, listed[0], SlotWord.PREV), listed[2]);
    assert.match(checkInvariants(state).join('\n'), /prev link/);
  });

  it('catches a list counter that disagrees with its links', () => {
    const { state } = pool();
    const h = state.layout.listBase + (ListKind.SAFE - 1) * ListWord.KIND_STRIDE;
    Atomics.add(state.i32, h + ListWord.COUNT, 1);
    assert.match(checkInvariants(state).join('\n'), /count 4, holds 3/);
  });

  it('catches a listed connection without USR1 (its wake-ups would skip the lock)', () => {
    const { state, listed } = pool();
    state.slots.clearUsr1(listed[1]);
    assert.match(checkInvariants(state).join('\n'), new RegExp(`slot ${listed[1]}: listed without USR1`));
  });

  it('catches a connection in two lists and a stolen connection still listed', () => {
    const { state, listed, busy } = pool();
    // the busy slot claims to be listed, yet no list reaches it
    Atomics.store(state.i32, slotWord(state, busy, SlotWord.LIST), ListKind.IDLE);
    Atomics.store(state.i32, slotWord(state, listed[0], SlotWord.THIEF), 1);
    Atomics.store(state.i32, slotWord(state, listed[0], SlotWord.CTX), 0);
    const report = checkInvariants(state).join('\n');
    assert.match(report, new RegExp(`slot ${busy}: says list 1 but no list reaches it`));
    assert.match(report, new RegExp(`slot ${listed[0]}: stolen but still in list`));
  });

  it('catches capacity leaks and over-allocation, within the in-flight tolerance', () => {
    const { state, busy } = pool();
    assert.ok(state.counters.tryReserve(0)); // reserved, not allocated yet: in flight
    assert.match(checkInvariants(state).join('\n'), /capacity leak/);
    assert.deepEqual(checkInvariants(state, { inFlight: 1 }), []);
    state.counters.release(0);
    state.slots.freeSlot(busy); // freed but the reservation kept: in flight the other way
    assert.deepEqual(checkInvariants(state, { inFlight: 1 }), []);
    state.counters.release(0);
    state.counters.release(0); // one release too many
    assert.match(checkInvariants(state).join('\n'), /curConns 2 < 3 allocated slots/);
  });

  it('catches a waiter bit without a published queue', () => {
    const { state } = pool();
    state.waits.publish(1, 0, 2, state.nowMs());
    assert.deepEqual(checkInvariants(state), []);
    const g =
      state.layout.threadBase + 1 * state.layout.threadStride + ThreadWord.SERVERS + ThreadServerWord.QUEUE;
    Atomics.store(state.i32, g, 0);
    assert.match(checkInvariants(state).join('\n'), /thread 1 waiter bit 1 but queue 0/);
  });
});
