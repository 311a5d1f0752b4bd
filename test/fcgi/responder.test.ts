// The embedded responder as a FastCGI peer: raw records in, raw records out, plus its app.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FcgiConnection } from '../../src/fcgi/connection.ts';
import { FCGI_KEEP_CONN, ProtocolStatus, RecordType, Role } from '../../src/fcgi/constants.ts';
import { encodeNameValuePair, encodeParams } from '../../src/fcgi/name-value.ts';
import {
  decodeEndRequest,
  decodeUnknownType,
  encodeAbortRequest,
  encodeBeginRequest,
  encodeRecord,
  encodeStreamEnd,
} from '../../src/fcgi/records.ts';
import { FcgiResponder } from '../../src/fcgi/responder.ts';
import {
  closedPromise,
  connect,
  exchange,
  get,
  parseCgi,
  type RawRecordOut,
  rawExchange,
  startResponder,
  waitFor,
  within,
} from './fcgi-test-helpers.ts';

/** BEGIN_REQUEST + params + empty PARAMS + optional STDIN (ended or not). */
function rawRequest(
  id: number,
  params: Record<string, string>,
  flags = FCGI_KEEP_CONN,
  endStdin = true,
): Buffer {
  return Buffer.concat([
    encodeBeginRequest(id, Role.RESPONDER, flags),
    encodeParams(id, params),
    endStdin ? encodeStreamEnd(RecordType.STDIN, id) : Buffer.alloc(0),
  ]);
}

const ended = (id: number) => (recs: RawRecordOut[]) =>
  recs.some((r) => r.type === RecordType.END_REQUEST && r.requestId === id);
const endOf = (recs: RawRecordOut[], id: number) =>
  decodeEndRequest(recs.find((r) => r.type === RecordType.END_REQUEST && r.requestId === id)!.content);
const stdoutOf = (recs: RawRecordOut[], id: number) =>
  Buffer.concat(recs.filter((r) => r.type === RecordType.STDOUT && r.requestId === id).map((r) => r.content));

describe('FcgiResponder', () => {
  it('built-in app: status page, /echo with sha256 of the body, /sleep, /bytes', async (t) => {
    const { addr } = await startResponder(t);
    const conn = await connect(t, addr);
    const page = await get(conn, '/anything');
    assert.match(page.body.toString(), /uptime_seconds \d+\nrequests_served 0\nconnections 1\n/);
    const body = Buffer.from('héllo wörld');
    const echo = await exchange(
      conn,
      { REQUEST_METHOD: 'POST', REQUEST_URI: '/x?echo', CONTENT_LENGTH: '13' },
      { stdin: body },
    ).result;
    assert.equal(echo.headers['content-type'], 'application/json');
    const json = JSON.parse(echo.body.toString());
    assert.equal(json.method, 'POST');
    assert.equal(json.bodyLength, body.length);
    assert.equal(json.bodySha256, createHash('sha256').update(body).digest('hex'));
    assert.equal(json.params.CONTENT_LENGTH, '13');
    assert.equal((await get(conn, '/sleep?ms=5')).body.toString(), 'slept 5 ms\n');
    const bytes = await get(conn, '/bytes?n=70000');
    assert.equal(bytes.headers['content-length'], '70000');
    assert.equal(bytes.body.length, 70000);
    assert.equal(bytes.body[65536 + 3], 3);
  });

  it('answers an unknown record type with UNKNOWN_TYPE and keeps the connection', async (t) => {
    const { addr } = await startResponder(t);
    const bytes = Buffer.concat([encodeRecord(42, 0, Buffer.from('?')), rawRequest(1, { REQUEST_URI: '/' })]);
    const { records, closed } = await rawExchange(t, addr, bytes, ended(1));
    assert.equal(closed, false);
    assert.equal(records[0].type, RecordType.UNKNOWN_TYPE);
    assert.equal(decodeUnknownType(records[0].content), 42);
    assert.deepEqual(endOf(records, 1), { appStatus: 0, protocolStatus: 0 });
  });

  it('sends no empty STDOUT (like php-fpm) and names the connection in a CGI header', async (t) => {
    const { addr } = await startResponder(t);
    const { records } = await rawExchange(t, addr, rawRequest(1, { REQUEST_URI: '/' }), ended(1));
    assert.ok(records.every((r) => r.type !== RecordType.STDOUT || r.content.length > 0));
    const cgi = parseCgi(stdoutOf(records, 1));
    assert.equal(cgi.status, 200);
    assert.equal(cgi.headers['x-fcgi-connection-id'], '1');
  });

  it('phpHeaders: a 200 head as php-fpm writes it (no Status, no connection id), other statuses keep Status', async (t) => {
    const { addr } = await startResponder(t, {
      phpHeaders: true,
      app: (req, res) => {
        if (req.params.REQUEST_URI === '/missing') res.status(404);
        res.setHeader('Content-type', 'text/html; charset=UTF-8');
        res.end();
      },
    });
    const ok = await rawExchange(t, addr, rawRequest(1, { REQUEST_URI: '/' }), ended(1));
    assert.equal(
      stdoutOf(ok.records, 1).toString('latin1'),
      'Content-type: text/html; charset=UTF-8\r\n\r\n',
    );
    const missing = await rawExchange(t, addr, rawRequest(1, { REQUEST_URI: '/missing' }), ended(1));
    assert.match(stdoutOf(missing.records, 1).toString('latin1'), /^Status: 404 Not Found\r\nContent-type: /);
  });

  it('closes the connection after the request when FCGI_KEEP_CONN is not set', async (t) => {
    const { addr } = await startResponder(t);
    const { records, closed } = await rawExchange(t, addr, rawRequest(1, { REQUEST_URI: '/' }, 0));
    assert.equal(closed, true);
    assert.deepEqual(endOf(records, 1), { appStatus: 0, protocolStatus: 0 });
  });

  it('ends an aborted request with END_REQUEST at once', async (t) => {
    const { addr } = await startResponder(t);
    const bytes = Buffer.concat([rawRequest(1, { REQUEST_URI: '/sleep?ms=10000' }), encodeAbortRequest(1)]);
    const { records, closed } = await rawExchange(t, addr, bytes, ended(1));
    assert.equal(closed, false);
    assert.equal(stdoutOf(records, 1).length, 0);
  });

  it('refuses a second request on a busy connection (CANT_MPX_CONN) and an unknown role', async (t) => {
    const { addr } = await startResponder(t, { app: (_req, res) => void setTimeout(() => res.end(), 20) });
    const bytes = Buffer.concat([
      rawRequest(1, { REQUEST_URI: '/' }),
      rawRequest(2, { REQUEST_URI: '/' }),
      encodeBeginRequest(3, Role.AUTHORIZER, FCGI_KEEP_CONN),
    ]);
    const { records } = await rawExchange(t, addr, bytes, ended(1));
    assert.equal(endOf(records, 2).protocolStatus, ProtocolStatus.CANT_MPX_CONN);
    assert.equal(endOf(records, 3).protocolStatus, ProtocolStatus.UNKNOWN_ROLE);
    assert.equal(endOf(records, 1).protocolStatus, ProtocolStatus.REQUEST_COMPLETE);
  });

  it('serves multiplexed requests concurrently when mpxs is on', async (t) => {
    let running = 0;
    let peak = 0;
    const { addr } = await startResponder(t, {
      mpxs: true,
      app: async (req, res) => {
        peak = Math.max(peak, ++running);
        await within(
          2000,
          'all three requests to arrive',
          waitFor(() => peak === 3),
        );
        running--;
        res.write(req.params.N);
        res.end();
      },
    });
    const bytes = Buffer.concat([1, 2, 3].map((id) => rawRequest(id, { N: `n${id}` })));
    const { records } = await rawExchange(t, addr, bytes, (r) => [1, 2, 3].every((id) => ended(id)(r)));
    for (const id of [1, 2, 3]) assert.equal(parseCgi(stdoutOf(records, id)).body.toString(), `n${id}`);
  });

  it('drops a connection that sends malformed input and keeps serving the others', async (t) => {
    const { responder, addr } = await startResponder(t);
    const good = await connect(t, addr);
    assert.equal((await get(good, '/')).status, 200);
    // a pair split across two PARAMS records is malformed for php-fpm and for us
    const pair = encodeNameValuePair('REQUEST_URI', '/');
    const split = Buffer.concat([
      encodeBeginRequest(1, Role.RESPONDER, FCGI_KEEP_CONN),
      encodeRecord(RecordType.PARAMS, 1, pair.subarray(0, 5)),
      encodeRecord(RecordType.PARAMS, 1, pair.subarray(5)),
    ]);
    for (const garbage of [split, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.alloc(64, 0xff)]) {
      const { closed, records } = await rawExchange(t, addr, garbage);
      assert.equal(closed, true);
      assert.equal(records.length, 0);
    }
    assert.equal((await get(good, '/')).status, 200);
    await within(
      2000,
      'the bad connections to go',
      waitFor(() => responder.connections() === 1),
    );
  });

  it('answers 500 with appStatus 1 when the app throws', async (t) => {
    const { addr } = await startResponder(t, {
      app: async () => {
        throw new Error('boom');
      },
    });
    const res = await get(await connect(t, addr), '/');
    assert.equal(res.status, 500);
    assert.equal(res.appStatus, 1);
    assert.match(res.stderr, /boom/);
  });

  it('closes connections idle longer than closeIdleAfterMs', async (t) => {
    const { addr } = await startResponder(t, { closeIdleAfterMs: 150 });
    const conn = await connect(t, addr);
    const closed = closedPromise(conn);
    assert.equal((await get(conn, '/sleep?ms=250')).status, 200, 'a running request is not idle');
    await closed;
    assert.equal(conn.closed, true);
  });

  it('delays responses by delayMs and still answers every request', async (t) => {
    const { addr } = await startResponder(t, { delayMs: 10 });
    const conn = await connect(t, addr);
    for (let i = 0; i < 3; i++) assert.equal((await get(conn, '/')).status, 200);
  });

  it('listens on a unix socket', async (t) => {
    const responder = new FcgiResponder();
    const path = join(mkdtempSync(join(tmpdir(), 'fcgi-')), 'responder.sock');
    const addr = await responder.listen({ path });
    t.after(() => responder.close());
    assert.equal(addr.path, path);
    const conn = await FcgiConnection.connect({ path });
    t.after(() => conn.destroy());
    assert.equal(conn.remoteAddress, '');
    assert.equal((await get(conn, '/')).status, 200);
  });
});
