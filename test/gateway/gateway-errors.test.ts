// Failures end in clear answers, and nothing runs twice by surprise: a slow script is a 504,
// no free connection within the queue timeout a 503, php-fpm killed mid-response a 502 (or a
// cut response if it had started), and a restarted php-fpm serves again without restarting
// the gateway. A request killed under a POST is never run again; one under a GET is, once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type PhpFpm, startPhpFpm } from '../helpers/php-fpm.ts';
import { send, startTestGateway, type TestGateway } from './gateway-harness.ts';

/** php-fpm and a gateway with one connection, a short queue and a short read timeout. */
let fpmQ: PhpFpm;
let gwQ: TestGateway;
/** php-fpm that gets killed and restarted, behind its own gateway. */
let fpmK: PhpFpm;
let gwK: TestGateway;

before(async () => {
  [fpmQ, fpmK] = await Promise.all([startPhpFpm({ children: 2 }), startPhpFpm({ children: 2 })]);
  [gwQ, gwK] = await Promise.all([
    startTestGateway({
      servers: [fpmQ.address],
      serverDefaults: { maxConnections: 1, readTimeoutMs: 700 },
      pool: { queueTimeoutMs: 300 },
      app: { docroot: fpmQ.docroot },
    }),
    startTestGateway({
      servers: [fpmK.address],
      serverDefaults: { maxConnections: 2 },
      app: { docroot: fpmK.docroot },
    }),
  ]);
});

after(async () => {
  await Promise.all([gwQ?.stop(), gwK?.stop()]);
  await Promise.all([fpmQ?.stop(), fpmK?.stop()]);
});

/** Resolves with the first body chunk's arrival; the whole reply (or its error) in `done`. */
function startStreaming(port: number, path: string) {
  let firstChunk!: () => void;
  const started = new Promise<void>((r) => {
    firstChunk = r;
  });
  const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        firstChunk();
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
  return { started, done };
}

async function waitFor(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('timeouts and capacity', () => {
  test('a script slower than the read timeout is a 504 that says why', async () => {
    const r = await send(gwQ.port, '/sleep.php?ms=1500');
    assert.equal(r.status, 504);
    assert.match(r.body.toString(), /did not answer in time/);
    assert.ok(r.headers['x-request-id']);
  });

  test('no connection within the queue timeout is a 503 with Retry-After; the holder still succeeds', async () => {
    const holder = send(gwQ.port, '/sleep.php?ms=600');
    await new Promise((r) => setTimeout(r, 100));
    const refused = await send(gwQ.port, '/hello.php');
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assert.match(refused.body.toString(), /No PHP backend worker is free/);
    assert.equal((await holder).status, 200);
  });

  test('a client that leaves frees its backend connection at once', async () => {
    // the only connection runs a 600 ms script for a client that hangs up after 100 ms
    const leaving = http.get({ host: '127.0.0.1', port: gwQ.port, path: '/sleep.php?ms=600', agent: false });
    leaving.on('error', () => {});
    await new Promise((r) => setTimeout(r, 100));
    leaving.destroy();
    await new Promise((r) => setTimeout(r, 50));
    // were that connection still held, this would wait past the 300 ms queue timeout: a 503
    const next = await send(gwQ.port, '/hello.php');
    assert.equal(next.status, 200);
  });

  test('a client that stops reading longer than the read timeout is not cut off', async () => {
    const n = 4 * 1024 * 1024;
    const got = await new Promise<number>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: gwQ.port, path: `/big.php?bytes=${n}`, agent: false });
      req.on('error', reject);
      req.on('response', (res) => {
        let bytes = 0;
        let paused = false;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (!paused) {
            paused = true;
            res.pause();
            setTimeout(() => res.resume(), 1500);
          }
        });
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
      });
    });
    assert.equal(got, n);
  });
});

describe('php-fpm killed and restarted', () => {
  const countFile = (name: string) => `/tmp/fcgi-pool-count-${name}`;
  /** One line per run of count.php under this name: "<php-fpm child pid> <body length>". */
  const lines = (name: string) =>
    existsSync(countFile(name)) ? readFileSync(countFile(name), 'utf8').split('\n').filter(Boolean) : [];
  /** The pids of the php-fpm children that ran count.php under this name, one per run. */
  const runs = (name: string) => lines(name).map((l) => Number(l.split(' ')[0]));

  test('a POST whose php-fpm child dies is a 502 and never runs again; a GET runs again, once', async () => {
    for (const [method, expectRuns, expectStatus] of [
      ['POST', 1, 502],
      ['GET', 2, 200],
    ] as const) {
      const name = randomBytes(6).toString('hex');
      try {
        const reply = send(gwK.port, `/count.php?file=${name}&ms=800`, {
          method,
          body: method === 'POST' ? 'x' : undefined,
        });
        await waitFor('the script to start', () => runs(name).length === 1);
        process.kill(runs(name)[0], 'SIGKILL'); // the child dies under the request; the master forks another
        const r = await reply;
        assert.equal(r.status, expectStatus, method);
        assert.equal(runs(name).length, expectRuns, `${method}: times the script ran`);
        if (method === 'GET') assert.notEqual(runs(name)[1], runs(name)[0], 'the retry ran on another child');
      } finally {
        rmSync(countFile(name), { force: true });
      }
    }
  });

  test('a retried PUT sends its spooled 1 MiB body again, whole', async () => {
    const name = randomBytes(6).toString('hex');
    const body = Buffer.alloc(1024 * 1024, 'x');
    try {
      const reply = send(gwK.port, `/count.php?file=${name}&ms=800`, {
        method: 'PUT',
        body,
        chunked: 65536,
      });
      await waitFor('the script to start', () => runs(name).length === 1);
      process.kill(runs(name)[0], 'SIGKILL');
      const r = await reply;
      assert.equal(r.status, 200);
      assert.deepEqual(
        lines(name).map((l) => l.split(' ')[1]),
        [String(body.length), String(body.length)],
        'both runs read the whole body',
      );
    } finally {
      rmSync(countFile(name), { force: true });
    }
  });

  test('killed mid-response: a started response is cut, a waiting one is a 502, nothing hangs; restarted: served again', async () => {
    const waiting = send(gwK.port, '/sleep.php?ms=3000');
    const streaming = startStreaming(gwK.port, '/slow-stream.php?ms=3000');
    await streaming.started;
    fpmK.kill();
    await assert.rejects(streaming.done, 'the started response is cut off, not passed as complete');
    const w = await waiting;
    assert.equal(w.status, 502);
    assert.match(w.body.toString(), /PHP backend failed/);
    const down = await send(gwK.port, '/hello.php');
    assert.equal(down.status, 502, 'php-fpm is down: refused connections are a 502 at once');
    await fpmK.restart();
    const up = await send(gwK.port, '/hello.php');
    assert.equal(up.status, 200, 'served again without restarting the gateway');
    assert.equal(up.body.toString(), 'hello\n');
  });
});
