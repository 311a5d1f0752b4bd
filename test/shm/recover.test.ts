import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { checkInvariants } from '../../src/shm/invariants.ts';
import { FREEING, ListKind, LockSite, SharedState, SlotWord } from '../../src/shm/layout.ts';
import { reclaimThread } from '../../src/shm/recover.ts';
import { ShmWorker } from './fixtures/worker-client.ts';

describe('reclaiming a dead worker', () => {
  const started: ShmWorker[] = [];
  const start = (state: SharedState, t: number) => {
    const w = new ShmWorker(state.sab, t);
    started.push(w);
    return w;
  };
  after(async () => {
    await Promise.all(started.map((w) => w.terminate()));
  });

  it('frees its lock, its idle lists and every slot whose handle died with it, once', async () => {
    const state = SharedState.create({ threads: 3, maxServers: 1, maxSlots: 16 });
    state.counters.configure(0, 10);
    const [dying, victim, other] = [start(state, 0), start(state, 1), start(state, 2)];
    const open = async (w: ShmWorker) => {
      const slot = await w.call<number>('open', { server: 0 });
      assert.ok(slot >= 0);
      return slot;
    };
    const busy = await open(dying);
    const safe = await open(dying);
    const idle = await open(dying);
    await dying.call('detach', { slot: safe, kind: ListKind.SAFE });
    await dying.call('detach', { slot: idle, kind: ListKind.IDLE });
    const victims = await open(victim);
    const kept = await open(victim);
    await victim.call('detach', { slot: victims, kind: ListKind.SAFE });
    // the dying thread stole one from thread 1 and never got the hand-off...
    const stolenByDead = await dying.call<{ slot: number }>('steal', {
      from: 1,
      server: 0,
      kind: ListKind.SAFE,
    });
    assert.equal(stolenByDead.slot, victims);
    await victim.call('detach', { slot: kept, kind: ListKind.SAFE });
    // ...and thread 2 stole one from it, whose hand-off will never come
    const stolenFromDead = await other.call<{ slot: number; gen: number }>('steal', {
      from: 0,
      server: 0,
      kind: ListKind.SAFE,
    });
    assert.equal(stolenFromDead.slot, safe);
    await dying.call('lock', { target: 0, site: LockSite.attach });
    state.stats.clientOpened(0); // a client connection it served
    await dying.terminate();
    assert.equal(state.counters.curConns(0), 5);

    const result = reclaimThread(state, 0);
    assert.equal(result.locksRecovered, 1);
    assert.equal(result.unlisted, 1, 'its idle connection left its list');
    assert.equal(result.freedSlots, 4, 'busy, idle, stolen from it, stolen by it');
    assert.deepEqual(result.orphaned, [{ slot: victims, owner: 1 }], 'thread 1 must drop its stale tasklet');
    assert.equal(result.deferred, 0);
    for (const s of [busy, safe, idle, victims]) assert.equal(state.slots.isFree(s), true);
    assert.equal(state.counters.curConns(0), 1, "only thread 1's own idle connection is left");
    assert.equal(state.lock.holder(0), -1);
    assert.equal(state.stats.clients(0), 0, 'its client connections died with it');
    assert.deepEqual(checkInvariants(state), []);

    // the thief's late hand-off finds the slot reclaimed and adopts nothing
    assert.equal(state.slots.adopt(safe, 2, stolenFromDead.gen), -1);
    // a second reclaim finds nothing left to free
    assert.equal(reclaimThread(state, 0).freedSlots, 0);
    assert.equal(state.counters.curConns(0), 1);

    // a replacement worker with the same id starts from a clean slate
    const replacement = start(state, 0);
    const fresh = await replacement.call<number>('open', { server: 0 });
    assert.ok(fresh >= 0);
    await replacement.call('detach', { slot: fresh, kind: ListKind.IDLE });
    assert.equal(state.lists.count(0, 0, ListKind.IDLE), 1);
    assert.deepEqual(checkInvariants(state), []);
  });

  it('finishes a free the dead thread was in the middle of, releasing its capacity', () => {
    const state = SharedState.create({ threads: 2, maxServers: 1, maxSlots: 4 });
    state.counters.configure(0, 4);
    assert.ok(state.counters.tryReserve(0));
    const slot = state.slots.allocSlot(1, 0);
    // thread 1 died between claiming the slot for freeing and publishing it FREE
    Atomics.store(
      state.i32,
      state.layout.slotBase + slot * state.layout.slotStride + SlotWord.OWNER,
      FREEING - 1,
    );
    assert.match(checkInvariants(state).join('\n'), /being freed by thread 1/);
    assert.equal(reclaimThread(state, 1).freedSlots, 1);
    assert.equal(state.slots.isFree(slot), true);
    assert.equal(state.counters.curConns(0), 0);
    assert.deepEqual(checkInvariants(state), []);
  });

  it('leaves a handle already on its way to a live thief to that thief', () => {
    const state = SharedState.create({ threads: 2, maxServers: 1, maxSlots: 4 });
    state.counters.configure(0, 4);
    assert.ok(state.counters.tryReserve(0));
    const slot = state.slots.allocSlot(0, 0);
    const gen = state.slots.markStolen(slot, 1); // a push: the owner claims it for thread 1
    assert.equal(state.slots.markHandedOff(slot), true);
    assert.equal(reclaimThread(state, 0).freedSlots, 0);
    assert.ok(state.slots.adopt(slot, 1, gen) > gen, 'thread 1 adopts what thread 0 sent before dying');
    assert.deepEqual(checkInvariants(state), []);
  });
});
