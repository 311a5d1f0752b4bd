import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FcgiResponder } from '../../src/fcgi/responder.ts';
import type { PoolRuntime } from '../../src/pool/pool-runtime.ts';
import { StatsReader } from '../../src/shm/stats-reader.ts';
import {
  body,
  getParams,
  poolOnPhpFpm,
  responderConnection,
  run,
  serverSettings,
  startTestPool,
} from '../helpers/pool.ts';

describe('takeover moves the real backend connection between threads', () => {
  let responder: FcgiResponder;
  let pool: PoolRuntime;
  let responderPort = 0;

  before(async () => {
    responder = new FcgiResponder();
    const { host, port } = await responder.listen(0, '127.0.0.1');
    responderPort = port;
    pool = await startTestPool({ threads: 2, address: { kind: 'tcp', host, port } });
  });
  after(async () => {
    await pool.stop(2000);
    await responder.close();
  });

  it('after a takeover the same responder connection serves thread 1', async () => {
    const first = await run(pool, 0, getParams('/'));
    const connId = responderConnection(first);
    assert.equal(first.thread, 0);
    const idle = await pool.listIdle({ server: 0 });
    assert.deepEqual(
      idle.map((c) => c.thread),
      [0],
      'the connection is idle on thread 0',
    );

    assert.match(idle[0].localAddress, /^127\.0\.0\.1:\d+$/, 'the socket address is listed');
    assert.equal(idle[0].remoteAddress, `127.0.0.1:${responderPort}`);

    const moved = await pool.takeover({ server: 0, fromThread: 0, toThread: 1, count: 1 });
    assert.equal(moved.moved.length, 1, String(moved.reason));
    assert.equal(moved.moved[0].connId, idle[0].id, 'connection ids stay stable across a takeover');
    const after = await pool.listIdle({ server: 0 });
    assert.deepEqual(
      after.map((c) => [c.id, c.thread]),
      [[idle[0].id, 1]],
      'the moved connection is listed on thread 1',
    );
    assert.equal(after[0].localAddress, idle[0].localAddress, 'the same socket, moved');

    const second = await run(pool, 1, getParams('/'));
    assert.equal(second.thread, 1);
    assert.equal(second.reused, true);
    assert.equal(responderConnection(second), connId, 'same backend connection, now on thread 1');
    assert.equal(responder.connections(), 1, 'the responder saw one connection only');
  });

  it('Takeover reports why fewer connections moved than asked', async () => {
    const r = await pool.takeover({ server: 0, fromThread: 0, toThread: 1, count: 3 });
    assert.ok(r.moved.length < 3);
    assert.match(r.reason ?? '', /idle connection/);
  });
});

describe('takeover in front of a real php-fpm', () => {
  it('the same php-fpm child (getmypid) serves requests from two threads', async (t) => {
    const { fpm, pool } = await poolOnPhpFpm(t, { children: 2 });
    const script = `${fpm.docroot}/pid.php`;
    const a = await run(pool, 0, getParams('/pid.php', script));
    const pid = body(a).trim();
    assert.match(pid, /^\d+$/);
    const moved = await pool.takeover({ server: 0, fromThread: 0, toThread: 1, count: 1 });
    assert.equal(moved.moved.length, 1, String(moved.reason));
    const b = await run(pool, 1, getParams('/pid.php', script));
    assert.equal(b.thread, 1);
    assert.equal(body(b).trim(), pid, 'thread 1 talks to the same php-fpm child over the moved connection');
    assert.equal(b.connectionId, a.connectionId);
  });

  it('pm.max_children = 1, two threads under concurrent load: every request completes, connections moved', async (t) => {
    const { fpm, pool } = await poolOnPhpFpm(t, { children: 1 }, { maxConnections: 1 });
    const stats = new StatsReader(pool.shm);
    const script = `${fpm.docroot}/hello.php`;
    const perThread = 40;
    const client = async (thread: number) => {
      const served: number[] = [];
      for (let i = 0; i < perThread; i++) {
        const r = await run(pool, thread, getParams('/hello.php', script), 5000);
        assert.match(body(r), /hello/);
        served.push(r.connectionId);
      }
      return served;
    };
    const results = await Promise.all([client(0), client(1), client(0), client(1)]);
    assert.equal(results.flat().length, 4 * perThread, 'every request got its response');
    assert.equal(
      new Set(results.flat()).size,
      1,
      'one php-fpm child, one connection, shared by both threads',
    );
    const snap = stats.snapshot();
    const moves = snap.threads.reduce(
      (n, th) => n + th.servers[0].takeovers.success + th.servers[0].pushed,
      0,
    );
    assert.ok(moves > 0, 'the connection moved between threads');
    assert.equal(snap.servers[0].curConns, 1, 'never more than pm.max_children connections');
  });
});

describe('servers managed at run time', () => {
  it('a server added, drained and removed without a restart', async (t) => {
    const a = new FcgiResponder();
    const b = new FcgiResponder();
    const aa = await a.listen(0, '127.0.0.1');
    const ba = await b.listen(0, '127.0.0.1');
    t.after(() => Promise.all([a.close(), b.close()]));
    const pool = await startTestPool({ threads: 2, address: { kind: 'tcp', host: aa.host, port: aa.port } });
    t.after(() => pool.stop(2000));
    const index = await pool.addServer(
      serverSettings('second', { kind: 'tcp', host: ba.host, port: ba.port }, 2),
    );
    const r = await pool.execute({
      thread: 1,
      server: index,
      params: getParams('/'),
      stdin: new Uint8Array(0),
      timeoutMs: 5000,
    });
    assert.match(Buffer.from(r.stdout).toString(), /embedded FastCGI responder/);
    assert.equal(b.connectionsAccepted, 1, 'the request went to the added server');
    const listed = pool.listServers().find((s) => s.name === 'second');
    assert.equal(listed?.state, 'READY');
    assert.equal(listed?.connections, 1);

    await pool.setServerState(index, 'DRAIN');
    assert.equal(
      pool.listServers().find((s) => s.name === 'second')?.connections,
      0,
      'drain closed its idle connection',
    );
    await assert.rejects(
      pool.execute({
        thread: 0,
        server: index,
        params: getParams('/'),
        stdin: new Uint8Array(0),
        timeoutMs: 1000,
      }),
      /not accepting requests/,
    );
    await pool.removeServer(index);
    assert.equal(
      pool.listServers().some((s) => s.name === 'second'),
      false,
    );
  });
});
