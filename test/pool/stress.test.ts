import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FcgiResponder } from '../../src/fcgi/responder.ts';
import type { ResponderRequest, ResponderResponse } from '../../src/fcgi/responder-types.ts';
import { checkInvariants } from '../../src/shm/invariants.ts';
import { StatsReader } from '../../src/shm/stats-reader.ts';
import { body, getParams, responderConnection, run, startTestPool } from '../helpers/pool.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stress: requests, takeovers, purges and backend closes at once', () => {
  it('every request gets exactly one response and the shared state stays consistent', async (t) => {
    const served = new Map<string, number>();
    const responder = new FcgiResponder({
      // the backend closes connections idle for 60 ms: EOFs race with reuse and takeover
      closeIdleAfterMs: 60,
      app(req: ResponderRequest, res: ResponderResponse) {
        const id = new URLSearchParams(req.params.QUERY_STRING).get('id') ?? '';
        served.set(id, (served.get(id) ?? 0) + 1);
        res.setHeader('Content-Type', 'text/plain');
        res.write(id);
        res.end();
      },
    });
    const { host, port } = await responder.listen(0, '127.0.0.1');
    t.after(() => responder.close());
    const threads = 3;
    const pool = await startTestPool({ threads, maxConnections: 4, address: { kind: 'tcp', host, port } });
    t.after(() => pool.stop(2000));

    const total = 1500;
    let next = 0;
    const answers = new Map<string, string>();
    const failures: string[] = [];
    const client = async (thread: number) => {
      while (next < total) {
        const id = String(next++);
        try {
          const r = await run(pool, thread, getParams(`/x?id=${id}`), 10_000);
          responderConnection(r);
          answers.set(id, body(r));
        } catch (err) {
          failures.push(`${id}: ${(err as Error).message}`);
        }
      }
    };
    let busy = true;
    const chaos = async () => {
      let i = 0;
      while (busy) {
        const from = i % threads;
        const to = (i + 1) % threads;
        i++;
        await pool.takeover({ server: 0, fromThread: from, toThread: to, count: 2 });
        if (i % 5 === 0) await pool.purge({ minIdleMs: 0, thread: i % threads });
        await sleep(2);
      }
    };
    const clients = [];
    for (let c = 0; c < 12; c++) clients.push(client(c % threads));
    const chaosDone = chaos();
    await Promise.all(clients);
    busy = false;
    await chaosDone;

    assert.deepEqual(failures.slice(0, 5), [], `no request failed (${failures.length} did)`);
    assert.equal(answers.size, total);
    for (const [id, text] of answers) assert.equal(text, id, `request ${id} got its own response`);
    const twice = [...served].filter(([, n]) => n !== 1);
    assert.deepEqual(twice, [], 'the backend ran every request exactly once');

    // quiescent: the backend closes the idle connections, the pool notices, and so does the
    // backend of the pool's own closes
    for (let i = 0; i < 250 && (pool.shm.counters.curConns(0) > 0 || responder.connections() > 0); i++) {
      await sleep(20);
    }
    assert.deepEqual(checkInvariants(pool.shm), []);
    assert.equal(pool.shm.counters.curConns(0), responder.connections(), 'open sockets match the counters');
    const snap = new StatsReader(pool.shm).snapshot();
    assert.equal(snap.slots.total - snap.slots.free, 0, 'every slot is free again');
    const moved = snap.threads.reduce((n, th) => n + th.servers[0].takeovers.success, 0);
    assert.ok(moved > 0, 'takeovers happened during the load');
  });
});

describe('a worker that dies', () => {
  it('is restarted and its connections go back to the pool', async (t) => {
    const responder = new FcgiResponder();
    const { host, port } = await responder.listen(0, '127.0.0.1');
    t.after(() => responder.close());
    const pool = await startTestPool({ threads: 2, maxConnections: 2, address: { kind: 'tcp', host, port } });
    t.after(() => pool.stop(2000));
    await Promise.all([run(pool, 1, getParams('/sleep?ms=50')), run(pool, 1, getParams('/sleep?ms=50'))]);
    assert.equal(pool.shm.counters.curConns(0), 2, 'thread 1 holds both connections (the cap)');
    const restarted = new Promise((r) => pool.supervisor.once('ready', r));
    await pool.supervisor.kill(1);
    await restarted;
    assert.equal(pool.shm.counters.curConns(0), 0, 'the dead worker’s connections were reclaimed');
    assert.deepEqual(checkInvariants(pool.shm), []);
    // the capacity is usable again, by both threads
    const [a, b] = await Promise.all([run(pool, 0, getParams('/')), run(pool, 1, getParams('/'))]);
    assert.equal(a.thread, 0);
    assert.equal(b.thread, 1);
  });
});

describe('a worker that cannot start', () => {
  it('fails the start with its error instead of restarting in a loop', async () => {
    await assert.rejects(
      startTestPool({
        threads: 2,
        address: { kind: 'tcp', host: '127.0.0.1', port: 9 },
        // a data-plane module that does not exist: every worker dies before it is ready
        gateway: { module: '/nonexistent/data-plane.ts', options: null },
      }),
      /Cannot find module|nonexistent/,
    );
  });
});
