// The takeover hand-off depends on moving a live TCP handle between threads, which leans on
// Node internals (DESIGN.md §4). These tests are the canary: if a Node upgrade breaks any step,
// they fail here rather than as lost requests in production.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { HandoffError, HandoffErrorCode } from '../../src/errors.ts';
import {
  adoptHandle,
  canTransferHandles,
  detachHandle,
  handleTransferList,
  isDetached,
  type TransferableTcpHandle,
} from '../../src/worker/handle-transfer.ts';

const moduleUrl = new URL('../../src/worker/handle-transfer.ts', import.meta.url).href;

// A worker that can adopt a connection, talk on it, and hand it on — to its parent or to a
// peer worker over a MessageChannel, as pool threads do.
const workerSource = `
const { parentPort } = require('node:worker_threads');
import(${JSON.stringify(moduleUrl)}).then(({ adoptHandle, detachHandle, handleTransferList }) => {
  let socket = null;
  let peer = null;
  let received = '';
  const adopt = (handle) => {
    socket = adoptHandle(handle);
    received = '';
    socket.on('data', (d) => { received += d; });
    socket.on('error', () => {});
    socket.resume();
    parentPort.postMessage({ t: 'adopted', localPort: socket.localPort });
  };
  parentPort.on('message', (m) => {
    try {
      if (m.t === 'adopt') adopt(m.handle);
      else if (m.t === 'peer') { peer = m.port; peer.on('message', (p) => adopt(p.handle)); }
      else if (m.t === 'exchange') {
        received = '';
        socket.write(m.text);
        const check = () => received.length >= m.text.length
          ? parentPort.postMessage({ t: 'exchanged', text: received })
          : socket.once('data', check);
        check();
      } else if (m.t === 'detach') {
        const handle = detachHandle(socket);
        socket = null;
        const target = m.toPeer ? peer : parentPort;
        target.postMessage({ t: 'handle', handle }, handleTransferList(handle));
        if (m.toPeer) parentPort.postMessage({ t: 'sent' });
      }
    } catch (err) {
      parentPort.postMessage({ t: 'error', code: err.code, message: err.message });
    }
  });
  parentPort.postMessage({ t: 'ready' });
});
`;

type FromWorker =
  | { t: 'ready' | 'sent' }
  | { t: 'adopted'; localPort: number }
  | { t: 'exchanged'; text: string }
  | { t: 'handle'; handle: TransferableTcpHandle }
  | { t: 'error'; code: string; message: string };

class PeerThread {
  readonly worker = new Worker(workerSource, { eval: true });
  async start(): Promise<void> {
    await this.next('ready');
  }
  async next<T extends FromWorker['t']>(t: T): Promise<Extract<FromWorker, { t: T }>> {
    const [m] = (await once(this.worker, 'message')) as [FromWorker];
    if (m.t === 'error') throw new Error(`worker: ${m.code} ${m.message}`);
    assert.equal(m.t, t);
    return m as Extract<FromWorker, { t: T }>;
  }
  async adopt(handle: TransferableTcpHandle): Promise<number> {
    this.worker.postMessage({ t: 'adopt', handle }, handleTransferList(handle));
    return (await this.next('adopted')).localPort;
  }
  async exchange(text: string): Promise<string> {
    this.worker.postMessage({ t: 'exchange', text });
    return (await this.next('exchanged')).text;
  }
  async detachToParent(): Promise<TransferableTcpHandle> {
    this.worker.postMessage({ t: 'detach', toPeer: false });
    return (await this.next('handle')).handle;
  }
}

/** Echo server that remembers each connection's client port, so a test can count connections. */
class EchoServer {
  readonly connections: net.Socket[] = [];
  readonly server = net.createServer((s) => {
    this.connections.push(s);
    s.on('data', (d) => s.write(d));
    s.on('error', () => {});
  });
  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }
  clientPorts(): number[] {
    return this.connections.map((s) => s.remotePort as number);
  }
}

async function exchange(socket: net.Socket, text: string): Promise<string> {
  let received = '';
  const onData = (d: Buffer) => {
    received += d;
  };
  socket.on('data', onData);
  socket.write(text);
  while (received.length < text.length) await once(socket, 'data');
  socket.off('data', onData);
  return received;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  return socket;
}

function isHandoffError(code: string) {
  return (err: unknown) => err instanceof HandoffError && err.code === code;
}

function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('handle transfer between threads', () => {
  const echo = new EchoServer();
  const threads: PeerThread[] = [];
  const sockets: net.Socket[] = [];
  let b: PeerThread;

  before(async () => {
    echo.server.listen(0, '127.0.0.1');
    await once(echo.server, 'listening');
    b = new PeerThread();
    threads.push(b);
    await b.start();
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    for (const s of echo.connections) s.destroy();
    await Promise.all(threads.map((t) => t.worker.terminate()));
    echo.server.close();
  });

  test('this runtime can move TCP handles (Node >= 26.6 on Unix)', () => {
    assert.equal(canTransferHandles(), true);
  });

  test('a connection that carried bytes here keeps working in another thread: one connection, same port', async () => {
    const before = echo.connections.length;
    const socket = await connect(echo.port);
    sockets.push(socket);
    const localPort = socket.localPort;
    assert.equal(await exchange(socket, 'hello from main'), 'hello from main');

    const handle = detachHandle(socket);
    assert.equal(await b.adopt(handle), localPort);
    assert.equal(await b.exchange('hello from B'), 'hello from B');
    assert.equal(await b.exchange('x'.repeat(100_000)), 'x'.repeat(100_000));

    assert.equal(echo.connections.length, before + 1, 'the server saw exactly one connection');
    assert.equal(echo.connections.at(-1)?.remotePort, localPort);
    assert.equal(echo.connections.at(-1)?.destroyed, false);
  });

  test('the old socket is inert: its close, destroy and garbage collection leave the moved connection alone', async () => {
    const gc = exposeGc();
    let socket: net.Socket | null = await connect(echo.port);
    await exchange(socket, 'before');
    const serverSide = echo.connections.at(-1) as net.Socket;
    let serverSawClose = false;
    serverSide.on('close', () => {
      serverSawClose = true;
    });

    const closed = once(socket, 'close');
    const handle = detachHandle(socket);
    const [hadError] = await closed;
    assert.ok(!hadError, "the old socket emits 'close' without error");
    assert.equal(isDetached(socket), true, 'isDetached tells a hand-over from a real close');
    socket.destroy();
    socket.destroy(new Error('destroying again must not reach the descriptor'));
    assert.throws(() => detachHandle(socket as net.Socket), isHandoffError(HandoffErrorCode.CLOSED));

    await b.adopt(handle);
    const collected = new WeakRef(socket);
    socket = null;
    for (let i = 0; i < 5 && collected.deref() !== undefined; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    assert.equal(collected.deref(), undefined, 'the old socket object was garbage-collected');

    assert.equal(await b.exchange('after gc'), 'after gc');
    assert.equal(serverSawClose, false);
  });

  test('a handle already posted away cannot be adopted again on the sending side', async () => {
    const socket = await connect(echo.port);
    const handle = detachHandle(socket);
    await b.adopt(handle);
    assert.throws(() => adoptHandle(handle), isHandoffError(HandoffErrorCode.CLOSED));
    assert.equal(await b.exchange('still mine'), 'still mine');
  });

  test('a detached handle that was never posted can be adopted back on the same thread', async () => {
    const socket = await connect(echo.port);
    await exchange(socket, 'first');
    const localPort = socket.localPort;
    const again = adoptHandle(detachHandle(socket));
    sockets.push(again);
    assert.equal(again.localPort, localPort);
    again.resume();
    assert.equal(await exchange(again, 'second'), 'second');
  });

  test('a connection moves back and forth between main, worker A and worker B', async () => {
    const a = new PeerThread();
    threads.push(a);
    await a.start();
    const { port1, port2 } = new MessageChannel();
    a.worker.postMessage({ t: 'peer', port: port1 }, [port1 as MessagePort]);
    b.worker.postMessage({ t: 'peer', port: port2 }, [port2 as MessagePort]);

    const before = echo.connections.length;
    let socket = await connect(echo.port);
    sockets.push(socket);
    const localPort = socket.localPort;
    for (let round = 0; round < 4; round++) {
      assert.equal(await exchange(socket, `main ${round}`), `main ${round}`);
      assert.equal(await a.adopt(detachHandle(socket)), localPort);
      assert.equal(await a.exchange(`A ${round}`), `A ${round}`);

      // Worker to worker over their own channel, as a victim hands a stolen connection to a thief.
      a.worker.postMessage({ t: 'detach', toPeer: true });
      await a.next('sent');
      assert.equal((await b.next('adopted')).localPort, localPort);
      assert.equal(await b.exchange(`B ${round}`), `B ${round}`);

      socket = adoptHandle(await b.detachToParent());
      sockets.push(socket);
      assert.equal(socket.localPort, localPort);
      socket.resume();
    }
    assert.equal(await exchange(socket, 'home again'), 'home again');
    assert.equal(echo.connections.length, before + 1, 'all of it over one connection');
  });

  test('a socket with unread buffered bytes is refused and stays usable', async () => {
    const socket = await connect(echo.port);
    sockets.push(socket);
    socket.pause();
    socket.write('unread');
    await once(socket, 'readable');
    assert.ok(socket.readableLength > 0);

    assert.throws(() => detachHandle(socket), isHandoffError(HandoffErrorCode.NOT_IDLE));
    assert.equal(String(socket.read()), 'unread', 'the buffered bytes are still there');
    socket.resume();
    assert.equal(await exchange(socket, 'still usable'), 'still usable');
  });

  test('a socket with bytes not yet written is refused', async () => {
    const stalled = net.createServer((s) => s.pause());
    stalled.listen(0, '127.0.0.1');
    await once(stalled, 'listening');
    const socket = await connect((stalled.address() as net.AddressInfo).port);
    try {
      socket.on('error', () => {});
      socket.write(Buffer.alloc(16 << 20));
      assert.ok(socket.writableLength > 0);
      assert.throws(() => detachHandle(socket), isHandoffError(HandoffErrorCode.NOT_IDLE));
      assert.equal(socket.destroyed, false);
    } finally {
      socket.destroy();
      stalled.close();
    }
  });

  test('a unix-domain socket is refused as unsupported and stays usable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcgi-pool-handoff-'));
    const path = join(dir, 'echo.sock');
    const server = net.createServer((s) => s.on('data', (d) => s.write(d)));
    server.listen(path);
    await once(server, 'listening');
    const socket = net.connect({ path });
    try {
      await once(socket, 'connect');
      await exchange(socket, 'unix');
      assert.throws(
        () => detachHandle(socket),
        (err: unknown) => {
          assert.ok(err instanceof HandoffError);
          assert.equal(err.code, HandoffErrorCode.UNSUPPORTED);
          assert.match(err.message, /Pipe handle.*unix-socket backends run without takeover/);
          return true;
        },
      );
      assert.equal(await exchange(socket, 'unix again'), 'unix again');
    } finally {
      socket.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a destroyed socket is refused as closed', async () => {
    const socket = await connect(echo.port);
    socket.destroy();
    assert.throws(() => detachHandle(socket), isHandoffError(HandoffErrorCode.CLOSED));
  });
});
