// FcgiConnection against a REAL php-fpm (test/helpers/php-fpm.ts), not the embedded responder:
// the quirks the pool exists for (one kept connection pins one child, pm.max_requests closes
// after END_REQUEST, GET_VALUES closes, ABORT_REQUEST is ignored, a killed master) are checked
// where they come from. Every php-fpm and connection is closed in after()/t.after().
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { BackendError, BackendErrorCode } from '../../src/errors.ts';
import {
  FcgiConnection,
  type FcgiConnectionOptions,
  type FcgiRequestError,
  type FcgiRequestHandle,
  type FcgiRequestOptions,
} from '../../src/fcgi/connection.ts';
import { type PhpFpm, startPhpFpm } from '../helpers/php-fpm.ts';
import { parseCgi, waitFor, within } from './fcgi-test-helpers.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The CGI/1.1 params a gateway sends for `script` (a file of the fixtures docroot). */
function cgiParams(
  fpm: PhpFpm,
  script: string,
  query = '',
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: 'fcgi-pool-test',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '40000',
    REQUEST_METHOD: 'GET',
    DOCUMENT_ROOT: fpm.docroot,
    SCRIPT_FILENAME: join(fpm.docroot, script),
    SCRIPT_NAME: `/${script}`,
    REQUEST_URI: `/${script}${query ? `?${query}` : ''}`,
    QUERY_STRING: query,
    ...extra,
  };
}

async function connectTo(
  t: TestContext,
  fpm: PhpFpm,
  options?: FcgiConnectionOptions,
): Promise<FcgiConnection> {
  const conn = await FcgiConnection.connect({ host: fpm.host, port: fpm.port }, options, 3000);
  t.after(() => conn.destroy());
  return conn;
}

interface Response {
  stdout: Buffer;
  stderr: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  appStatus: number;
  protocolStatus: number;
}

/** One request collected whole; rejects with the error given to onError. */
function run(
  conn: FcgiConnection,
  params: Record<string, string>,
  options?: FcgiRequestOptions,
): Promise<Response> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const result = new Promise<Response>((resolve, reject) => {
    conn.request(
      params,
      {
        onStdout: (c) => {
          out.push(Buffer.from(c));
        },
        onStderr: (c) => {
          err.push(Buffer.from(c));
        },
        onEnd: (appStatus, protocolStatus) => {
          const stdout = Buffer.concat(out);
          resolve({
            stdout,
            stderr: Buffer.concat(err).toString(),
            ...parseCgi(stdout),
            appStatus,
            protocolStatus,
          });
        },
        onError: reject,
      },
      options,
    );
  });
  return within(5000, `php-fpm to answer ${params.SCRIPT_NAME}`, result);
}

/** The error a request fails with (it must fail, not end). */
function failure(p: Promise<unknown>): Promise<FcgiRequestError> {
  return p.then(
    () => assert.fail('the request ended although it had to fail'),
    (err: FcgiRequestError) => err,
  );
}

/** Byte i of big.php's body. */
const bigByte = (i: number) => 0x61 + (i % 26);

describe('FcgiConnection against a real php-fpm (static children)', () => {
  let fpm: PhpFpm;
  before(async () => {
    fpm = await startPhpFpm({ children: 2 });
  });
  after(() => fpm?.stop());

  it('GET hello.php: CGI headers, "hello", END_REQUEST 0/0', async (t) => {
    const conn = await connectTo(t, fpm);
    const res = await run(conn, cgiParams(fpm, 'hello.php'));
    assert.match(res.stdout.toString('latin1'), /^Content-type: text\/plain;charset=UTF-8\r\n/im);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'hello\n');
    assert.equal(res.stderr, '');
    assert.deepEqual([res.appStatus, res.protocolStatus], [0, 0]);
    assert.equal(conn.requestsServed, 1);
    assert.equal(conn.busy, false);
    assert.equal(conn.closed, false);
    assert.equal(conn.reusable, true);
  });

  it('POST a 300 KB body sent whole with the request: exact CONTENT_LENGTH, same sha256', async (t) => {
    const conn = await connectTo(t, fpm);
    const body = randomBytes(300 * 1024);
    const params = cgiParams(fpm, 'echo.php', '', {
      REQUEST_METHOD: 'POST',
      CONTENT_TYPE: 'application/octet-stream',
      CONTENT_LENGTH: String(body.length),
    });
    const res = await run(conn, params, { stdin: body });
    const echo = JSON.parse(res.body.toString());
    assert.equal(echo.method, 'POST');
    assert.equal(echo.params.CONTENT_LENGTH, String(body.length));
    assert.equal(echo.bodyLength, body.length);
    assert.equal(echo.bodySha256, sha256(body));
    assert.equal(echo.params.SCRIPT_FILENAME, join(fpm.docroot, 'echo.php'));
    assert.deepEqual([res.appStatus, res.protocolStatus], [0, 0]);
    // the connection is still good for a second body on the same child
    const again = await run(conn, params, { stdin: body });
    assert.equal(JSON.parse(again.body.toString()).bodySha256, sha256(body));
    assert.equal(conn.requestsServed, 2);
  });

  it('POST the same kind of body streamed with write() honouring back-pressure, then end()', async (t) => {
    const conn = await connectTo(t, fpm);
    const sizes = [300 * 1024, 4 * 1024 * 1024];
    for (const size of sizes) {
      const body = randomBytes(size);
      const out: Buffer[] = [];
      let falses = 0;
      let drains = 0;
      let waiting: (() => void) | null = null;
      let handle!: FcgiRequestHandle;
      const ended = new Promise<[number, number]>((resolve, reject) => {
        handle = conn.request(
          cgiParams(fpm, 'echo.php', '', {
            REQUEST_METHOD: 'POST',
            CONTENT_TYPE: 'application/octet-stream',
            CONTENT_LENGTH: String(size),
          }),
          {
            onStdout: (c) => {
              out.push(Buffer.from(c));
            },
            onStderr: () => {},
            onEnd: (a, p) => resolve([a, p]),
            onError: reject,
            onDrain: () => {
              drains++;
              const w = waiting;
              waiting = null;
              w?.();
            },
          },
          { streamStdin: true },
        );
      });
      ended.catch(() => {}); // awaited below; an early failure must not be unhandled meanwhile
      // uneven chunk sizes, several of them bigger than one record (65535) and the socket's
      // highWaterMark, so records split chunks and write() has reasons to say false
      const step = [1, 4096, 70_000, 65_528, 200_000, 13];
      for (let pos = 0, i = 0; pos < size; i++) {
        const n = Math.min(step[i % step.length], size - pos);
        const ok = handle.write(body.subarray(pos, pos + n));
        pos += n;
        if (!ok) {
          falses++;
          await within(
            5000,
            'onDrain after write() said false',
            new Promise<void>((resolve) => {
              waiting = resolve;
            }),
          );
        }
      }
      handle.end();
      const [appStatus, protocolStatus] = await within(5000, 'the echo of a streamed body', ended);
      const echo = JSON.parse(parseCgi(Buffer.concat(out)).body.toString());
      assert.equal(echo.bodyLength, size);
      assert.equal(echo.params.CONTENT_LENGTH, String(size));
      assert.equal(echo.bodySha256, sha256(body));
      assert.deepEqual([appStatus, protocolStatus], [0, 0]);
      assert.equal(drains, falses, 'one onDrain for every write() that said false');
      t.diagnostic(`${size} bytes streamed: write() said false ${falses} time(s)`);
    }
    assert.equal(conn.requestsServed, sizes.length);
    assert.equal(conn.reusable, true);
  });

  it('streams a 3 MiB response from big.php, every byte in order, pausing now and then', async (t) => {
    const conn = await connectTo(t, fpm);
    const n = 3 * 1024 * 1024;
    let head = Buffer.alloc(0);
    let headers = '';
    let inBody = false;
    let seen = 0; // body bytes checked so far
    let bad = -1; // first body offset with a wrong byte
    let calls = 0;
    let pauses = 0;
    let pausedSeen = 0; // resumes that found the socket paused
    let notPaused = 0; // resumes before the end that found the socket reading
    let callsWhilePaused = 0;
    let paused = false;
    let finished = false;
    let handle!: FcgiRequestHandle;
    const check = (c: Buffer): void => {
      for (let i = 0; i < c.length; i++, seen++) {
        if (bad < 0 && c[i] !== bigByte(seen)) bad = seen;
      }
    };
    const ended = new Promise<[number, number]>((resolve, reject) => {
      handle = conn.request(cgiParams(fpm, 'big.php', `bytes=${n}`), {
        onStdout(c) {
          calls++;
          if (paused) callsWhilePaused++;
          if (inBody) check(c);
          else {
            head = Buffer.concat([head, c]);
            const end = head.indexOf('\r\n\r\n');
            if (end >= 0) {
              inBody = true;
              headers = head.subarray(0, end).toString('latin1');
              check(head.subarray(end + 4));
            }
          }
          if (calls % 7 !== 0 || paused) return true;
          paused = true;
          pauses++;
          // resume from a timer, not from inside the callback
          setTimeout(() => {
            // END_REQUEST in the same chunk ends the pause with the request
            if (conn.socket.isPaused()) pausedSeen++;
            else if (!finished) notPaused++;
            paused = false;
            handle.resume();
          }, 1);
          return false;
        },
        onStderr: () => {},
        onEnd: (a, p) => {
          finished = true;
          resolve([a, p]);
        },
        onError: reject,
      });
    });
    const [appStatus, protocolStatus] = await within(10_000, 'the 3 MiB response', ended);
    assert.match(headers, /^Content-Length: 3145728$/im);
    assert.equal(bad, -1, `byte ${bad} of the body is wrong`);
    assert.equal(seen, n, 'the whole body arrived');
    assert.deepEqual([appStatus, protocolStatus], [0, 0]);
    assert.ok(pausedSeen > 0, 'the socket was paused while onStdout said false');
    assert.equal(notPaused, 0, 'reading never went on during a pause before the end');
    assert.equal(conn.socket.isPaused(), false, 'reading resumed after the response');
    assert.equal(conn.reusable, true);
    t.diagnostic(
      `${calls} onStdout calls, ${pauses} pauses, ${callsWhilePaused} onStdout calls arrived while paused`,
    );
    // the kept connection serves the next request after all that pausing
    const res = await run(conn, cgiParams(fpm, 'hello.php'));
    assert.equal(res.body.toString(), 'hello\n');
  });

  it('stderr.php: STDERR records reach onStderr, stdout still arrives', async (t) => {
    const conn = await connectTo(t, fpm);
    const res = await run(conn, cgiParams(fpm, 'stderr.php'));
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'stdout\n');
    assert.match(res.stderr, /stderr\.php: before output/);
    assert.match(res.stderr, /stderr\.php: after output/);
    assert.ok(
      res.stderr.indexOf('before output') < res.stderr.indexOf('after output'),
      'STDERR in the order PHP wrote it',
    );
    // fwrite to php://stderr goes to the php-fpm log (catch_workers_output), not to FastCGI
    assert.doesNotMatch(res.stderr, /to the php-fpm log/);
    assert.deepEqual([res.appStatus, res.protocolStatus], [0, 0]);
    assert.equal(conn.reusable, true);
  });

  it('100 requests over one kept connection: one php-fpm child serves them all', async (t) => {
    const conn = await connectTo(t, fpm);
    const pids = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const res = await run(conn, cgiParams(fpm, 'pid.php', `i=${i}`));
      assert.equal(res.status, 200);
      pids.add(res.body.toString());
    }
    assert.equal(pids.size, 1, `served by ${[...pids].join(', ')}`);
    const [pid] = pids;
    assert.ok(fpm.childPids().includes(Number(pid)), `${pid} is a child of this php-fpm`);
    assert.equal(conn.requestsServed, 100);
    assert.equal(conn.closed, false);
    assert.equal(conn.reusable, true);
    assert.equal(conn.socket.destroyed, false);
  });

  it('stream-body.php: body up and response down at once, back-pressure both ways', async (t) => {
    const conn = await connectTo(t, fpm);
    const size = 8 * 1024 * 1024;
    const body = randomBytes(size);
    const out: Buffer[] = [];
    let waiting: (() => void) | null = null;
    let stdoutCalls = 0;
    let handle!: FcgiRequestHandle;
    const ended = new Promise<void>((resolve, reject) => {
      handle = conn.request(
        cgiParams(fpm, 'stream-body.php', '', {
          REQUEST_METHOD: 'POST',
          CONTENT_TYPE: 'application/octet-stream',
          CONTENT_LENGTH: String(size),
        }),
        {
          onStdout(c) {
            out.push(Buffer.from(c));
            // slow reader now and then while the body is still going up
            if (++stdoutCalls % 16 !== 0) return true;
            setTimeout(() => handle.resume(), 1);
            return false;
          },
          onStderr: () => {},
          onEnd: () => resolve(),
          onError: reject,
          onDrain: () => {
            const w = waiting;
            waiting = null;
            w?.();
          },
        },
        { streamStdin: true },
      );
    });
    ended.catch(() => {});
    for (let pos = 0; pos < size; pos += 100_000) {
      if (!handle.write(body.subarray(pos, Math.min(size, pos + 100_000)))) {
        await within(
          5000,
          'onDrain while php-fpm echoes',
          new Promise<void>((resolve) => {
            waiting = resolve;
          }),
        );
      }
    }
    handle.end();
    await within(10_000, 'the echoed body', ended);
    const res = parseCgi(Buffer.concat(out));
    const trailer = `\nsha256:${sha256(body)}\n`;
    assert.equal(res.body.length, size + trailer.length);
    assert.ok(res.body.subarray(0, size).equals(body), 'the body came back byte for byte');
    assert.equal(res.body.subarray(size).toString(), trailer);
    assert.equal(conn.reusable, true);
  });

  it('params over one record: php-fpm gets every pair whole; an oversized pair throws first', async (t) => {
    const conn = await connectTo(t, fpm);
    // 1 + 4 + 11 + 65512 = 65528 bytes: a pair that fills a PARAMS record (no padding)
    const huge = 'h'.repeat(65_512);
    const second = 's'.repeat(30_000);
    const res = await run(
      conn,
      cgiParams(fpm, 'echo.php', '', { HTTP_X_HUGE: huge, HTTP_X_SECOND: second, HTTP_X_LAST: 'last' }),
    );
    const echo = JSON.parse(res.body.toString());
    assert.equal(echo.params.HTTP_X_HUGE, huge);
    assert.equal(echo.params.HTTP_X_SECOND, second);
    assert.equal(echo.params.HTTP_X_LAST, 'last');
    assert.equal(echo.params.SCRIPT_NAME, '/echo.php');
    // one byte more cannot go in one record, and php-fpm refuses a pair split across two
    assert.throws(
      () =>
        conn.request(cgiParams(fpm, 'echo.php', '', { HTTP_X_HUGE: `${huge}h` }), {
          onStdout() {},
          onStderr() {},
          onEnd() {},
          onError() {},
        }),
      (e: Error) => (e as { code?: string }).code === 'FCGI_ERR_NAME_VALUE_TOO_LARGE',
    );
    assert.equal(conn.busy, false);
    const next = await run(conn, cgiParams(fpm, 'hello.php'));
    assert.equal(next.body.toString(), 'hello\n');
  });

  it('keepConn false: php-fpm closes after END_REQUEST, the client closes quietly', async (t) => {
    const conn = await connectTo(t, fpm, { keepConn: false });
    const closes: Array<Error | undefined> = [];
    conn.onClose = (_c, err) => closes.push(err);
    const res = await run(conn, cgiParams(fpm, 'hello.php'));
    assert.equal(res.body.toString(), 'hello\n');
    assert.deepEqual([res.appStatus, res.protocolStatus], [0, 0]);
    assert.equal(conn.reusable, false);
    await within(
      3000,
      'the connection to close',
      waitFor(() => conn.closed),
    );
    assert.deepEqual(closes, [undefined], 'closed once, and not as a failure');
  });

  it('GET_VALUES: php-fpm answers FCGI_MPXS_CONNS=0 only, and its close is no error', async () => {
    const values = await within(
      5000,
      'GET_VALUES_RESULT',
      FcgiConnection.getValues(
        { host: fpm.host, port: fpm.port },
        ['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS'],
        3000,
      ),
    );
    assert.deepEqual({ ...values }, { FCGI_MPXS_CONNS: '0' });
  });

  it('a script missing on disk: "Status: 404" and "Primary script unknown" on STDERR', async (t) => {
    const conn = await connectTo(t, fpm);
    const res = await run(conn, cgiParams(fpm, 'no-such-script.php'));
    // Observed with php-fpm 8.2: "Status: 404 Not Found", body "File not found.\n", and the
    // message as a STDERR record (fastcgi.logging = 1); END_REQUEST is still 0/0.
    assert.match(res.stdout.toString('latin1'), /^Status: 404 Not Found\r\n/im);
    assert.equal(res.status, 404);
    assert.equal(res.body.toString(), 'File not found.\n');
    assert.match(res.stderr, /Primary script unknown/);
    assert.deepEqual([res.appStatus, res.protocolStatus], [0, 0]);
    // nothing special for the connection: it serves the next request
    assert.equal(conn.reusable, true);
    const next = await run(conn, cgiParams(fpm, 'hello.php'));
    assert.equal(next.body.toString(), 'hello\n');
  });

  it('abort() mid-response (big.php): onError ABORTED, connection destroyed, php-fpm serves on', async (t) => {
    const conn = await connectTo(t, fpm);
    const closes: Array<Error | undefined> = [];
    conn.onClose = (_c, err) => closes.push(err);
    let chunksAfterAbort = 0;
    let aborted = false;
    let handle!: FcgiRequestHandle;
    const failed = failure(
      new Promise((resolve, reject) => {
        handle = conn.request(cgiParams(fpm, 'big.php', 'bytes=16777216'), {
          onStdout: () => {
            if (aborted) {
              chunksAfterAbort++;
              return;
            }
            aborted = true;
            handle.abort();
          },
          onStderr: () => {},
          onEnd: resolve,
          onError: reject,
        });
      }),
    );
    const err = await within(5000, 'the aborted request to fail', failed);
    assert.ok(err instanceof BackendError, String(err));
    assert.equal(err.code, BackendErrorCode.ABORTED);
    assert.equal(err.responseStarted, true);
    assert.equal(conn.closed, true);
    assert.equal(conn.socket.destroyed, true);
    assert.equal(closes.length, 1, 'onClose once');
    assert.equal(closes[0], undefined, 'closed on purpose: no error for onClose');
    assert.equal(chunksAfterAbort, 0, 'no onStdout after abort()');
    assert.throws(
      () =>
        conn.request(cgiParams(fpm, 'hello.php'), { onStdout() {}, onStderr() {}, onEnd() {}, onError() {} }),
      (e: Error) => e instanceof BackendError && e.code === BackendErrorCode.CLOSED,
    );
    const fresh = await connectTo(t, fpm);
    const res = await run(fresh, cgiParams(fpm, 'hello.php'));
    assert.equal(res.body.toString(), 'hello\n');
  });

  it('abort() while php sleeps (sleep.php, no byte yet): ABORTED with responseStarted false', async (t) => {
    const conn = await connectTo(t, fpm);
    let handle!: FcgiRequestHandle;
    let ended = false;
    const failed = failure(
      new Promise((resolve, reject) => {
        handle = conn.request(cgiParams(fpm, 'sleep.php', 'ms=300'), {
          onStdout: () => {},
          onStderr: () => {},
          onEnd: (a) => {
            ended = true;
            resolve(a);
          },
          onError: reject,
        });
      }),
    );
    setTimeout(() => handle.abort(), 50);
    const err = await within(5000, 'the aborted request to fail', failed);
    assert.equal(err.code, BackendErrorCode.ABORTED);
    assert.equal(err.responseStarted, false);
    assert.equal(conn.closed, true);
    // php-fpm ignores ABORT_REQUEST: the child finishes its sleep on its own while the other
    // child answers a new connection
    const fresh = await connectTo(t, fpm);
    const res = await run(fresh, cgiParams(fpm, 'hello.php'));
    assert.equal(res.body.toString(), 'hello\n');
    assert.equal(ended, false, 'no onEnd after abort()');
  });
});

describe('php-fpm on a unix socket', () => {
  let fpm: PhpFpm;
  before(async () => {
    fpm = await startPhpFpm({ children: 1, listen: 'unix' });
  });
  after(() => fpm?.stop());

  it('serves kept requests and GET_VALUES over the socket path', async (t) => {
    const conn = await FcgiConnection.connect({ path: fpm.socketPath as string }, undefined, 3000);
    t.after(() => conn.destroy());
    for (let i = 0; i < 3; i++) {
      const res = await run(conn, cgiParams(fpm, 'hello.php'));
      assert.equal(res.body.toString(), 'hello\n');
    }
    assert.equal(conn.requestsServed, 3);
    assert.equal(conn.reusable, true);
    conn.destroy(); // it pins the only child: free it for GET_VALUES
    const values = await FcgiConnection.getValues(
      { path: fpm.socketPath as string },
      ['FCGI_MPXS_CONNS'],
      3000,
    );
    assert.deepEqual({ ...values }, { FCGI_MPXS_CONNS: '0' });
  });
});

describe('pm.max_requests: php-fpm closes a kept connection after the last request', () => {
  let fpm: PhpFpm;
  before(async () => {
    fpm = await startPhpFpm({ children: 1, maxRequests: 3 });
  });
  after(() => fpm?.stop());

  it('the 3rd request completes, the connection closes, a 4th fails with BACKEND_CLOSED', async (t) => {
    const conn = await connectTo(t, fpm);
    const closes: Array<Error | undefined> = [];
    conn.onClose = (_c, err) => closes.push(err);
    const pids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await run(conn, cgiParams(fpm, 'pid.php'));
      assert.deepEqual([res.status, res.appStatus, res.protocolStatus], [200, 0, 0]);
      pids.push(res.body.toString());
    }
    assert.equal(new Set(pids).size, 1, 'one child served the three requests');
    assert.equal(conn.requestsServed, 3);
    // php-fpm sent END_REQUEST, shut its side down and waits for us: `end` destroys at once
    await within(
      3000,
      'the connection to close after pm.max_requests',
      waitFor(() => conn.closed),
    );
    assert.equal(closes.length, 1, 'onClose once');
    assert.ok(closes[0] instanceof BackendError, String(closes[0]));
    assert.equal((closes[0] as BackendError).code, BackendErrorCode.CLOSED);
    assert.equal(conn.socket.destroyed, true);
    assert.throws(
      () =>
        conn.request(cgiParams(fpm, 'pid.php'), { onStdout() {}, onStderr() {}, onEnd() {}, onError() {} }),
      (e: Error) => e instanceof BackendError && e.code === BackendErrorCode.CLOSED,
    );
    // the master forks a new child: a new connection is served by it
    const fresh = await connectTo(t, fpm);
    const res = await run(fresh, cgiParams(fpm, 'pid.php'));
    assert.equal(res.status, 200);
    assert.notEqual(res.body.toString(), pids[0], 'a new child serves the new connection');
  });

  it("a 4th request made inside the 3rd one's onEnd (FIN not read yet) fails, never hangs", async (t) => {
    await fpm.restart(); // a fresh child: its request count starts at 0
    const conn = await connectTo(t, fpm);
    for (let i = 0; i < 2; i++) await run(conn, cgiParams(fpm, 'pid.php'));
    let closedInOnEnd: boolean | null = null;
    let threw: Error | null = null;
    let fourth: Promise<Response> | null = null;
    const third = new Promise<void>((resolve, reject) => {
      conn.request(cgiParams(fpm, 'pid.php'), {
        onStdout: () => {},
        onStderr: () => {},
        onEnd: () => {
          // what a pool does: the request is over and the connection looks reusable
          closedInOnEnd = conn.closed;
          try {
            fourth = run(conn, cgiParams(fpm, 'pid.php'));
            fourth.catch(() => {}); // awaited below
          } catch (err) {
            threw = err as Error;
          }
          resolve();
        },
        onError: reject,
      });
    });
    await within(5000, 'the 3rd response', third);
    t.diagnostic(`connection closed in onEnd of the 3rd request: ${closedInOnEnd}`);
    const err = threw ?? (fourth === null ? null : await failure(fourth));
    assert.ok(err instanceof BackendError, String(err));
    assert.equal(err.code, BackendErrorCode.CLOSED);
    // not a byte of the 4th response came: safe to retry on another connection
    if (threw === null) assert.equal((err as FcgiRequestError).responseStarted, false);
    assert.equal(conn.closed, true);
  });
});

describe('php-fpm killed mid-response', () => {
  let fpm: PhpFpm;
  before(async () => {
    fpm = await startPhpFpm({ children: 1 });
  });
  after(() => fpm?.stop());

  it('SIGKILL during a big response: onError with a BackendError, no hang; served after restart()', async (t) => {
    const conn = await connectTo(t, fpm);
    const closes: Array<Error | undefined> = [];
    conn.onClose = (_c, err) => closes.push(err);
    let handle!: FcgiRequestHandle;
    let killed = false;
    let bytes = 0;
    const failed = failure(
      new Promise((resolve, reject) => {
        handle = conn.request(cgiParams(fpm, 'big.php', 'bytes=67108864'), {
          onStdout: (c) => {
            bytes += c.length;
            if (killed) return true;
            killed = true;
            fpm.kill();
            // let the child die with the socket buffers full, then read what is left
            setTimeout(() => handle.resume(), 100);
            return false;
          },
          onStderr: () => {},
          onEnd: resolve,
          onError: reject,
        });
      }),
    );
    const err = await within(5000, 'the request to fail after php-fpm died', failed);
    t.diagnostic(`${bytes} of 67108864+ bytes before the failure: ${err.name} ${err.code}: ${err.message}`);
    assert.ok(err.responseStarted);
    assert.ok(conn.closed);
    assert.equal(closes.length, 1);
    assert.ok(
      err instanceof BackendError,
      `a dead backend is a BackendError, got ${err.name} ${err.code} (${err.message})`,
    );
    assert.ok(
      err.code === BackendErrorCode.CLOSED || err.code === BackendErrorCode.RESET,
      `code ${err.code}`,
    );
    await fpm.restart();
    const fresh = await connectTo(t, fpm);
    const res = await run(fresh, cgiParams(fpm, 'hello.php'));
    assert.equal(res.body.toString(), 'hello\n');
  });

  it('SIGKILL while php sleeps (no byte yet): BACKEND_CLOSED or RESET, not started', async (t) => {
    const conn = await connectTo(t, fpm);
    const failed = failure(run(conn, cgiParams(fpm, 'sleep.php', 'ms=2000')));
    // give the child time to read the request (the outcome is the same if it has not yet)
    await new Promise((r) => setTimeout(r, 100));
    fpm.kill();
    const err = await within(5000, 'the request to fail after php-fpm died', failed);
    assert.ok(err instanceof BackendError, String(err));
    assert.ok(
      err.code === BackendErrorCode.CLOSED || err.code === BackendErrorCode.RESET,
      `code ${err.code}`,
    );
    assert.equal(err.responseStarted, false);
    assert.ok(conn.closed);
    await fpm.restart();
    const fresh = await connectTo(t, fpm);
    const res = await run(fresh, cgiParams(fpm, 'hello.php'));
    assert.equal(res.body.toString(), 'hello\n');
  });
});
