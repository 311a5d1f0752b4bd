import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ShmErrorCode } from '../../src/errors.ts';
import { ListKind, LockSite, SharedState, TaskletCtx } from '../../src/shm/layout.ts';
import { ShmWorker } from './fixtures/worker-client.ts';

describe('connection slots across threads', () => {
  let state: SharedState;
  let workers: ShmWorker[];

  before(() => {
    state = SharedState.create({ threads: 4, maxServers: 2, maxSlots: 64 });
    state.counters.configure(0, 3);
    workers = Array.from({ length: 4 }, (_, t) => new ShmWorker(state.sab, t));
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });

  it('four workers racing allocSlot/freeSlot never hold the same slot twice', async () => {
    const claims = new Int32Array(new SharedArrayBuffer(4 * state.cfg.maxSlots));
    const results = await Promise.all(
      workers.map((w) => w.call<{ doubles: number; allocated: number }>('allocRace', { n: 20_000, claims })),
    );
    assert.deepEqual(
      results.map((r) => r.doubles),
      [0, 0, 0, 0],
    );
    for (const r of results) assert.ok(r.allocated > 0);
    for (let s = 0; s < state.cfg.maxSlots; s++)
      assert.equal(state.slots.owner(s), -1, `slot ${s} is free again`);
  });

  it('tryReserve never lets more connections open than the server allows, under races', async () => {
    const open = new Int32Array(new SharedArrayBuffer(4));
    const results = await Promise.all(
      workers.map((w) =>
        w.call<{ granted: number; peak: number }>('reserveRace', { server: 0, n: 20_000, open }),
      ),
    );
    for (const r of results) assert.ok(r.peak <= 3, `saw ${r.peak} connections open, max is 3`);
    assert.ok(results.reduce((n, r) => n + r.granted, 0) > 0);
    assert.equal(state.counters.curConns(0), 0, 'every reservation was given back');
    assert.equal(state.counters.tryReserve(1), false, 'a server with no configured cap opens nothing');
  });

  it('a takeover keeps the connection id, leaves USR1 to the owner and gives the thief a new generation', async () => {
    const [victim, thief] = workers;
    const slot = await victim.call<number>('open', { server: 0 });
    assert.ok(slot >= 0);
    const id = state.slots.connId(slot);
    const birth = state.slots.gen(slot);
    await victim.call('detach', { slot, kind: ListKind.SAFE });
    assert.equal(state.lists.count(0, 0, ListKind.SAFE), 1);

    const { slot: got, gen } = await thief.call<{ slot: number; gen: number }>('steal', {
      from: 0,
      server: 0,
      kind: ListKind.SAFE,
    });
    assert.equal(got, slot);
    assert.equal(gen, birth, 'the wake message names the victim tasklet generation');
    // rule 1: the thief marks the context stolen and never touches the victim's USR1
    assert.equal(state.slots.hasUsr1(slot), true);
    assert.equal(state.slots.isStolen(slot), true);
    assert.equal(state.slots.thief(slot), thief.self);
    assert.equal(state.slots.owner(slot), victim.self, 'the victim still holds the handle');
    assert.throws(() => state.slots.markStolen(slot, 2), { code: ShmErrorCode.BAD_SLOT_STATE });

    const newGen = state.slots.adopt(slot, thief.self, gen);
    assert.notEqual(newGen, gen);
    assert.equal(state.slots.owner(slot), thief.self);
    assert.equal(state.slots.hasUsr1(slot), false, "the thief's fresh tasklet starts without USR1");
    assert.equal(state.slots.ctx(slot), TaskletCtx.VALID);
    assert.equal(state.slots.connId(slot), id, 'same connection, same id');
    assert.equal(
      state.slots.adopt(slot, thief.self, gen),
      -1,
      'a second hand-off of the same steal is stale',
    );

    assert.equal(state.slots.closeSlot(slot, gen), false, 'a free naming the old generation does nothing');
    assert.equal(state.counters.curConns(0), 1);
    assert.equal(state.slots.closeSlot(slot, newGen), true);
    assert.equal(state.counters.curConns(0), 0, 'closing gives the capacity back once');
    assert.throws(() => state.slots.freeSlot(slot), { code: ShmErrorCode.BAD_SLOT_STATE });
  });

  it('when the supervisor frees a stolen slot first, the late hand-off cannot adopt it', async () => {
    const [victim, thief] = workers;
    const slot = await victim.call<number>('open', { server: 0 });
    await victim.call('detach', { slot, kind: ListKind.IDLE });
    const { gen } = await thief.call<{ slot: number; gen: number }>('steal', {
      from: 0,
      server: 0,
      kind: ListKind.IDLE,
    });
    assert.equal(state.slots.closeSlot(slot, gen), true); // e.g. the victim died: reclaimed
    assert.equal(state.slots.adopt(slot, thief.self, gen), -1);
    assert.equal(state.slots.isFree(slot), true);
    assert.equal(state.counters.curConns(0), 0);
  });

  it('every new connection gets a fresh id and generation, even in a reused slot', () => {
    const ids = new Set<number>();
    const gens = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const slot = state.slots.allocSlot(0, 1);
      ids.add(state.slots.connId(slot));
      gens.add(`${slot}:${state.slots.gen(slot)}`);
      assert.equal(state.slots.hasUsr1(slot), false, 'a new connection is attached, not idle');
      state.slots.freeSlot(slot);
    }
    assert.equal(ids.size, 10);
    assert.equal(gens.size, 10);
  });

  it('an idle-list insertion without USR1 or without the lock is refused', () => {
    const main = state.lock;
    const slot = state.slots.allocSlot(1, 1);
    assert.ok(main.tryLock(1, LockSite.control));
    try {
      assert.throws(() => state.lists.insert(1, 1, slot, ListKind.IDLE, state.nowMs()), {
        code: ShmErrorCode.BAD_SLOT_STATE,
      });
      state.slots.setUsr1(slot);
      state.lists.insert(1, 1, slot, ListKind.IDLE, state.nowMs());
      assert.throws(() => state.slots.freeSlot(slot), { code: ShmErrorCode.BAD_SLOT_STATE }, 'still listed');
    } finally {
      main.unlock(1);
    }
    assert.throws(() => state.lists.remove(slot), { code: ShmErrorCode.LOCK_NOT_HELD });
    assert.ok(main.tryLock(1, LockSite.control));
    assert.equal(state.lists.remove(slot), ListKind.IDLE);
    main.unlock(1);
    state.slots.freeSlot(slot);
  });
});
