// The gateway's own HTTP/1.1 front against real php-fpm: what a client sees must not depend on
// which front answered. Pipelined requests come back in order; a connection that brings a body
// (or anything else the front does not parse) moves to node:http mid-stream and loses no byte;
// malformed and oversized heads get node:http's answers; both fronts give the same responses.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { errorMessage } from '../../../src/gateway/errors-page.ts';
import { Http1Front } from '../../../src/gateway/http1/http1-front.ts';
import { type PhpFpm, startPhpFpm } from '../../helpers/php-fpm.ts';
import { type Echo, sendRaw, startTestGateway, type TestGateway } from '../gateway-harness.ts';

let fpm: PhpFpm;
let fast: TestGateway;
let node: TestGateway;

before(async () => {
  fpm = await startPhpFpm({ children: 4 });
  // two gateways share php-fpm's 4 children: 2 connections each, or one would wait in php-fpm's backlog
  const common = {
    servers: [fpm.address],
    serverDefaults: { maxConnections: 2 },
    app: { docroot: fpm.docroot },
    threads: 1,
  };
  [fast, node] = await Promise.all([
    startTestGateway({ ...common, httpFront: 'fast' }),
    startTestGateway({ ...common, httpFront: 'node' }),
  ]);
});

after(async () => {
  await Promise.all([fast?.stop(), node?.stop()]);
  await fpm?.stop();
});

interface RawResponse {
  status: number;
  headers: Map<string, string[]>;
  body: Buffer;
}

/** Splits what a server sent on one connection into responses (Content-Length or chunked). */
function parseResponses(data: Buffer, headRequests: Set<number> = new Set()): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  while (pos < data.length) {
    const end = data.indexOf('\r\n\r\n', pos);
    assert.ok(end > 0, `a response head at byte ${pos}`);
    const lines = data.toString('latin1', pos, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(i + 1).trim()]);
    }
    pos = end + 4;
    let body: Buffer = Buffer.alloc(0);
    if (headRequests.has(out.length) || status === 204 || status === 304) {
      // no body, whatever the head says
    } else if (headers.get('transfer-encoding')?.[0] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = data.indexOf('\r\n', pos);
        const size = Number.parseInt(data.toString('latin1', pos, lineEnd), 16);
        pos = lineEnd + 2;
        if (size === 0) {
          pos += 2;
          break;
        }
        parts.push(data.subarray(pos, pos + size));
        pos += size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers.get('content-length')?.[0] ?? 0);
      body = data.subarray(pos, pos + length);
      pos += length;
    }
    out.push({ status, headers, body });
  }
  return out;
}

/** Writes `bytes` (in one write) on a fresh connection and reads until the server closes. */
async function exchange(port: number, bytes: Buffer | string): Promise<Buffer> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(bytes);
  await once(socket, 'close');
  return Buffer.concat(chunks);
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

describe('the fast HTTP/1.1 front', () => {
  test('pipelined requests on one connection are answered in order', async () => {
    const data = await exchange(
      fast.port,
      get('/echo.php?n=1') + get('/echo.php?n=2') + get('/echo.php?n=3', 'Connection: close\r\n'),
    );
    const replies = parseResponses(data);
    assert.deepEqual(
      replies.map((r) => (JSON.parse(r.body.toString()) as Echo).params.QUERY_STRING),
      ['n=1', 'n=2', 'n=3'],
    );
    assert.deepEqual(
      replies.map((r) => r.headers.get('connection')?.[0]),
      ['keep-alive', 'keep-alive', 'close'],
    );
  });

  test('a request with a body moves the connection to node:http without losing a byte', async () => {
    const body = Buffer.alloc(100_000, 'x');
    const sha = createHash('sha256').update(body).digest('hex');
    const data = await exchange(
      fast.port,
      Buffer.concat([
        Buffer.from(get('/echo.php?step=1')),
        Buffer.from(
          `POST /echo.php?step=2 HTTP/1.1\r\nHost: t\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`,
        ),
        body,
        Buffer.from(get('/echo.php?step=3', 'Connection: close\r\n')),
      ]),
    );
    const replies = parseResponses(data).map((r) => JSON.parse(r.body.toString()) as Echo);
    assert.deepEqual(
      replies.map((e) => [e.method, e.params.QUERY_STRING, e.bodyLength]),
      [
        ['GET', 'step=1', 0],
        ['POST', 'step=2', body.length],
        ['GET', 'step=3', 0],
      ],
    );
    assert.equal(replies[1].bodySha256, sha);
  });

  test('HEAD gets the head and no body bytes, so the next response on the connection is intact', async () => {
    const data = await exchange(
      fast.port,
      `HEAD /hello.php HTTP/1.1\r\nHost: t\r\n\r\n${get('/hello.php', 'Connection: close\r\n')}`,
    );
    const [head, full] = parseResponses(data, new Set([0]));
    assert.equal(head.status, 200);
    assert.equal(full.status, 200);
    assert.match(full.body.toString(), /hello/);
  });

  test('malformed and oversized heads get node:http’s answers', async () => {
    assert.match(
      await sendRaw(fast.port, 'GET /hello.php HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n'),
      /^HTTP\/1\.1 400 /,
    );
    assert.match(await sendRaw(fast.port, 'GET /hello.php HTTP/1.1\r\n\r\n'), /^HTTP\/1\.1 400 /); // no Host
    const huge = `X-Big: ${'a'.repeat(20_000)}\r\n`;
    assert.match(await sendRaw(fast.port, get('/hello.php', huge)), /^HTTP\/1\.1 431 /);
    // lines ending in a bare LF are node:http's to judge, never parsed by the front
    assert.match(await sendRaw(fast.port, 'GET /hello.php HTTP/1.1\nHost: t\n\n'), /^HTTP\/1\.1 \d{3} /);
  });

  test('a client that shuts its side under a request gives the request up, as with node:http', async () => {
    for (const gw of [fast, node]) {
      // the script would answer after 300 ms; the client sends FIN right after its request
      const reply = await sendRaw(gw.port, get('/sleep.php?ms=300'));
      assert.equal(reply, '', `port ${gw.port}`);
    }
  });

  test('both fronts answer the same statuses, headers and bodies', async () => {
    const paths = [
      '/hello.php',
      '/echo.php?x=%41',
      '/status.php?code=204',
      '/location.php',
      '/cookies.php',
      '/missing.php',
      '/big.php?bytes=300000',
      '/../etc/passwd',
    ];
    const summary = (r: RawResponse) => ({
      status: r.status,
      // the framing may differ (both are valid), the content may not
      headers: [...r.headers]
        .filter(([name]) => !['date', 'x-request-id', 'transfer-encoding', 'content-length'].includes(name))
        .sort(([x], [y]) => x.localeCompare(y)),
      body: r.body
        .toString('latin1')
        .replace(/"(REMOTE_PORT|SERVER_PORT|REQUEST_TIME|REQUEST_TIME_FLOAT)": "?[\d.]+"?/g, ''),
    });
    const answers = (gw: TestGateway) =>
      Promise.all(
        paths.map(async (path) => {
          const [reply] = parseResponses(await exchange(gw.port, get(path, 'Connection: close\r\n')));
          return summary(reply);
        }),
      );
    const [fastReplies, nodeReplies] = await Promise.all([answers(fast), answers(node)]);
    assert.deepEqual(fastReplies, nodeReplies);
    assert.deepEqual(
      fastReplies.map((r) => r.status),
      [200, 200, 204, 302, 200, 404, 200, 403],
    );
  });
});

describe('the front on its own (short timeouts)', () => {
  test('a head that does not complete in time gets a 408 and the connection closes', async (t) => {
    const fallback = http.createServer((_req, res) => res.end('from node:http'));
    const front = new Http1Front({
      maxHeaderBytes: 16 * 1024,
      keepAliveTimeoutMs: 5000,
      headersTimeoutMs: 200,
      fallback,
      refuse: (socket, { status, reason }) => socket.end(errorMessage(status, reason)),
      handle: (req, res) => {
        if (req.url === '/node') return false; // node:http takes it
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(Buffer.from(`fast ${req.url}`));
        return true;
      },
    });
    await new Promise<void>((resolve) => front.server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => front.close(resolve)));
    const { port } = front.server.address() as net.AddressInfo;

    const [answered] = parseResponses(await exchange(port, get('/a', 'Connection: close\r\n')));
    assert.equal(answered.body.toString(), 'fast /a');
    const [handed] = parseResponses(await exchange(port, get('/node', 'Connection: close\r\n')));
    assert.equal(handed.body.toString(), 'from node:http');

    const slow = await exchange(port, 'GET /slow HTTP/1.1\r\nHost: t\r\n');
    const [timedOut] = parseResponses(slow);
    assert.equal(timedOut.status, 408);
    assert.equal(timedOut.headers.get('connection')?.[0], 'close');
    assert.match(timedOut.body.toString(), /the request head did not arrive within 200 ms/);
  });
});
