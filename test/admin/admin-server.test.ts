// The admin server through inject(), in front of a real pool (worker threads, the embedded
// FastCGI responder): probes, the metrics contract (names, HELP, labels at 0 from the first
// scrape) and the status data.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildAdmin } from '../../src/admin/admin-server.ts';
import { FcgiResponder } from '../../src/fcgi/responder.ts';
import type { PoolRuntime } from '../../src/pool/pool-runtime.ts';
import { LOCK_SITE_NAMES, STATUS_CODE_NAMES, TAKEOVER_OUTCOME_NAMES } from '../../src/shm/offsets.ts';
import { getParams, run, startTestPool } from '../helpers/pool.ts';
import { type Exposition, parseExposition, sample } from './exposition.ts';

/** The families and labels DESIGN §6 and docs/metrics.md promise. */
const CONTRACT: Record<string, { type: string; labels: string[] }> = {
  fcgipool_lock_acquisitions_total: { type: 'counter', labels: ['thread', 'path'] },
  fcgipool_takeover_lock_acquired_total: { type: 'counter', labels: ['thread', 'site'] },
  fcgipool_takeover_lock_contended_total: { type: 'counter', labels: ['thread'] },
  fcgipool_takeover_lock_wait_seconds_total: { type: 'counter', labels: ['thread'] },
  fcgipool_server_connections: { type: 'gauge', labels: ['server', 'thread', 'state'] },
  fcgipool_server_connections_opened_total: { type: 'counter', labels: ['server'] },
  fcgipool_server_connection_reuses_total: { type: 'counter', labels: ['server'] },
  fcgipool_server_queue_length: { type: 'gauge', labels: ['server'] },
  fcgipool_takeovers_total: { type: 'counter', labels: ['server', 'result'] },
  fcgipool_takeover_handoff_seconds: { type: 'histogram', labels: [] },
  fcgipool_requests_total: { type: 'counter', labels: ['server', 'code'] },
  fcgipool_request_duration_seconds: { type: 'histogram', labels: ['server'] },
  fcgipool_event_loop_utilization_ratio: { type: 'gauge', labels: ['thread'] },
};

describe('admin server', () => {
  let responder: FcgiResponder;
  let pool: PoolRuntime;
  let admin: FastifyInstance;
  let draining = false;
  /** The very first scrape, before any request went through the pool. */
  let first: Exposition;

  before(async () => {
    responder = new FcgiResponder({});
    const { host, port } = await responder.listen(0, '127.0.0.1');
    pool = await startTestPool({ threads: 2, maxConnections: 4, address: { kind: 'tcp', host, port } });
    admin = buildAdmin({ runtime: pool, isDraining: () => draining });
    const res = await admin.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    first = parseExposition(res.body);
  });
  after(async () => {
    await admin?.close();
    await pool?.stop(2000);
    await responder?.close();
  });

  const scrape = async (): Promise<Exposition> => {
    const res = await admin.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return parseExposition(res.body);
  };

  it('/healthz answers while the process is alive', async () => {
    const res = await admin.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('/readyz is 200 with every worker up and a READY server, 503 while draining', async () => {
    let res = await admin.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().readyServers, ['backend']);
    draining = true;
    try {
      res = await admin.inject({ method: 'GET', url: '/readyz' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().status, 'draining');
      assert.equal(sample(await scrape(), 'fcgipool_ready', {}), 0);
    } finally {
      draining = false;
    }
    res = await admin.inject({ method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 200);
    assert.equal(sample(await scrape(), 'fcgipool_ready', {}), 1);
  });

  it('/readyz is 503 when no server is READY, and 200 again once one is', async () => {
    await pool.setServerState(0, 'DRAIN');
    try {
      const res = await admin.inject({ method: 'GET', url: '/readyz' });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().status, 'not ready');
      assert.deepEqual(res.json().readyServers, []);
      assert.equal(res.json().workersReady, true);
      const m = await scrape();
      assert.equal(sample(m, 'fcgipool_server_state', { server: 'backend', state: 'drain' }), 1);
      assert.equal(sample(m, 'fcgipool_server_state', { server: 'backend', state: 'ready' }), 0);
    } finally {
      await pool.setServerState(0, 'READY');
    }
    assert.equal((await admin.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });

  it('exposes every family of the contract with HELP, TYPE and its labels from the first scrape', () => {
    for (const [name, { type, labels }] of Object.entries(CONTRACT)) {
      const fam = first.families.get(name);
      assert.ok(fam, `${name} is exposed`);
      assert.equal(fam.type, type, `${name} is a ${type}`);
      assert.ok(fam.help.length > 20, `${name} has a HELP text`);
      assert.ok(fam.samples.length > 0, `${name} has samples before any traffic`);
      for (const s of fam.samples) {
        const names = Object.keys(s.labels).filter((l) => l !== 'le');
        assert.deepEqual(names.sort(), [...labels].sort(), `${name} labels`);
      }
    }
    for (const [name, fam] of first.families) {
      assert.ok(fam.help.length > 0, `${name} has HELP`);
      if (!name.startsWith('fcgipool_')) continue;
      if (fam.type === 'counter') assert.match(name, /_total$/, `counter ${name} ends in _total`);
      else assert.doesNotMatch(name, /_total$/, `${fam.type} ${name} does not end in _total`);
    }
    assert.ok(first.families.has('process_cpu_user_seconds_total'), 'default process metrics');
    assert.ok(first.families.has('nodejs_heap_size_used_bytes'));
  });

  it('docs/metrics.md documents every family it exposes, with its labels, and no other', () => {
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    const headings = [...doc.matchAll(/^### `(fcgipool_\w+)(?:\{([^}]*)\})?` — (\w+)$/gm)];
    const documented = new Map(headings.map((m) => [m[1], { labels: m[2] ?? '', type: m[3] }]));
    const exposed = [...first.families.values()].filter((f) => f.name.startsWith('fcgipool_'));
    for (const fam of exposed) {
      const d = documented.get(fam.name);
      assert.ok(d, `${fam.name} is documented`);
      assert.equal(d.type, fam.type, `${fam.name} is documented as a ${fam.type}`);
      const labels = new Set(fam.samples.flatMap((s) => Object.keys(s.labels)).filter((l) => l !== 'le'));
      assert.equal(d.labels, [...labels].join(', '), `${fam.name} labels`);
    }
    assert.deepEqual(
      [...documented.keys()].sort(),
      exposed.map((f) => f.name).sort(),
      'every documented family exists',
    );
  });

  it('initialises every known label value at 0: threads, the server, paths, sites, results, states, codes', () => {
    for (const thread of ['0', '1']) {
      for (const path of ['usr1_fast', 'locked']) {
        assert.equal(sample(first, 'fcgipool_lock_acquisitions_total', { thread, path }), 0);
      }
      for (const site of LOCK_SITE_NAMES) {
        assert.notEqual(sample(first, 'fcgipool_takeover_lock_acquired_total', { thread, site }), undefined);
      }
      assert.equal(sample(first, 'fcgipool_takeover_lock_contended_total', { thread }), 0);
      assert.equal(sample(first, 'fcgipool_takeover_lock_wait_seconds_total', { thread }), 0);
      for (const state of ['idle', 'safe', 'used']) {
        assert.equal(sample(first, 'fcgipool_server_connections', { server: 'backend', thread, state }), 0);
      }
      assert.notEqual(sample(first, 'fcgipool_event_loop_utilization_ratio', { thread }), undefined);
    }
    for (const result of TAKEOVER_OUTCOME_NAMES) {
      assert.equal(sample(first, 'fcgipool_takeovers_total', { server: 'backend', result }), 0);
    }
    for (const code of STATUS_CODE_NAMES) {
      assert.equal(sample(first, 'fcgipool_requests_total', { server: 'backend', code }), 0);
    }
    assert.equal(sample(first, 'fcgipool_server_connections_opened_total', { server: 'backend' }), 0);
    assert.equal(sample(first, 'fcgipool_server_connection_reuses_total', { server: 'backend' }), 0);
    assert.equal(sample(first, 'fcgipool_server_queue_length', { server: 'backend' }), 0);
    assert.equal(sample(first, 'fcgipool_takeover_handoff_seconds_count', {}), 0);
    assert.equal(sample(first, 'fcgipool_takeover_handoff_seconds_bucket', { le: '+Inf' }), 0);
    assert.equal(sample(first, 'fcgipool_request_duration_seconds_count', { server: 'backend' }), 0);
    assert.equal(
      sample(first, 'fcgipool_request_duration_seconds_bucket', { server: 'backend', le: '0.001' }),
      0,
    );
  });

  it('counts what the pool did: fast-path wake-ups, opens, reuses, a takeover with its hand-off, requests', async () => {
    for (let i = 0; i < 6; i++) await run(pool, i % 2, getParams('/'));
    // thread 1 takes thread 0's idle connection over: one successful move
    const moved = await pool.takeover({ server: 0, fromThread: 0, toThread: 1, count: 1 });
    assert.equal(moved.moved.length, 1, moved.reason ?? 'one connection moved');
    pool.shm.stats.requestDone(0, 0, 200, 1500);
    pool.shm.stats.requestDone(1, 0, 418, 40_000);
    const m = await scrape();
    const fast = ['0', '1'].map((thread) =>
      sample(m, 'fcgipool_lock_acquisitions_total', { thread, path: 'usr1_fast' }),
    );
    assert.ok(
      fast.every((n) => n !== undefined && n >= 3),
      `both threads' wake-ups took the fast path (${fast})`,
    );
    assert.ok(sample(m, 'fcgipool_server_connections_opened_total', { server: 'backend' })! >= 2);
    assert.ok(sample(m, 'fcgipool_server_connection_reuses_total', { server: 'backend' })! >= 4);
    assert.equal(sample(m, 'fcgipool_takeovers_total', { server: 'backend', result: 'success' }), 1);
    assert.equal(sample(m, 'fcgipool_takeover_handoff_seconds_count', {}), 1);
    assert.ok(sample(m, 'fcgipool_takeover_lock_acquired_total', { thread: '0', site: 'handoff' })! >= 1);
    assert.equal(sample(m, 'fcgipool_requests_total', { server: 'backend', code: '200' }), 1);
    assert.equal(sample(m, 'fcgipool_requests_total', { server: 'backend', code: '4xx' }), 1);
    assert.equal(sample(m, 'fcgipool_request_duration_seconds_count', { server: 'backend' }), 2);
    assert.equal(
      sample(m, 'fcgipool_request_duration_seconds_bucket', { server: 'backend', le: '0.0025' }),
      1,
    );
    assert.equal(sample(m, 'fcgipool_request_duration_seconds_bucket', { server: 'backend', le: '0.05' }), 2);
    const idle = ['0', '1'].map(
      (thread) =>
        sample(m, 'fcgipool_server_connections', { server: 'backend', thread, state: 'idle' })! +
        sample(m, 'fcgipool_server_connections', { server: 'backend', thread, state: 'safe' })!,
    );
    assert.ok(idle[1] >= 1, `the moved connection is idle on thread 1 (${idle})`);
  });

  it('shows a server added at run time from its first scrape, at 0', async () => {
    const index = await pool.addServer({ ...pool.servers[0]!, name: 'added' });
    try {
      const m = await scrape();
      assert.equal(sample(m, 'fcgipool_takeovers_total', { server: 'added', result: 'busy' }), 0);
      assert.equal(
        sample(m, 'fcgipool_server_connections', { server: 'added', thread: '1', state: 'used' }),
        0,
      );
    } finally {
      await pool.removeServer(index, 1000);
    }
    const m = await scrape();
    assert.equal(sample(m, 'fcgipool_takeovers_total', { server: 'added', result: 'busy' }), undefined);
  });

  it('/status.json describes threads, servers, idle lists and takeovers', async () => {
    const res = await admin.inject({ method: 'GET', url: '/status.json' });
    assert.equal(res.statusCode, 200);
    const s = res.json();
    assert.equal(s.ready, true);
    assert.deepEqual(
      s.threads.map((t: { thread: number }) => t.thread),
      [0, 1],
    );
    assert.ok(s.threads.every((t: { usr1Fast: number }) => t.usr1Fast > 0));
    assert.equal(s.servers.length, 1);
    assert.equal(s.servers[0].name, 'backend');
    assert.equal(s.servers[0].state, 'READY');
    assert.ok(s.servers[0].takeovers.success >= 1);
    assert.equal(s.idle.total, s.idle.shown.length);
    assert.ok(s.idle.total >= 1, 'idle connections are listed');
    assert.equal(s.idle.shown[0].server, 'backend');
  });

  it('serves the status page with its script and a CSP that forbids inline script', async () => {
    const page = await admin.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.match(page.body, /<script src="status\.js"/);
    const js = await admin.inject({ method: 'GET', url: '/status.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.body, /status\.json/);
    assert.equal((await admin.inject({ method: 'GET', url: '/nope' })).statusCode, 404);
  });
});
