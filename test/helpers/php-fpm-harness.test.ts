// The php-fpm harness itself: a real php-fpm answers a hand-encoded FastCGI request, restarts on
// the same port, and leaves nothing listening once stopped. The request is encoded by hand on
// purpose, so a bug in src/fcgi cannot hide a broken harness (or the other way round).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { RecordType } from '../../src/fcgi/constants.ts';
import { type PhpFpm, startPhpFpm } from './php-fpm.ts';

function record(type: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.from([1, type, 0, 1, body.length >> 8, body.length & 0xff, 0, 0]);
  return Buffer.concat([header, body]);
}

function params(pairs: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(pairs)) {
    // Every name and value used here is shorter than 128 bytes: one length byte each.
    parts.push(Buffer.from([name.length, Buffer.byteLength(value)]), Buffer.from(name), Buffer.from(value));
  }
  return Buffer.concat(parts);
}

/** One FastCGI request (id 1, no keep-conn) over a raw socket; returns STDOUT and STDERR text. */
async function request(
  fpm: PhpFpm,
  script: string,
  query = '',
  body = Buffer.alloc(0),
): Promise<{ stdout: string; stderr: string }> {
  const socket = fpm.socketPath ? net.connect({ path: fpm.socketPath }) : net.connect(fpm.port, fpm.host);
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  const begin = Buffer.from([0, 1, 0, 0, 0, 0, 0, 0]); // role RESPONDER, flags 0
  socket.write(
    Buffer.concat([
      record(RecordType.BEGIN_REQUEST, begin),
      record(
        RecordType.PARAMS,
        params({
          GATEWAY_INTERFACE: 'CGI/1.1',
          REQUEST_METHOD: body.length > 0 ? 'POST' : 'GET',
          SCRIPT_FILENAME: join(fpm.docroot, script),
          SCRIPT_NAME: `/${script}`,
          REQUEST_URI: `/${script}${query ? `?${query}` : ''}`,
          QUERY_STRING: query,
          SERVER_PROTOCOL: 'HTTP/1.1',
          CONTENT_TYPE: 'application/octet-stream',
          CONTENT_LENGTH: String(body.length),
        }),
      ),
      record(RecordType.PARAMS),
      // Bodies here stay under one record's 65535 bytes.
      ...(body.length > 0 ? [record(RecordType.STDIN, body)] : []),
      record(RecordType.STDIN),
    ]),
  );
  await once(socket, 'close'); // without FCGI_KEEP_CONN php-fpm closes after END_REQUEST
  const data = Buffer.concat(chunks);
  let stdout = '';
  let stderr = '';
  let ended = false;
  for (let at = 0; at + 8 <= data.length; ) {
    const type = data[at + 1];
    const length = data.readUInt16BE(at + 4);
    const body = data.subarray(at + 8, at + 8 + length);
    if (type === RecordType.STDOUT) stdout += body;
    if (type === RecordType.STDERR) stderr += body;
    if (type === RecordType.END_REQUEST) ended = true;
    at += 8 + length + data[at + 6];
  }
  assert.ok(ended, 'php-fpm sent END_REQUEST');
  return { stdout, stderr };
}

async function refused(fpm: PhpFpm): Promise<boolean> {
  const socket = fpm.socketPath ? net.connect({ path: fpm.socketPath }) : net.connect(fpm.port, fpm.host);
  try {
    await once(socket, 'connect');
    return false;
  } catch {
    return true;
  } finally {
    socket.destroy();
  }
}

describe('php-fpm test harness', () => {
  const started: PhpFpm[] = [];
  after(async () => {
    await Promise.all(started.map((f) => f.stop()));
  });

  test('serves hello.php from 2 static children over TCP, and closes the port on stop', async () => {
    const fpm = await startPhpFpm({ children: 2 });
    started.push(fpm);
    assert.equal(fpm.address, `127.0.0.1:${fpm.port}`);
    assert.equal(fpm.childPids().length, 2);

    const { stdout } = await request(fpm, 'hello.php');
    assert.match(stdout, /Content-type: text\/plain/i);
    assert.match(stdout, /\r\n\r\nhello\n$/);

    await fpm.stop();
    assert.equal(await refused(fpm), true, 'nothing listens after stop()');
    assert.deepEqual(fpm.childPids(), []);
  });

  test('restart() serves again on the same port with new children', async () => {
    const fpm = await startPhpFpm({ children: 1 });
    started.push(fpm);
    const port = fpm.port;
    const before = fpm.childPids();
    await fpm.restart();
    assert.equal(fpm.port, port);
    assert.notDeepEqual(fpm.childPids(), before);
    assert.match((await request(fpm, 'hello.php')).stdout, /hello/);
  });

  test('kill() takes the master and its children down at once', async () => {
    const fpm = await startPhpFpm({ children: 2 });
    started.push(fpm);
    const children = fpm.childPids();
    fpm.kill();
    for (const pid of children) {
      while (existsSync(`/proc/${pid}`) && !isZombie(pid)) await new Promise((r) => setTimeout(r, 10));
    }
    // under parallel tests another php-fpm may take the freed port at once: then it must not be
    // ours. A reset is ours still closing: the killed master's listener accepted, then died.
    if (!(await refused(fpm))) {
      const answer = await request(fpm, 'pid.php').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNRESET') return null;
        throw err;
      });
      if (answer !== null) {
        const pid = Number(answer.stdout.split('\r\n\r\n')[1]);
        assert.equal(children.includes(pid), false, 'a killed child still answers');
      }
    }
    await fpm.restart();
    assert.match((await request(fpm, 'hello.php')).stdout, /hello/);
  });

  test('listens on a unix socket, and script errors reach FastCGI STDERR', async () => {
    const fpm = await startPhpFpm({ children: 1, listen: 'unix' });
    started.push(fpm);
    assert.equal(fpm.address, `unix:${fpm.socketPath}`);
    const { stdout, stderr } = await request(fpm, 'stderr.php');
    assert.match(stdout, /stdout\n$/);
    assert.match(stderr, /stderr\.php: before output/);
    assert.match(stderr, /stderr\.php: after output/);
    // The script's own stderr is not FastCGI: php-fpm catches it into its log.
    while (!fpm.log().includes('stderr.php: to the php-fpm log')) await new Promise((r) => setTimeout(r, 10));
    assert.doesNotMatch(stderr, /to the php-fpm log/);
  });

  test('the fixtures the gateway tests rely on answer as documented', async () => {
    const fpm = await startPhpFpm({ children: 1 });
    started.push(fpm);
    const body = Buffer.alloc(40_000, 'b');
    const echo = (await request(fpm, 'echo.php', 'a=1', body)).stdout;
    const json = JSON.parse(echo.slice(echo.indexOf('\r\n\r\n') + 4));
    assert.equal(json.method, 'POST');
    assert.equal(json.params.QUERY_STRING, 'a=1');
    assert.equal(json.params.SCRIPT_NAME, '/echo.php');
    assert.equal(json.bodyLength, body.length);
    assert.equal(json.bodySha256, createHash('sha256').update(body).digest('hex'));
    assert.equal(json.params.CONTENT_LENGTH, String(body.length));

    const big = (await request(fpm, 'big.php', 'bytes=100000&chunk=3000')).stdout;
    const payload = big.slice(big.indexOf('\r\n\r\n') + 4);
    assert.equal(payload.length, 100_000);
    assert.equal(payload.slice(0, 30), 'abcdefghijklmnopqrstuvwxyzabcd');
    assert.equal(payload.at(-1), String.fromCharCode(97 + (99_999 % 26)));

    const streamed = (await request(fpm, 'stream-body.php', '', body)).stdout;
    assert.ok(streamed.includes(`${body}\nsha256:${createHash('sha256').update(body).digest('hex')}\n`));

    assert.match((await request(fpm, 'pid.php')).stdout, new RegExp(`\r\n\r\n${fpm.childPids()[0]}$`));
    assert.match((await request(fpm, 'index.php')).stdout, /Hello, world!/);
    assert.match((await request(fpm, 'status.php', 'code=404')).stdout, /^Status: 404 Not Found\r\n/);
    assert.match((await request(fpm, 'location.php', 'to=/x')).stdout, /Location: \/x\r\n/);
    assert.match((await request(fpm, 'sleep.php', 'ms=5')).stdout, /slept 5 ms/);
    const cookies = (await request(fpm, 'cookies.php')).stdout;
    assert.equal(cookies.match(/^Set-Cookie: /gm)?.length, 3);
  });

  test('refuses settings php-fpm would reject', async () => {
    await assert.rejects(startPhpFpm({ children: 0 }), ConfigError);
    await assert.rejects(startPhpFpm({ maxRequests: -1 }), ConfigError);
    await assert.rejects(startPhpFpm({ docroot: '/nonexistent' }), ConfigError);
  });
});

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
