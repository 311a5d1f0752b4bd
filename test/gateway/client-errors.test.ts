// Requests node:http cannot parse, against `fcgi-pool serve` and a real php-fpm: each gets an
// answer that says why, in its turn after the answers before it on the connection, and an
// access-log line under the id the client got; then the connection closes. (node:http alone
// answers a bare 400 at once, ahead of a pipelined request's own answer, and logs nothing.)
// And clients that are slow or idle: the configured keep-alive and header timeouts hold on
// both fronts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { clientErrorReply } from '../../src/gateway/client-errors.ts';
import { type PhpFpm, startPhpFpm } from '../helpers/php-fpm.ts';
import { eventually, httpGet, logLines, type Serving, startServing } from '../helpers/serve-process.ts';
import { startTestGateway, type TestGateway } from './gateway-harness.ts';

let fpm: PhpFpm;
let gw: Serving;
/** In process, with short client timeouts. */
let quick: TestGateway;
const KEEP_ALIVE_MS = 1500;
const HEADER_MS = 700;

before(async () => {
  fpm = await startPhpFpm({ children: 2 });
  gw = await startServing([
    '--backend',
    fpm.address,
    '--docroot',
    fpm.docroot,
    '--threads',
    '1',
    '--warm-up',
    '0',
  ]);
  quick = await startTestGateway({
    threads: 1,
    servers: [fpm.address],
    serverDefaults: { maxConnections: 1 },
    app: { docroot: fpm.docroot, keepAliveTimeoutMs: KEEP_ALIVE_MS, headerTimeoutMs: HEADER_MS },
  });
});

after(async () => {
  await Promise.all([gw?.stop(), quick?.stop()]);
  await fpm?.stop();
});

/** Writes each string in turn (a number waits that many ms); all it read until the gateway closed. */
async function converse(...parts: Array<string | number>): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port: gw.port });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  for (const part of parts) {
    if (typeof part === 'number') await new Promise((r) => setTimeout(r, part));
    else socket.write(part);
  }
  await closed;
  return Buffer.concat(chunks).toString('latin1');
}

/** The answers in `raw`, one string each (none of these bodies holds a status line). */
function answers(raw: string): string[] {
  return raw.split(/(?=HTTP\/1\.1 \d{3} )/);
}

/** The access-log line of the request this answer's X-Request-Id names. */
function accessLine(answer: string): Promise<Record<string, unknown>> {
  const id = /\r\nX-Request-Id: (\S+)\r\n/i.exec(answer)?.[1];
  assert.ok(id !== undefined, `no X-Request-Id in ${JSON.stringify(answer)}`);
  // a worker's log lines are written in batches: wait for this one
  return eventually(async () => {
    const line = logLines(gw).find((l) => l.msg === 'request' && l.reqId === id);
    assert.ok(line, `no access line for ${id}`);
    return line;
  }, 3000);
}

/** How many times count.php ran under this name. */
function runs(name: string): number {
  const file = `/tmp/fcgi-pool-count-${name}`;
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

describe('requests the gateway cannot parse', { timeout: 20_000 }, () => {
  test('a malformed head pipelined behind a POST is answered after the POST, with a 400 that says why', async () => {
    const name = `client-errors-pipelined-${process.pid}`;
    try {
      const [post, bad, ...more] = answers(
        await converse(
          `POST /count.php?file=${name} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab` +
            'GET /hello.php HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
        ),
      );
      assert.match(post, /^HTTP\/1\.1 200 [\s\S]*\r\n\r\nran\n$/, 'the POST gets its own answer, first');
      assert.equal(runs(name), 1, 'and it ran once');
      assert.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(bad, /\r\nConnection: close\r\n/);
      assert.match(bad, /\r\n\r\n400 Bad Request\n.*\nmalformed request: invalid header token\n$/);
      assert.deepEqual(more, []);
      const line = await accessLine(bad);
      assert.deepEqual([line.status, line.why], [400, 'malformed request: invalid header token']);
    } finally {
      rmSync(`/tmp/fcgi-pool-count-${name}`, { force: true });
    }
  });

  test('a chunked body that breaks half-way is that request’s 400, and PHP never runs it', async () => {
    const name = `client-errors-chunked-${process.pid}`;
    const head = `POST /count.php?file=${name} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`;
    // the first chunk is read (and held) before the broken size line arrives
    const [answer, ...more] = answers(await converse(`${head}3\r\nabc\r\n`, 200, 'zz\r\nabc\r\n0\r\n\r\n'));
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /\r\nConnection: close\r\n/);
    assert.match(answer, /\nmalformed request: invalid character in chunk size\n$/);
    assert.deepEqual(more, []);
    assert.equal(runs(name), 0, 'no part of the request reached PHP');
    const line = await accessLine(answer);
    assert.deepEqual(
      [line.method, line.status, line.why],
      ['POST', 400, 'malformed request: invalid character in chunk size'],
    );
  });

  test('a chunked body that breaks after its request was refused ends the connection then', async () => {
    const head = 'POST /style.css HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
    // refused at once (no script), the rest of the body read and dropped ... until it breaks,
    // rather than after the 10 s the gateway gives a lingering upload
    const started = Date.now();
    const [answer, ...more] = answers(await converse(`${head}3\r\nabc\r\n`, 200, 'zz\r\n'));
    assert.ok(Date.now() - started < 5000, `the connection stayed open ${Date.now() - started} ms`);
    assert.match(answer, /^HTTP\/1\.1 404 /);
    assert.deepEqual(more, [], 'one answer for one request');
  });

  test('an oversized head is a 431 that names the limit; an HTTP/2 preface a 505', async () => {
    const big = await converse(`GET /hello.php HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431 /);
    assert.match(big, /\nthe request head is larger than \d+ bytes\n$/);
    const h2 = await converse('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    assert.match(h2, /^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/);
    assert.equal((await accessLine(h2)).status, 505);
  });
});

describe('answers without a backend', () => {
  test('are counted by code in fcgipool_gateway_answers_total (those above, and a refusal)', async () => {
    assert.match(
      await converse('GET /a/../../etc/x.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      /^HTTP\/1\.1 403 /,
    );
    const metrics = (await httpGet(gw.admin, '/metrics')).body;
    const count = (code: string) =>
      Number(
        new RegExp(`^fcgipool_gateway_answers_total\\{code="${code}"\\} (\\d+)$`, 'm').exec(metrics)?.[1],
      );
    // two 400s (a head, a chunked body), the 404 whose body broke, the 431 and the 505 of the
    // tests above, this 403; the POST that reached PHP is counted under its server instead
    assert.deepEqual(
      ['400', '403', '404', '4xx', '5xx', '200'].map(count),
      [2, 1, 1, 1, 1, 0],
      metrics
        .split('\n')
        .filter((l) => l.startsWith('fcgipool_gateway_answers_total'))
        .join('\n'),
    );
  });
});

/** A client connection read as it goes: what arrived so far, and when the gateway closed it. */
async function openClient(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  let text = '';
  socket.on('data', (c: Buffer) => {
    text += c.toString('latin1');
  });
  const closedAt = once(socket, 'close').then(() => Date.now());
  return {
    socket,
    /** Everything read once `count` answers have fully arrived (Content-Length bodies). */
    async answers(count: number): Promise<string> {
      return eventually(async () => {
        const got = answers(text).filter((a) => {
          const length = /\r\ncontent-length: (\d+)\r\n/i.exec(a);
          return length !== null && a.length - a.indexOf('\r\n\r\n') - 4 >= Number(length[1]);
        });
        assert.ok(got.length >= count, `${got.length} of ${count} answers: ${JSON.stringify(text)}`);
        return text;
      }, 5000);
    },
    closedAt,
  };
}

describe('slow and idle clients', { timeout: 20_000 }, () => {
  for (const [front, first] of [
    ['the fast front', 'GET /hello.php HTTP/1.1\r\nHost: x\r\n\r\n'],
    [
      'node:http (after a request with a body)',
      'POST /hello.php HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx',
    ],
  ]) {
    test(`${front}: an idle connection is kept for app.keepAliveTimeoutMs, then closed`, async () => {
      const client = await openClient(quick.port);
      client.socket.write(first);
      assert.match(await client.answers(1), /\r\nKeep-Alive: timeout=1\r\n/i);
      await new Promise((r) => setTimeout(r, 300));
      client.socket.write('GET /hello.php HTTP/1.1\r\nHost: x\r\n\r\n');
      const both = await client.answers(2);
      const idleFrom = Date.now();
      assert.match(answers(both)[1], /^HTTP\/1\.1 200 /, 'still open after 300 ms idle');
      const idleFor = (await client.closedAt) - idleFrom;
      // the fast front sweeps each second; node:http adds a second to its socket timeout
      assert.ok(
        idleFor >= KEEP_ALIVE_MS - 100 && idleFor < KEEP_ALIVE_MS + 3000,
        `closed after ${idleFor} ms idle`,
      );
    });

    test(`${front}: a head slower than app.headerTimeoutMs is a 408 that says why`, async () => {
      const client = await openClient(quick.port);
      client.socket.write(first);
      await client.answers(1);
      client.socket.write('GET /hello.php HTTP/1.1\r\nHost: x\r\nX-Slow');
      const started = Date.now();
      await client.closedAt;
      const late = answers(await client.answers(2))[1];
      assert.match(late, /^HTTP\/1\.1 408 /);
      assert.match(late, new RegExp(`within ${HEADER_MS} ms`));
      assert.ok(Date.now() - started >= HEADER_MS - 100, 'not before the timeout');
    });
  }
});

test('each parse error maps to the status nginx would answer; a reset gets none', () => {
  const limits = { maxHeaderBytes: 16384, headersTimeoutMs: 60_000, requestTimeoutMs: 300_000 };
  const reply = (code: string, reason?: string) =>
    clientErrorReply(Object.assign(new Error(), { code, reason }), limits);
  assert.deepEqual(reply('HPE_INVALID_METHOD', 'Invalid method encountered'), {
    status: 400,
    reason: 'malformed request: invalid method encountered',
  });
  assert.equal(reply('HPE_HEADER_OVERFLOW')?.status, 431);
  assert.equal(reply('HPE_CHUNK_EXTENSIONS_OVERFLOW')?.status, 413);
  assert.deepEqual(reply('ERR_HTTP_REQUEST_TIMEOUT'), {
    status: 408,
    reason: 'the request did not arrive in time (its head within 60000 ms, the whole of it within 300000 ms)',
  });
  assert.equal(reply('HPE_INVALID_VERSION')?.status, 505);
  assert.equal(reply('ECONNRESET'), null);
});
