import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { BackendError, BackendErrorCode, FcgiProtocolError, ProtocolErrorCode } from '../../src/errors.ts';
import { FcgiConnection } from '../../src/fcgi/connection.ts';
import { ParamsWriter, PreEncodedParams } from '../../src/fcgi/params-writer.ts';
import {
  closedPromise,
  connect,
  exchange,
  get,
  rejectsWith,
  startResponder,
  waitFor,
  within,
} from './fcgi-test-helpers.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = i & 0xff;
  return b;
}

describe('FcgiConnection against the embedded responder', () => {
  it('serves a GET and sends BEGIN_REQUEST, PARAMS and the empty STDIN in one write', async (t) => {
    const { addr } = await startResponder(t);
    const conn = await connect(t, addr);
    const write = t.mock.method(conn.socket, 'write');
    const static_ = new PreEncodedParams({ SERVER_SOFTWARE: 'fcgi-pool', DOCUMENT_ROOT: '/srv' });
    const params = new ParamsWriter()
      .addEncoded(static_)
      .add('REQUEST_METHOD', 'GET')
      .add('REQUEST_URI', '/');
    const res = await exchange(conn, params).result;
    assert.equal(write.mock.callCount(), 1);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-fcgi-connection-id'], '1');
    assert.match(res.body.toString(), /requests_served/);
    assert.deepEqual([res.appStatus, res.protocolStatus], [0, 0]);
    assert.equal(conn.busy, false);
    assert.equal(conn.requestsServed, 1);
    assert.match(conn.remoteAddress, /^127\.0\.0\.1:\d+$/);
  });

  it('reuses one kept connection for many requests (same connection id every time)', async (t) => {
    const { responder, addr } = await startResponder(t);
    const conn = await connect(t, addr);
    for (let i = 0; i < 50; i++) {
      const res = await get(conn, `/echo?i=${i}`);
      assert.equal(res.headers['x-fcgi-connection-id'], '1');
      assert.equal(JSON.parse(res.body.toString()).params.REQUEST_URI, `/echo?i=${i}`);
    }
    assert.equal(conn.requestsServed, 50);
    assert.equal(conn.reusable, true);
    assert.equal(responder.connectionsAccepted, 1);
  });

  it('sends a whole body with the request, small (one buffer) or large (no copy)', async (t) => {
    const { addr } = await startResponder(t);
    const conn = await connect(t, addr);
    for (const size of [1, 1000, 16 * 1024, 200_000]) {
      const body = pattern(size);
      const res = await exchange(conn, { REQUEST_METHOD: 'POST', REQUEST_URI: '/echo' }, { stdin: body })
        .result;
      const echo = JSON.parse(res.body.toString());
      assert.equal(echo.bodyLength, size);
      assert.equal(echo.bodySha256, sha256(body));
    }
  });

  it('streams a 4 MiB body with back-pressure: write() returns false and onDrain follows', async (t) => {
    const { addr } = await startResponder(t);
    const conn = await connect(t, addr);
    const body = pattern(4 * 1024 * 1024);
    let drains = 0;
    let falses = 0;
    let onDrain: () => void = () => {};
    const out: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const handle = conn.request(
        { REQUEST_METHOD: 'PUT', REQUEST_URI: '/echo' },
        {
          onStdout: (c) => void out.push(Buffer.from(c)),
          onStderr: () => {},
          onEnd: () => resolve(),
          onError: reject,
          onDrain: () => {
            drains++;
            onDrain();
          },
        },
        { streamStdin: true },
      );
      (async () => {
        for (let off = 0; off < body.length; off += 100_000) {
          if (!handle.write(body.subarray(off, off + 100_000))) {
            falses++;
            await new Promise<void>((r) => {
              onDrain = r;
            });
          }
        }
        handle.write(Buffer.alloc(0)); // an empty chunk must not end the body
        handle.end();
      })().catch(reject);
    });
    await within(5000, 'the streamed upload', done);
    assert.ok(
      falses > 0 && drains === falses,
      `write() said wait ${falses} times, onDrain came ${drains} times`,
    );
    const echo = JSON.parse(Buffer.concat(out).toString().split('\r\n\r\n')[1]);
    assert.equal(echo.bodyLength, body.length);
    assert.equal(echo.bodySha256, sha256(body));
  });

  it('streams a 4 MiB response, pausing the socket while onStdout says false', async (t) => {
    const { addr } = await startResponder(t);
    const conn = await connect(t, addr);
    const n = 4 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let pausedSeen = false;
    const done = new Promise<void>((resolve, reject) => {
      const handle = conn.request(
        { REQUEST_URI: `/bytes?n=${n}` },
        {
          onStdout(c) {
            chunks.push(Buffer.from(c));
            if (chunks.length % 8 !== 1) return true;
            setImmediate(() => {
              pausedSeen ||= conn.socket.isPaused();
              handle.resume();
            });
            return false;
          },
          onStderr: () => {},
          onEnd: () => resolve(),
          onError: reject,
        },
        { stdin: Buffer.alloc(0) },
      );
    });
    await within(10_000, 'the 4 MiB response', done);
    assert.ok(pausedSeen, 'the socket was paused while the handler asked to wait');
    assert.equal(conn.socket.isPaused(), false);
    const all = Buffer.concat(chunks);
    const body = all.subarray(all.indexOf('\r\n\r\n') + 4);
    assert.equal(body.length, n);
    assert.ok(body.equals(pattern(n)), 'every byte arrived in order');
  });

  it('passes STDERR through and marks the response as started', async (t) => {
    const { addr } = await startResponder(t);
    const conn = await connect(t, addr);
    const res = await get(conn, '/?stderr=PHP%20Warning');
    assert.equal(res.stderr, 'PHP Warning\n');
    assert.equal(res.status, 200);
  });

  it('reports END_REQUEST statuses: appStatus from the app, CANT_MPX_CONN makes it unreusable', async (t) => {
    const { addr } = await startResponder(t, {
      app: (req, res) => {
        if (req.params.EXIT) return res.end(Number(req.params.EXIT));
        setTimeout(() => res.end(), 100);
      },
    });
    const conn = await connect(t, addr);
    const r = await get(conn, '/', { EXIT: '7' });
    assert.deepEqual([r.appStatus, r.protocolStatus], [7, 0]);
    assert.equal(conn.reusable, true);

    // a client that wrongly multiplexes to a php-fpm-like backend gets CANT_MPX_CONN
    const mpx = await connect(t, addr, { maxConcurrent: 2 });
    const first = get(mpx, '/slow');
    const second = await get(mpx, '/second');
    assert.equal(second.protocolStatus, 1);
    assert.equal(mpx.reusable, false);
    assert.equal((await first).protocolStatus, 0);
    assert.equal(mpx.closed, true, 'destroyed once its last request ended');
  });

  it('aborting a request destroys a non-multiplexed connection (php-fpm ignores ABORT_REQUEST)', async (t) => {
    const { responder, addr } = await startResponder(t);
    const conn = await connect(t, addr);
    const closed = closedPromise(conn);
    const ex = exchange(conn, { REQUEST_URI: '/sleep?ms=10000' });
    ex.handle.abort();
    const err = await rejectsWith(ex.result, BackendErrorCode.ABORTED);
    assert.equal(err.responseStarted, false);
    assert.equal(await closed, undefined, 'closed on purpose, without an error');
    assert.equal(conn.closed, true);
    ex.handle.abort(); // idempotent
    await within(
      2000,
      'the responder to see the close',
      waitFor(() => responder.connections() === 0),
    );
  });

  it('multiplexes requests with distinct ids when the backend said FCGI_MPXS_CONNS=1', async (t) => {
    const { addr } = await startResponder(t, { mpxs: true });
    const values = await FcgiConnection.getValues(
      { host: addr.host, port: addr.port },
      ['FCGI_MPXS_CONNS', 'FCGI_MAX_CONNS'],
      2000,
    );
    assert.deepEqual(values, { FCGI_MPXS_CONNS: '1', FCGI_MAX_CONNS: '100' });
    const conn = await connect(t, addr, { maxConcurrent: 4 });
    const exs = [1, 2, 3, 4].map((i) => exchange(conn, { REQUEST_URI: `/sleep?ms=${20 * i}` }));
    assert.deepEqual(exs.map((e) => e.handle.requestId).sort(), [1, 2, 3, 4]);
    assert.throws(
      () => get(conn, '/'),
      (err: unknown) => err instanceof BackendError && err.code === BackendErrorCode.BUSY,
    );
    const results = await Promise.all(exs.map((e) => e.result));
    const served = new Set(results.map((r) => r.headers['x-fcgi-connection-id']));
    assert.equal(served.size, 1, 'all four on one backend connection');

    // an aborted multiplexed request ends alone: the connection keeps serving
    const slow = exchange(conn, { REQUEST_URI: '/sleep?ms=10000' });
    const fast = exchange(conn, { REQUEST_URI: '/echo' });
    slow.handle.abort();
    await rejectsWith(slow.result, BackendErrorCode.ABORTED);
    assert.equal((await fast.result).status, 200);
    await within(
      2000,
      'END_REQUEST for the aborted id',
      waitFor(() => !conn.busy),
    );
    assert.ok(served.has((await get(conn, '/')).headers['x-fcgi-connection-id']));
    assert.equal(conn.closed, false);
  });

  it('refuses a second request on a non-multiplexed connection with BUSY', async (t) => {
    const { addr } = await startResponder(t);
    const conn = await connect(t, addr);
    const first = exchange(conn, { REQUEST_URI: '/sleep?ms=20' });
    assert.equal(first.handle.requestId, 1);
    assert.throws(() => get(conn, '/'), { code: BackendErrorCode.BUSY });
    await first.result;
    assert.equal((await get(conn, '/')).status, 200);
  });

  it('after maxRequestsPerConnection the backend ends the connection and it is destroyed', async (t) => {
    const { responder, addr } = await startResponder(t, { maxRequestsPerConnection: 3 });
    const conn = await connect(t, addr);
    const closed = closedPromise(conn);
    for (let i = 0; i < 3; i++) assert.equal((await get(conn, '/')).status, 200);
    const err = await closed;
    assert.ok(err instanceof BackendError && err.code === BackendErrorCode.CLOSED, String(err));
    assert.equal(conn.closed, true);
    assert.throws(() => get(conn, '/'), { code: BackendErrorCode.CLOSED });
    await within(
      2000,
      'the responder to drop it',
      waitFor(() => responder.connections() === 0),
    );
  });

  it('without FCGI_KEEP_CONN the connection serves one request and is closed', async (t) => {
    const { addr } = await startResponder(t);
    const conn = await connect(t, addr, { keepConn: false });
    assert.equal((await get(conn, '/')).status, 200);
    assert.equal(conn.closed, true);
  });

  it('a garbage-speaking backend gives a typed protocol error and the process keeps running', async (t) => {
    const { addr } = await startResponder(t, { garbage: true });
    for (let i = 0; i < 3; i++) {
      const conn = await connect(t, addr);
      const err = await rejectsWith(get(conn, '/'), ProtocolErrorCode.BAD_VERSION);
      assert.ok(err instanceof FcgiProtocolError);
      assert.equal(err.responseStarted, false);
      assert.equal(conn.closed, true);
    }
    const ok = await startResponder(t);
    assert.equal((await get(await connect(t, ok.addr), '/')).status, 200);
  });

  it('refuses an oversized param before sending anything (the gateway answers 431)', async (t) => {
    const { addr } = await startResponder(t);
    const conn = await connect(t, addr);
    assert.throws(() => get(conn, '/', { HTTP_COOKIE: 'x'.repeat(70_000) }), {
      code: ProtocolErrorCode.NAME_VALUE_TOO_LARGE,
    });
    assert.equal(conn.busy, false);
    assert.equal((await get(conn, '/')).status, 200);
  });

  it('GET_VALUES: FCGI_MPXS_CONNS=0 like php-fpm, which then closes that connection', async (t) => {
    const { responder, addr } = await startResponder(t);
    const values = await FcgiConnection.getValues(
      { host: addr.host, port: addr.port },
      ['FCGI_MPXS_CONNS', 'FCGI_MAX_REQS'],
      2000,
    );
    assert.deepEqual(values, { FCGI_MPXS_CONNS: '0' });
    await within(
      2000,
      'the GET_VALUES connection to close',
      waitFor(() => responder.connections() === 0),
    );
    await assert.rejects(
      FcgiConnection.getValues({ host: '127.0.0.1', port: 1 }, ['FCGI_MPXS_CONNS'], 2000),
      {
        code: BackendErrorCode.CONNECT,
      },
    );
  });
});
