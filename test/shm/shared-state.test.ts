import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ShmErrorCode } from '../../src/errors.ts';
import { computeLayout, LINE_WORDS, SharedState, type ShmLayout } from '../../src/shm/layout.ts';
import { ShmWorker } from './fixtures/worker-client.ts';

describe('shared state', () => {
  const workers: ShmWorker[] = [];
  after(async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  });

  it('lays every region out on its own cache lines, without overlap', () => {
    for (const cfg of [
      { threads: 1, maxServers: 1, maxSlots: 1 },
      { threads: 3, maxServers: 5, maxSlots: 7 },
      { threads: 64, maxServers: 33, maxSlots: 1000 },
    ]) {
      const L: ShmLayout = computeLayout(cfg);
      const regions: Array<[string, number, number]> = [
        ['header', L.headerBase, LINE_WORDS],
        ['connId', L.connIdBase, LINE_WORDS],
        ['locks', L.lockBase, cfg.threads * L.lockStride],
        ['threads', L.threadBase, (cfg.threads + 1) * L.threadStride],
        ['lockStats', L.lockStatsBase, (cfg.threads + 1) * L.lockStatsAcquirerStride],
        ['lists', L.listBase, cfg.threads * L.listThreadStride],
        ['servers', L.serverBase, cfg.maxServers * L.serverStride],
        ['slots', L.slotBase, cfg.maxSlots * L.slotStride],
      ];
      let end = 0;
      for (const [name, base, size] of regions) {
        assert.equal(base % LINE_WORDS, 0, `${name} starts on a line`);
        assert.ok(base >= end, `${name} does not overlap the region before it`);
        end = base + size;
      }
      assert.ok(L.totalWords >= end);
      for (const stride of [
        L.lockStride,
        L.threadStride,
        L.lockStatsAcquirerStride,
        L.serverStride,
        L.slotStride,
      ]) {
        assert.equal(stride % LINE_WORDS, 0, 'per-writer regions are padded to whole lines');
      }
    }
    assert.throws(() => computeLayout({ threads: 65, maxServers: 1, maxSlots: 1 }), {
      code: 'FCGI_ERR_CONFIG',
    });
  });

  it('a worker reads the same shared clock as the main thread', async () => {
    const state = SharedState.create({ threads: 1, maxServers: 1, maxSlots: 1 });
    const w = new ShmWorker(state.sab, 0);
    workers.push(w);
    await w.call('nowMs');
    for (let i = 0; i < 5; i++) {
      const before = state.nowMs();
      const there = await w.call<number>('nowMs');
      const later = state.nowMs();
      // each thread rounds down on its own: one millisecond of slack either way
      assert.ok(there >= before - 1 && there <= later + 1, `${before} <= ${there} <= ${later}`);
    }
    assert.notEqual(state.nowMs(), 0, '0 is reserved for "no timestamp"');
  });

  it('refuses a buffer it did not lay out, or one laid out for another configuration', () => {
    assert.throws(() => SharedState.attach(new SharedArrayBuffer(4096)), { code: ShmErrorCode.BAD_HEADER });
    const state = SharedState.create({ threads: 2, maxServers: 2, maxSlots: 4 });
    assert.throws(() => SharedState.attach(state.sab, { threads: 2, maxServers: 2, maxSlots: 5 }), {
      code: ShmErrorCode.BAD_HEADER,
    });
    const again = SharedState.attach(state.sab);
    assert.deepEqual(again.cfg, state.cfg);
    assert.equal(again.self, 2, 'on the main thread the id is `threads`');
  });

  it('a worker that does not say which thread it is cannot attach', async () => {
    const state = SharedState.create({ threads: 2, maxServers: 1, maxSlots: 1 });
    const url = new URL('../../src/shm/layout.ts', import.meta.url).href;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(${JSON.stringify(url)}).then(({ SharedState }) => {
        try { SharedState.attach(workerData); parentPort.postMessage('attached'); }
        catch (e) { parentPort.postMessage(e.code); }
      });`;
    const w = new Worker(code, { eval: true, workerData: state.sab });
    const answer = await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    assert.equal(answer, ShmErrorCode.THREAD_ID);
  });

  it('connection ids are unique and never 0', () => {
    const state = SharedState.create({ threads: 1, maxServers: 1, maxSlots: 1 });
    const ids = new Set<number>();
    for (let i = 0; i < 1000; i++) ids.add(state.nextConnId());
    assert.equal(ids.size, 1000);
    assert.ok(!ids.has(0));
  });
});
