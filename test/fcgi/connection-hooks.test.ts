// The two hooks the pool relies on: every socket event wakes the tasklet first (and a false
// answer means "handed to another thread, do nothing"), and detachSocket() gives up an idle
// socket without closing it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackendErrorCode, ProtocolErrorCode } from '../../src/errors.ts';
import { FcgiConnection, type WakeKind } from '../../src/fcgi/connection.ts';
import { connect, exchange, get, startResponder, waitFor, within } from './fcgi-test-helpers.ts';

describe('FcgiConnection hooks for the pool', () => {
  it('wakes the tasklet on data, end and close before handling them', async (t) => {
    const { addr } = await startResponder(t, { maxRequestsPerConnection: 1 });
    const conn = await connect(t, addr);
    const kinds: WakeKind[] = [];
    conn.tasklet = {
      wake(kind) {
        kinds.push(kind);
        return true;
      },
    };
    assert.equal((await get(conn, '/')).status, 200);
    await within(
      2000,
      'the close',
      waitFor(() => kinds.includes('close')),
    );
    assert.ok(kinds.indexOf('data') >= 0 && kinds.indexOf('data') < kinds.indexOf('end'), kinds.join());
    assert.equal(conn.closed, true);
  });

  it('does nothing with an event when the tasklet says the connection was handed over', async (t) => {
    const { addr } = await startResponder(t, { maxRequestsPerConnection: 1 });
    const conn = await connect(t, addr);
    const seen: WakeKind[] = [];
    let sawData!: () => void;
    const dataArrived = new Promise<void>((resolve) => {
      sawData = resolve;
    });
    conn.tasklet = {
      wake(kind) {
        seen.push(kind);
        if (kind === 'data') sawData();
        return false;
      },
    };
    let callbacks = 0;
    conn.request(
      { REQUEST_URI: '/' },
      {
        onStdout: () => void callbacks++,
        onStderr: () => {},
        onEnd: () => callbacks++,
        onError: () => callbacks++,
      },
      { stdin: Buffer.alloc(0) },
    );
    await within(2000, 'the response bytes', dataArrived);
    // the backend also shut down (max requests = 1): 'end' must be ignored too
    await within(
      2000,
      "the backend's end",
      waitFor(() => seen.includes('end')),
    );
    assert.equal(callbacks, 0, 'no handler callback ran');
    assert.equal(conn.busy, true, 'the request is still attached: the new owner decides');
    assert.equal(conn.closed, false);
    assert.equal(conn.onClose, null);
    conn.tasklet = null;
    conn.destroy();
  });

  it('detachSocket() gives up an idle socket open and usable, then the connection is closed', async (t) => {
    const { responder, addr } = await startResponder(t);
    const conn = await connect(t, addr);
    let onCloseCalls = 0;
    conn.onClose = () => onCloseCalls++;
    const first = await get(conn, '/');
    const socket = conn.detachSocket();
    assert.equal(socket.destroyed, false);
    assert.equal(socket.listenerCount('data'), 0);
    assert.equal(conn.closed, true);
    assert.equal(onCloseCalls, 0, 'the pool accounts for a move itself');
    assert.throws(() => get(conn, '/'), { code: BackendErrorCode.CLOSED });
    assert.equal(responder.connections(), 1);

    // the new owner wraps the same socket: the same backend connection serves it
    const adopted = new FcgiConnection(socket);
    t.after(() => adopted.destroy());
    const second = await get(adopted, '/echo');
    assert.equal(second.headers['x-fcgi-connection-id'], first.headers['x-fcgi-connection-id']);
    assert.equal(responder.connectionsAccepted, 1);
  });

  it('detachSocket() refuses a busy connection and one holding unread bytes', async (t) => {
    const { addr } = await startResponder(t);
    const conn = await connect(t, addr);
    const ex = exchange(conn, { REQUEST_URI: '/sleep?ms=20' });
    assert.throws(() => conn.detachSocket(), { code: BackendErrorCode.BUSY });
    await ex.result;

    // a partial record held by the parser: moving the socket would lose it
    const idle = await connect(t, addr);
    const ex2 = exchange(idle, { REQUEST_URI: '/bytes?n=100000' });
    await ex2.result;
    idle.socket.emit('data', Buffer.from([1, 6, 0])); // three bytes of a header, as a read would give
    assert.throws(() => idle.detachSocket(), { code: ProtocolErrorCode.UNEXPECTED_RECORD });
    assert.equal(idle.socket.destroyed, false);
  });
});
