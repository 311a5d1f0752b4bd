import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { ShmErrorCode } from '../../src/errors.ts';
import { LockSite, LockWord } from '../../src/shm/layout.ts';
import { TakeoverLocks } from '../../src/shm/lock.ts';
import { readLockStats } from '../../src/shm/lock-stats.ts';
import { SharedState } from '../../src/shm/shared-state.ts';
import { ShmWorker } from './fixtures/worker-client.ts';

const THREADS = 4;

/** Waits (bounded) until some thread sleeps on `target`'s lock: contention made deterministic. */
async function untilWaiting(state: SharedState, target: number): Promise<void> {
  const idx = state.layout.lockBase + target * state.layout.lockStride + LockWord.WAITERS;
  for (let i = 0; i < 100_000; i++) {
    if (Atomics.load(state.i32, idx) > 0) return;
    await tick();
  }
  assert.fail(`nobody ever waited on thread ${target}'s lock`);
}

describe('takeover lock', () => {
  let state: SharedState;
  let workers: ShmWorker[];

  before(() => {
    state = SharedState.create({ threads: THREADS, maxServers: 2, maxSlots: 8 });
    workers = Array.from({ length: THREADS }, (_, t) => new ShmWorker(state.sab, t));
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });

  it('four workers hammering one lock never overlap and lose no increment', async () => {
    const counter = new Int32Array(new SharedArrayBuffer(8));
    const n = 20_000;
    const before = readLockStats(state, 0);
    const overlaps = await Promise.all(
      workers.map((w, t) =>
        w.call<number>('hammer', {
          target: 0,
          site: t % 2 === 0 ? LockSite.takeover : LockSite.wake,
          n,
          counter,
        }),
      ),
    );
    assert.deepEqual(overlaps, [0, 0, 0, 0]);
    assert.equal(Atomics.load(counter, 0), THREADS * n);
    const stats = readLockStats(state, 0);
    assert.equal(stats.acquisitions.takeover - before.acquisitions.takeover, 2 * n);
    assert.equal(stats.acquisitions.wake - before.acquisitions.wake, 2 * n);
    assert.equal(stats.holder, -1);
    assert.ok(stats.contended <= 4 * n + before.contended);
  });

  it('a worker that finds the lock held waits for it and is counted as contended, with its wait time', async () => {
    const [a, b] = workers;
    const before = readLockStats(state, 1);
    await a.call('lock', { target: 1, site: LockSite.detach });
    const taken = b.call('lock', { target: 1, site: LockSite.takeover });
    await untilWaiting(state, 1);
    await a.call('unlock', { target: 1 });
    await taken;
    const stats = readLockStats(state, 1);
    assert.equal(stats.holder, b.self);
    assert.equal(stats.acquisitions.detach - before.acquisitions.detach, 1);
    assert.equal(stats.acquisitions.takeover - before.acquisitions.takeover, 1);
    assert.equal(stats.contended - before.contended, 1);
    assert.ok(stats.waitNs > before.waitNs, 'a contended acquisition records its wait time');
    await b.call('unlock', { target: 1 });
  });

  it('recover() frees the lock of a worker that died holding it, and its waiter proceeds', async () => {
    const local = SharedState.attach(state.sab);
    const dying = new ShmWorker(local.sab, 2);
    const waiter = workers[3];
    const main = new TakeoverLocks(local, THREADS);
    try {
      await dying.call('lock', { target: 2, site: LockSite.attach });
      const taken = waiter.call('lock', { target: 2, site: LockSite.takeover });
      await untilWaiting(local, 2);
      await dying.terminate();
      assert.equal(main.holder(2), 2, 'the dead worker still holds the lock');
      assert.equal(main.recover(2), 1);
      await taken;
      assert.equal(main.holder(2), waiter.self);
      await waiter.call('unlock', { target: 2 });
    } finally {
      await dying.terminate();
    }
  });

  it('the main thread gets a lock only by try-lock and never blocks', async () => {
    const main = new TakeoverLocks(state, THREADS);
    assert.equal(main.tryLock(3, LockSite.control), true);
    assert.equal(main.holder(3), THREADS);
    assert.throws(() => main.tryLock(3, LockSite.control), { code: ShmErrorCode.LOCK_RECURSIVE });
    await assert.rejects(workers[0].call('unlock', { target: 3 }), { code: ShmErrorCode.LOCK_NOT_HELD });
    main.unlock(3);

    const before = readLockStats(state, 3);
    await workers[0].call('lock', { target: 3, site: LockSite.purge });
    assert.equal(main.tryLock(3, LockSite.control), false);
    assert.equal(main.tryLock(3, LockSite.control, 1000), false, 'a spinning try-lock also gives up');
    await workers[0].call('unlock', { target: 3 });
    assert.equal(main.tryLock(3, LockSite.control, 1000), true);
    main.unlock(3);
    const stats = readLockStats(state, 3);
    assert.equal(stats.tryFailed - before.tryFailed, 2);
    assert.equal(stats.acquisitions.control - before.acquisitions.control, 1);

    assert.throws(() => main.lock(3, LockSite.control), { code: ShmErrorCode.MAIN_THREAD_BLOCK });
    assert.throws(() => main.unlock(3), { code: ShmErrorCode.LOCK_NOT_HELD });
    assert.throws(() => new TakeoverLocks(state, 0), RangeError, 'the main thread cannot pose as worker 0');
  });
});
