// Client connections spread evenly over the worker threads, whichever listener the kernel gave
// them to: a connection accepted by a thread holding more moves to the other one before its
// first byte is read, and is served there like any other. Real php-fpm, two worker threads,
// both HTTP fronts; the counts are the ones /metrics shows an operator. Then the balancer alone
// (real sockets and a real message port): it never moves a connection to a thread whose
// listener is not accepting, where nobody would serve it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { ClientBalancer } from '../../src/gateway/client-balance.ts';
import type { PoolThread } from '../../src/pool/pool-thread.ts';
import { SharedState } from '../../src/shm/shared-state.ts';
import { adoptHandle, type TransferableTcpHandle } from '../../src/worker/handle-transfer.ts';
import { type PhpFpm, startPhpFpm } from '../helpers/php-fpm.ts';
import { startTestGateway, type TestGateway } from './gateway-harness.ts';

let fpm: PhpFpm;

before(async () => {
  fpm = await startPhpFpm({ children: 2 });
});

after(async () => {
  await fpm?.stop();
});

/** One GET on a kept connection; resolves with the status and body. */
function get(socket: net.Socket, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let data = '';
    const onData = (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(data.slice(0, end))?.[1] ?? Number.NaN);
      if (data.length < end + 4 + length) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve({ status: Number(data.split(' ')[1]), body: data.slice(end + 4, end + 4 + length) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

/** fcgipool_http_connections* by thread, as /metrics shows them. */
async function clientCounts(gw: TestGateway): Promise<{ open: number[]; accepted: number; moved: number }> {
  const text = (await gw.service.admin.inject({ url: '/metrics' })).body;
  const open: number[] = [];
  let accepted = 0;
  let moved = 0;
  for (const m of text.matchAll(/^fcgipool_http_connections(\w*)\{thread="(\d+)"\} (\d+)$/gm)) {
    const [, suffix, thread, value] = m;
    if (suffix === '') open[Number(thread)] = Number(value);
    else if (suffix === '_accepted_total') accepted += Number(value);
    else if (suffix === '_moved_total') moved += Number(value);
  }
  return { open, accepted, moved };
}

for (const front of ['fast', 'node'] as const) {
  test(`${front} front: client connections stay spread evenly over the threads`, async () => {
    const gw = await startTestGateway({
      servers: [fpm.address],
      serverDefaults: { maxConnections: 2 },
      app: { docroot: fpm.docroot },
      threads: 2,
      httpFront: front,
    });
    const sockets: net.Socket[] = [];
    try {
      // Without the balancing the kernel's hash decides alone: the two counts would drift apart
      // (a random walk stays within one of even for 20 connections about once in a thousand).
      for (let i = 1; i <= 20; i++) {
        const socket = net.connect({ host: '127.0.0.1', port: gw.port });
        sockets.push(socket);
        await once(socket, 'connect');
        const reply = await get(socket, '/hello.php');
        assert.equal(reply.status, 200);
        assert.match(reply.body, /hello/);
        const { open } = await clientCounts(gw);
        assert.equal(open[0] + open[1], i, `${i} connections open in all`);
        assert.ok(Math.abs(open[0] - open[1]) <= 1, `connection ${i}: ${open.join(' / ')} per thread`);
      }
      // moved connections go on serving requests on their new thread
      for (const socket of sockets) assert.equal((await get(socket, '/hello.php')).status, 200);
      const counts = await clientCounts(gw);
      assert.equal(counts.accepted, 20, 'each connection accepted once');
      assert.ok(counts.moved <= 20);
      for (const socket of sockets) socket.destroy();
      for (let i = 0; i < 100; i++) {
        const { open } = await clientCounts(gw);
        if (open[0] + open[1] === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual((await clientCounts(gw)).open, [0, 0], 'closed connections leave the gauge');
    } finally {
      for (const socket of sockets) socket.destroy();
      await gw.stop();
    }
  });
}

test('no connection moves to a thread whose listener does not accept (starting, or closed)', async () => {
  const shm = SharedState.create({ threads: 2, maxServers: 1, maxSlots: 4 });
  const channel = new MessageChannel();
  const moved: unknown[] = [];
  channel.port2.on('message', (msg: { t: string; handle: unknown }) => {
    moved.push(msg.t);
    adoptHandle(msg.handle as TransferableTcpHandle).destroy();
  });
  const pt = { thread: 0, shm, peers: [null, channel.port1], clientAdopter: null } as unknown as PoolThread;
  const served: net.Socket[] = [];
  const balancer = new ClientBalancer(pt, (socket) => served.push(socket));
  const listener = net.createServer({ pauseOnConnect: true }, (socket) => balancer.accepted(socket));
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as net.AddressInfo;
  const clients: net.Socket[] = [];
  const connect = async () => {
    const before = served.length + moved.length;
    clients.push(net.connect(port, '127.0.0.1'));
    while (served.length + moved.length === before) await new Promise((r) => setTimeout(r, 5));
  };
  try {
    // thread 1 has not said it listens: thread 0 keeps every connection, however many it holds
    for (let i = 0; i < 4; i++) await connect();
    assert.equal(served.length, 4);
    assert.deepEqual(moved, []);
    // once it accepts, the next connection goes there
    shm.stats.setListening(1, true);
    await connect();
    assert.deepEqual(moved, ['client']);
    assert.equal(shm.stats.clients(0), 4);
    // and after its listener closed, none again
    shm.stats.setListening(1, false);
    await connect();
    assert.equal(served.length, 5);
    assert.deepEqual(moved, ['client']);
  } finally {
    for (const c of clients) c.destroy();
    for (const s of served) s.destroy();
    listener.close();
    channel.port1.close();
  }
});
