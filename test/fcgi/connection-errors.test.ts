// FcgiConnection against scripted backends that break the rules in one precise way each.
import assert from 'node:assert/strict';
import type net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { BackendErrorCode, FcgiProtocolError, ProtocolErrorCode } from '../../src/errors.ts';
import { RecordType } from '../../src/fcgi/constants.ts';
import {
  encodeEndRequest,
  encodeRecord,
  encodeStreamEnd,
  encodeUnknownType,
} from '../../src/fcgi/records.ts';
import { closedPromise, connect, get, onRecords, rejectsWith, scriptedBackend } from './fcgi-test-helpers.ts';

const HEAD = Buffer.from('Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n');
const stdout = (id: number, s: Buffer | string) => encodeRecord(RecordType.STDOUT, id, Buffer.from(s));
const end = (id: number) => encodeEndRequest(id, 0, 0);

/** A backend that answers each request (once its STDIN ended) with `answer(requestId, n)`. */
async function backend(t: TestContext, answer: (socket: net.Socket, id: number, n: number) => void) {
  let n = 0;
  return scriptedBackend(t, (socket) => {
    onRecords(socket, (type, id, content) => {
      if (type === RecordType.STDIN && content.length === 0) answer(socket, id, n++);
    });
  });
}

describe('FcgiConnection against misbehaving backends', () => {
  it('accepts the empty STDOUT record some backends send before END_REQUEST', async (t) => {
    const addr = await backend(t, (s, id) =>
      s.write(
        Buffer.concat([stdout(id, HEAD), stdout(id, 'hi'), encodeStreamEnd(RecordType.STDOUT, id), end(id)]),
      ),
    );
    const conn = await connect(t, addr);
    for (let i = 0; i < 3; i++) assert.equal((await get(conn, '/')).body.toString(), 'hi');
    assert.equal(conn.reusable, true);
  });

  it('bytes after END_REQUEST in the same read: the response completes, the connection is not reused', async (t) => {
    const addr = await backend(t, (s, id) =>
      s.write(Buffer.concat([stdout(id, HEAD), end(id), stdout(id, 'late')])),
    );
    const conn = await connect(t, addr);
    const closed = closedPromise(conn);
    let closedAtEnd: boolean | null = null;
    await new Promise<void>((resolve, reject) => {
      conn.request(
        { REQUEST_URI: '/' },
        {
          onStdout: () => {},
          onStderr: () => {},
          onEnd: () => {
            closedAtEnd = conn.closed; // what a pool releasing the connection in onEnd sees
            resolve();
          },
          onError: reject,
        },
        { stdin: Buffer.alloc(0) },
      );
    });
    assert.ok(closedAtEnd, 'already closed when onEnd ran, so a pool cannot reuse it');
    const err = await closed;
    assert.ok(
      err instanceof FcgiProtocolError && err.code === ProtocolErrorCode.UNEXPECTED_RECORD,
      String(err),
    );
  });

  it('stray bytes on an idle connection destroy it with a protocol error', async (t) => {
    const addr = await backend(t, (s, id) => {
      s.write(Buffer.concat([stdout(id, HEAD), end(id)]));
      setTimeout(() => s.write(stdout(1, 'stray')), 20);
    });
    const conn = await connect(t, addr);
    const closed = closedPromise(conn);
    assert.equal((await get(conn, '/')).status, 200);
    const err = await closed;
    assert.ok(
      err instanceof FcgiProtocolError && err.code === ProtocolErrorCode.UNEXPECTED_RECORD,
      String(err),
    );
  });

  it('a record for another request id fails the request with UNKNOWN_REQUEST', async (t) => {
    const addr = await backend(t, (s, id) => s.write(Buffer.concat([stdout(id, HEAD), stdout(id + 1, 'x')])));
    const conn = await connect(t, addr);
    const err = await rejectsWith(get(conn, '/'), ProtocolErrorCode.UNKNOWN_REQUEST);
    assert.equal(err.responseStarted, true, 'headers had arrived: not safe to retry');
    assert.equal(conn.closed, true);
  });

  it('record types a backend never sends are protocol errors', async (t) => {
    const answers = [
      encodeRecord(12, 1, Buffer.from('?')),
      encodeUnknownType(RecordType.STDIN),
      encodeRecord(RecordType.STDIN, 1, Buffer.from('x')),
    ];
    const addr = await backend(t, (s, _id, n) => s.write(answers[n]));
    for (const code of [ProtocolErrorCode.BAD_TYPE, ProtocolErrorCode.UNEXPECTED_RECORD]) {
      const conn = await connect(t, addr);
      await rejectsWith(get(conn, '/'), code);
    }
    await rejectsWith(get(await connect(t, addr), '/'), ProtocolErrorCode.UNEXPECTED_RECORD);
  });

  it('the backend closing tells whether the response had started (safe retry or not)', async (t) => {
    const addr = await backend(t, (s, id, n) => {
      if (n === 0)
        s.end(); // before any byte: safe to retry elsewhere
      else if (n === 1)
        s.end(stdout(id, HEAD)); // mid-response
      else s.end(stdout(id, HEAD).subarray(0, 12)); // inside a record
    });
    const before = await rejectsWith(get(await connect(t, addr), '/'), BackendErrorCode.CLOSED);
    assert.equal(before.responseStarted, false);
    const mid = await rejectsWith(get(await connect(t, addr), '/'), BackendErrorCode.CLOSED);
    assert.equal(mid.responseStarted, true);
    await rejectsWith(get(await connect(t, addr), '/'), ProtocolErrorCode.TRUNCATED);
  });

  it('a reset connection fails the request with RESET', async (t) => {
    const addr = await backend(t, (s) => s.resetAndDestroy());
    const conn = await connect(t, addr);
    const err = await rejectsWith(get(conn, '/'), BackendErrorCode.RESET);
    assert.equal(err.responseStarted, false);
    assert.equal(conn.closed, true);
  });

  it('destroy(err) hands that error to the running request (a read timeout, say)', async (t) => {
    const addr = await backend(t, () => {}); // never answers
    const conn = await connect(t, addr);
    const p = get(conn, '/');
    const timeout = Object.assign(new Error('no answer within 10 ms'), {
      code: BackendErrorCode.READ_TIMEOUT,
    });
    conn.destroy(timeout);
    const err = await rejectsWith(p, BackendErrorCode.READ_TIMEOUT);
    assert.equal(err, timeout);
    assert.equal(err.responseStarted, false);
  });
});
