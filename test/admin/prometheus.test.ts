// A real Prometheus scrapes the admin servers of two pools while requests run through them, and
// the story of the USR1 patch is read back through its query API, as an operator would:
// with the fast path on, wake-ups of busy connections skip the lock (usr1_fast grows with
// traffic) and only the idle connections' wake-ups lock (the backend closes idle connections
// after 150 ms, so each brings an EOF); with it off, every wake-up locks and usr1_fast stays 0.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildAdmin } from '../../src/admin/admin-server.ts';
import type { FcgiResponder } from '../../src/fcgi/responder.ts';
import type { PoolRuntime } from '../../src/pool/pool-runtime.ts';
import { idleClosingPool, loadThenIdle } from '../helpers/pool.ts';
import { type Prometheus, startPrometheus } from './prometheus.ts';

interface Side {
  responder: FcgiResponder;
  pool: PoolRuntime;
  admin: FastifyInstance;
  target: string;
}

async function startSide(fastPath: boolean): Promise<Side> {
  const { responder, pool } = await idleClosingPool(fastPath);
  const admin = buildAdmin({ runtime: pool });
  await admin.listen({ host: '127.0.0.1', port: 0 });
  const addr = admin.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('admin is not on TCP');
  return { responder, pool, admin, target: `127.0.0.1:${addr.port}` };
}

async function stopSide(side: Side | undefined): Promise<void> {
  if (!side) return;
  await side.admin.close();
  await side.pool.stop(2000);
  await side.responder.close();
}

/** `requests` requests over both threads, then waits until the backend closed every idle connection. */
async function load(side: Side, requests: number): Promise<void> {
  assert.ok(await loadThenIdle(side.pool, requests), 'the backend closed the idle connections');
}

/** What the pool's own counters say now (all threads). */
function totals(side: Side) {
  const snap = side.pool.stats.snapshot();
  return {
    usr1Fast: snap.threads.reduce((n, t) => n + t.usr1Fast, 0),
    locked: snap.threads.reduce((n, t) => n + t.locked, 0),
    opened: snap.servers[0].opened,
  };
}

const wakeups = (job: string, path: string) =>
  `sum(fcgipool_lock_acquisitions_total{job="${job}",path="${path}"})`;

describe('metrics scraped by a real Prometheus', () => {
  let fast: Side;
  let locked: Side;
  let prom: Prometheus;

  before(async () => {
    fast = await startSide(true);
    locked = await startSide(false);
    prom = await startPrometheus({ fast: fast.target, locked: locked.target });
    // the first scrape of each job, before any traffic: every series exists at 0
    for (const job of ['fast', 'locked']) {
      await prom.waitFor(`fcgipool_lock_acquisitions_total{job="${job}"}`, (r) => r.length === 4);
    }
  });
  after(async () => {
    await prom?.stop();
    await stopSide(fast);
    await stopSide(locked);
  });

  it('scrapes every admin target, with the series initialised before any traffic', async () => {
    const up = await prom.query('up');
    assert.deepEqual(up.map((s) => [s.metric.job, s.value]).sort(), [
      ['fast', 1],
      ['locked', 1],
    ]);
    for (const job of ['fast', 'locked']) {
      const r = await prom.query(`fcgipool_takeovers_total{job="${job}"}`);
      assert.deepEqual(r.map((s) => s.metric.result).sort(), ['busy', 'empty', 'failed', 'success']);
    }
  });

  it('with the fast path on, usr1_fast grows with traffic and locked stays near the idle wake-ups', async () => {
    const requests = 120;
    await load(fast, requests);
    const a = totals(fast);
    // Prometheus catches up with the pool's own counters at its next scrape
    await prom.waitFor(wakeups('fast', 'usr1_fast'), (r) => r[0]?.value === a.usr1Fast);
    await prom.waitFor(wakeups('fast', 'locked'), (r) => r[0]?.value === a.locked);
    const fast1 = await prom.value(wakeups('fast', 'usr1_fast'));
    const locked1 = await prom.value(wakeups('fast', 'locked'));
    const closed1 = await prom.value('sum(fcgipool_server_connections_opened_total{job="fast"})');
    assert.equal(closed1, a.opened, 'every opened connection was closed by the backend while idle');
    assert.ok(fast1 >= requests, `every request had unlocked wake-ups (usr1_fast ${fast1})`);
    // (not locked ≥ closes: on a loaded machine the backend may close a connection just as a
    // request is attached to it, and that EOF rightly takes the fast path)
    assert.ok(locked1 > 0, `idle closes took the lock (${locked1})`);
    assert.ok(locked1 <= 3 * closed1, `locked ${locked1} stays near the idle wake-ups (${closed1} closes)`);

    await load(fast, requests);
    const b = totals(fast);
    await prom.waitFor(wakeups('fast', 'usr1_fast'), (r) => r[0]?.value === b.usr1Fast);
    await prom.waitFor(wakeups('fast', 'locked'), (r) => r[0]?.value === b.locked);
    const fast2 = await prom.value(wakeups('fast', 'usr1_fast'));
    const locked2 = await prom.value(wakeups('fast', 'locked'));
    const closed2 = b.opened - closed1;
    assert.ok(fast2 - fast1 >= requests, `usr1_fast grew with the second round (${fast1} → ${fast2})`);
    assert.ok(
      locked2 - locked1 <= 3 * closed2,
      `locked grew only with the idle closes (${locked1} → ${locked2})`,
    );

    // the fast-path share from docs/metrics.md
    const share = await prom.value(
      'sum(increase(fcgipool_lock_acquisitions_total{job="fast",path="usr1_fast"}[5m])) / sum(increase(fcgipool_lock_acquisitions_total{job="fast"}[5m]))',
    );
    assert.ok(share > 0.9 && share <= 1, `most wake-ups took the fast path (${share})`);
    // every wake-up that locked is one acquisition of the lock at the wake site
    assert.equal(
      await prom.value('sum(fcgipool_takeover_lock_acquired_total{job="fast",site="wake"})'),
      locked2,
    );
    // the worker threads published their event-loop utilisation
    await prom.waitFor(
      'max_over_time(fcgipool_event_loop_utilization_ratio{job="fast"}[5m]) > 0',
      (r) => r.length === 2,
    );
  });

  it('with the fast path off, locked counts every wake-up and usr1_fast stays 0', async () => {
    const requests = 120;
    await load(locked, requests);
    const c = totals(locked);
    await prom.waitFor(wakeups('locked', 'locked'), (r) => r[0]?.value === c.locked);
    const series = await prom.query(`fcgipool_lock_acquisitions_total{job="locked",path="usr1_fast"}`);
    assert.equal(series.length, 2, 'the usr1_fast series exist for both threads');
    assert.ok(
      series.every((s) => s.value === 0),
      'no wake-up skipped the lock',
    );
    const lockedN = await prom.value(wakeups('locked', 'locked'));
    assert.ok(lockedN >= requests, `every request's wake-ups were locked (${lockedN})`);
    assert.equal(
      await prom.value('sum(fcgipool_takeover_lock_acquired_total{job="locked",site="wake"})'),
      lockedN,
    );
    // the same traffic on the fast-path pool locked far less often
    const fastLocked = await prom.value(wakeups('fast', 'locked'));
    assert.ok(fastLocked * 2 < lockedN, `fast path ${fastLocked} locked wake-ups vs ${lockedN} without it`);
  });
});
