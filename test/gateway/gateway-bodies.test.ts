// Bodies both ways through the gateway and a real php-fpm: uploads of known and unknown length
// arrive whole with an exact CONTENT_LENGTH (large ones spooled to disk, not held in memory),
// large responses stream out, and CGI response heads (Status, Location, repeated headers,
// Content-Length) become the HTTP response PHP meant.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type PhpFpm, startPhpFpm } from '../helpers/php-fpm.ts';
import { json, send, startTestGateway, type TestGateway } from './gateway-harness.ts';

const MiB = 1024 * 1024;
let fpm: PhpFpm;
let gw: TestGateway;
let spoolDir: string;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** 5 MiB that are not all the same byte, so a reordered or repeated chunk would show. */
const upload = Buffer.alloc(5 * MiB);
for (let i = 0; i < upload.length; i += 4) upload.writeUInt32LE((i * 2654435761) >>> 0, i);

before(async () => {
  spoolDir = mkdtempSync(join(tmpdir(), 'fcgi-pool-spool-'));
  fpm = await startPhpFpm({ children: 2 });
  gw = await startTestGateway({
    servers: [fpm.address],
    serverDefaults: { maxConnections: 2 },
    app: { docroot: fpm.docroot, spoolDir, maxBodyBytes: 6 * MiB },
  });
});

after(async () => {
  await gw?.stop();
  await fpm?.stop();
  if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
});

describe('request bodies', () => {
  test('a 5 MiB POST with Content-Length reaches PHP byte for byte', async () => {
    const r = json(
      await send(gw.port, '/echo.php', {
        method: 'POST',
        body: upload,
        headers: { 'Content-Type': 'application/octet-stream' },
      }),
    );
    assert.equal(r.params.CONTENT_LENGTH, String(upload.length));
    assert.equal(r.bodyLength, upload.length);
    assert.equal(r.bodySha256, sha256(upload));
    assert.deepEqual(readdirSync(spoolDir), [], 'the spool file is gone (unlinked at creation)');
  });

  test('a 5 MiB chunked upload is spooled, sent with its exact CONTENT_LENGTH, and echoed while PHP reads it', async () => {
    const r = await send(gw.port, '/stream-body.php', {
      method: 'POST',
      body: upload,
      chunked: 100_000,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(r.status, 200);
    const tail = `\nsha256:${sha256(upload)}\n`;
    assert.equal(r.body.length, upload.length + tail.length);
    assert.equal(sha256(r.body.subarray(0, upload.length)), sha256(upload));
    assert.equal(r.body.subarray(upload.length).toString(), tail);
  });

  test('a small chunked body gets an exact CONTENT_LENGTH too', async () => {
    const body = 'a=1&b=two&c=three';
    const r = json(await send(gw.port, '/echo.php', { method: 'POST', body, chunked: 5 }));
    assert.equal(r.params.CONTENT_LENGTH, String(body.length));
    assert.equal(r.bodySha256, sha256(Buffer.from(body)));
  });

  test('a body over app.maxBodyBytes is a 413, declared or chunked', async () => {
    const big = Buffer.alloc(6 * MiB + 1);
    const declared = await send(gw.port, '/echo.php', { method: 'POST', body: big });
    assert.equal(declared.status, 413);
    // the status line and the page name it alike, as RFC 9110 does (node:http says "Payload")
    assert.equal(declared.statusMessage, 'Content Too Large');
    assert.match(declared.body.toString(), /^413 Content Too Large\n[\s\S]*6291457 bytes is over/);
    const chunked = await send(gw.port, '/echo.php', { method: 'POST', body: big, chunked: 1 * MiB });
    assert.equal(chunked.status, 413);
    assert.deepEqual(readdirSync(spoolDir), []);
  });

  test('Expect: 100-continue is answered only when the body is wanted', async () => {
    const exchange = async (head: string, body: string) => {
      const socket = net.connect({ host: '127.0.0.1', port: gw.port });
      await once(socket, 'connect');
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        if (text.startsWith('HTTP/1.1 100 Continue\r\n\r\n') && body !== '') {
          socket.write(body);
          body = '';
        }
      });
      socket.write(head);
      await once(socket, 'close');
      return text;
    };
    const refused = await exchange(
      `POST /echo.php HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${7 * MiB}\r\n\r\n`,
      '',
    );
    assert.match(refused, /^HTTP\/1\.1 413 /, 'refused before the body is sent');
    const accepted = await exchange(
      'POST /echo.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n',
      'hello',
    );
    assert.match(accepted, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    assert.match(accepted, /"bodyLength": 5/);
  });

  test('an expectation other than 100-continue is ignored, as nginx ignores it', async () => {
    const reply = await send(gw.port, '/echo.php', {
      method: 'POST',
      body: 'hello',
      headers: { Expect: 'x-later' },
    });
    assert.equal(reply.status, 200);
    assert.equal(json(reply).bodyLength, 5);
    assert.equal(json(reply).params.HTTP_EXPECT, 'x-later');
  });
});

describe('responses', () => {
  test('a 5 MiB response streams through whole and in order', async () => {
    const n = 5 * MiB;
    const r = await send(gw.port, `/big.php?bytes=${n}&chunk=65536`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String(n));
    assert.equal(r.body.length, n);
    const expected = Buffer.alloc(n);
    for (let i = 0; i < n; i++) expected[i] = 97 + (i % 26);
    assert.ok(r.body.equals(expected), 'every byte in order');
  });

  test('a client that pauses after every chunk still gets the whole response', async () => {
    const n = 4 * MiB;
    const body = await new Promise<number>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: gw.port, path: `/big.php?bytes=${n}`, agent: false });
      req.on('error', reject);
      req.on('response', (res) => {
        let got = 0;
        res.on('data', (c: Buffer) => {
          got += c.length;
          res.pause();
          setTimeout(() => res.resume(), 1);
        });
        res.on('end', () => resolve(got));
        res.on('error', reject);
      });
    });
    assert.equal(body, n);
  });

  test('several Set-Cookie headers stay separate', async () => {
    const r = await send(gw.port, '/cookies.php');
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2; path=/; HttpOnly', 'c=3; Path=/; Secure']);
  });

  test('Status sets the status and its reason phrase; Location alone is a 302', async () => {
    const reason = await send(gw.port, '/reason.php');
    assert.equal(reason.status, 299);
    assert.equal(reason.statusMessage, 'Custom Reason');
    assert.equal(reason.headers.status, undefined, 'the CGI Status header is not forwarded');
    const teapot = await send(gw.port, '/status.php?code=503');
    assert.equal(teapot.status, 503, "the script's own 503 passes through");
    assert.equal(teapot.body.toString(), 'status 503\n');
    const moved = await send(gw.port, '/location.php?to=/elsewhere');
    assert.equal(moved.status, 302);
    assert.equal(moved.headers.location, '/elsewhere');
  });

  test('HEAD gets the headers and no body', async () => {
    const r = await send(gw.port, '/big.php?bytes=1000', { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '1000');
    assert.equal(r.body.length, 0);
  });

  test('a body that is not its Content-Length is a 502 while nothing was sent', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const path of [
        '/wrong-length.php?says=100&sends=6',
        '/wrong-length.php?says=3&sends=11',
        // the first half already goes past the length, before the end comes
        '/wrong-length.php?says=3&sends=11&stream=1',
      ]) {
        const r = await send(gw.port, path, { agent });
        assert.equal(r.status, 502, path);
        assert.match(r.body.toString(), /^502 Bad Gateway/);
        // a short body used to go out as if whole, and the kept connection then waited for the rest
        assert.equal(r.headers.connection, 'keep-alive', 'the connection goes on');
      }
      assert.equal((await send(gw.port, '/hello.php', { agent })).status, 200);
    } finally {
      agent.destroy();
    }
  });

  test('a body that breaks its Content-Length once the head is out cuts the connection', async () => {
    // half the body leaves with the head; the rest falls short of, or goes past, the length
    for (const [says, sends] of [
      [100, 6],
      [10, 16],
    ]) {
      const path = `/wrong-length.php?says=${says}&sends=${sends}&stream=1`;
      const r = await send(gw.port, path).catch((e: Error) => e);
      assert.ok(r instanceof Error, `${path}: the client sees a broken response, not ${JSON.stringify(r)}`);
    }
  });

  test("X-Request-Id: the client's is kept, otherwise one is made", async () => {
    const mine = await send(gw.port, '/hello.php', { headers: { 'X-Request-Id': 'abc-123' } });
    assert.equal(mine.headers['x-request-id'], 'abc-123');
    const made = await send(gw.port, '/hello.php', { headers: { 'X-Request-Id': 'bad id\twith tab' } });
    assert.match(String(made.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });
});
