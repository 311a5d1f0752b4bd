import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatsReader } from '../../src/shm/stats-reader.ts';
import { idleClosingPool, loadThenIdle } from '../helpers/pool.ts';

async function load(fastPath: boolean) {
  // the backend closes connections idle for 150 ms: those EOFs are the idle wake-ups
  const { responder, pool } = await idleClosingPool(fastPath);
  const stats = new StatsReader(pool.shm);
  const requests = 200;
  await loadThenIdle(pool, requests);
  const opened = pool.shm.counters.opened(0);
  const snap = stats.snapshot();
  const closed = opened - pool.shm.counters.curConns(0);
  await pool.stop(2000);
  await responder.close();
  const sum = (f: (t: (typeof snap.threads)[0]) => number) => snap.threads.reduce((n, t) => n + f(t), 0);
  return {
    requests,
    closed,
    usr1Fast: sum((t) => t.usr1Fast),
    locked: sum((t) => t.locked),
    wakeLocks: sum((t) => t.lock.acquisitions.wake),
  };
}

describe('the USR1 fast path', () => {
  it('with fastPath on, only wake-ups of idle connections take the lock', async () => {
    const r = await load(true);
    assert.ok(r.usr1Fast >= r.requests, `every request had unlocked wake-ups (${r.usr1Fast})`);
    assert.ok(r.closed > 0, 'the backend closed idle connections');
    // the locked ones are the EOFs of idle connections closed by the backend, not request traffic
    // (not locked ≥ closed: on a loaded machine the backend may also close a connection just
    // attached to a request, whose EOF then rightly takes the fast path)
    assert.ok(r.locked > 0, 'the EOFs of idle connections took the lock');
    assert.ok(
      r.locked <= r.closed * 3,
      `locked ${r.locked} stays near the idle wake-ups (${r.closed} closed)`,
    );
    assert.ok(r.locked / (r.locked + r.usr1Fast) < 0.05, 'a small share of all wake-ups');
    assert.equal(r.wakeLocks, r.locked, 'each locked wake-up is one acquisition at the wake site');
  });

  it('with fastPath off, every wake-up takes the lock (HAProxy before the patch)', async () => {
    const r = await load(false);
    assert.equal(r.usr1Fast, 0);
    assert.ok(r.locked >= r.requests, `every request's wake-ups were locked (${r.locked})`);
    assert.equal(r.wakeLocks, r.locked);
  });
});
