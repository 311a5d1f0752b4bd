import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ListKind, LockSite, SharedState, TakeoverOutcome, ThreadWord } from '../../src/shm/layout.ts';
import { StatsReader } from '../../src/shm/stats-reader.ts';
import { ShmWorker } from './fixtures/worker-client.ts';

describe('stats reader', () => {
  let state: SharedState;
  let workers: ShmWorker[];

  before(() => {
    state = SharedState.create({ threads: 2, maxServers: 3, maxSlots: 8 });
    state.counters.configure(0, 4);
    state.counters.configure(2, 1);
    workers = [new ShmWorker(state.sab, 0), new ShmWorker(state.sab, 1)];
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });

  it('a 32-bit counter that wraps keeps growing in the snapshot (Prometheus counters never go back)', () => {
    const reader = new StatsReader(state);
    const word = state.layout.threadBase + 1 * state.layout.threadStride + ThreadWord.USR1_FAST;
    Atomics.store(state.i32, word, 0xffff_fffe | 0);
    const first = reader.snapshot().threads[1].usr1Fast;
    assert.equal(first, 2 ** 32 - 2);
    for (let i = 0; i < 5; i++) state.stats.usr1Fast(1);
    assert.equal(Atomics.load(state.i32, word), 3, 'the shared word itself wrapped');
    const second = reader.snapshot().threads[1].usr1Fast;
    assert.equal(second, 2 ** 32 + 3);
    assert.ok(second > first);
    Atomics.store(state.i32, word, 0);
  });

  it('reports what the workers did: lock use by site, idle connections, capacity, waiters', async () => {
    const reader = new StatsReader(state);
    const [w0, w1] = workers;
    const s0 = await w0.call<number>('open', { server: 0 });
    const s1 = await w0.call<number>('open', { server: 0 });
    await w0.call('detach', { slot: s0, kind: ListKind.SAFE });
    await w0.call('detach', { slot: s1, kind: ListKind.IDLE });
    await w1.call('steal', { from: 0, server: 0, kind: ListKind.SAFE });
    state.stats.takeover(1, 0, TakeoverOutcome.success);
    state.stats.takeover(1, 0, TakeoverOutcome.busy);
    state.waits.publish(1, 2, 3, state.nowMs() - 50);

    const snap = reader.snapshot();
    assert.deepEqual(
      snap.servers.map((s) => s.server),
      [0, 2],
      'only configured servers',
    );
    const srv0 = snap.servers[0];
    assert.equal(srv0.curConns, 2);
    assert.equal(srv0.maxConnections, 4);
    assert.equal(srv0.idle, 1);
    assert.equal(srv0.safe, 0, 'the safe one was stolen');
    const lock0 = snap.threads[0].lock;
    assert.equal(lock0.acquisitions.detach, 2);
    assert.equal(lock0.acquisitions.takeover, 1);
    assert.equal(lock0.holder, -1);
    assert.equal(snap.threads[1].servers[0].takeovers.success, 1);
    assert.equal(snap.threads[1].servers[0].takeovers.busy, 1);
    assert.equal(snap.slots.stolen, 1);
    assert.equal(snap.slots.idle, 1);
    assert.deepEqual(snap.servers[1].waitingThreads, [1]);
    assert.equal(snap.servers[1].queue, 3);
    assert.ok(snap.threads[1].servers[1].oldestWaitMs >= 50);

    // a later snapshot counts only on top: acquisitions by the main thread show as `control`
    assert.ok(state.lock.tryLock(0, LockSite.control));
    state.lock.unlock(0);
    const later = reader.snapshot();
    assert.equal(later.threads[0].lock.acquisitions.control, 1);
    assert.equal(later.threads[0].lock.acquisitions.detach, 2);
  });
});
