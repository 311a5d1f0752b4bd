// Every PoolControl RPC through a real @grpc/grpc-js client against a running pool (two worker
// threads) in front of the embedded FastCGI responder.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { FcgiResponder } from '../../src/fcgi/responder.ts';
import { getParams } from '../helpers/pool.ts';
import {
  type Client,
  type ControlFixture,
  cancel,
  collect,
  grpcError,
  startControlFixture,
  take,
} from './control-helpers.ts';

describe('PoolControl in front of the embedded responder', () => {
  let fx: ControlFixture;
  let c: Client;

  before(async () => {
    fx = await startControlFixture({ threads: 2 });
    c = fx.client();
  });
  after(() => fx.close());

  it('ListServers shows the server, its limits, the thread count and readiness', async () => {
    const res = await c.ListServers({});
    assert.equal(res.threads, 2);
    assert.equal(res.ready, true);
    assert.equal(res.servers.length, 1);
    const s = res.servers[0];
    assert.equal(s.name, 'backend');
    assert.equal(
      s.address,
      `127.0.0.1:${fx.runtime.servers[0]?.address.kind === 'tcp' ? fx.runtime.servers[0].address.port : 0}`,
    );
    assert.equal(s.state, 'READY');
    assert.equal(s.max_connections, 4);
    assert.equal(s.max_idle, 4);
    assert.equal(s.reuse, 'always');
  });

  it('Execute runs on the threads in turn unless a thread is given, and reuses the idle connection', async () => {
    const a = await c.Execute({ params: getParams('/echo') });
    const b = await c.Execute({ params: getParams('/echo') });
    assert.deepEqual(new Set([a.thread, b.thread]), new Set([0, 1]), 'round robin over both threads');
    assert.equal(a.protocol_status, 'REQUEST_COMPLETE');
    assert.equal(a.app_status, 0);
    assert.match(a.stdout.toString(), /^Status: 200/);
    const again = await c.Execute({ params: getParams('/echo'), thread: a.thread });
    assert.equal(again.thread, a.thread);
    assert.equal(again.reused, true, 'the idle connection of that thread served it');
    assert.equal(again.connection_id, a.connection_id);
  });

  it('Execute passes params and stdin through and returns stderr', async () => {
    const body = Buffer.from('name=fcgi&x=1');
    const r = await c.Execute({
      params: {
        ...getParams('/echo?stderr=warned'),
        REQUEST_METHOD: 'POST',
        CONTENT_LENGTH: String(body.length),
      },
      stdin: body,
      thread: 1,
    });
    const echoed = JSON.parse(r.stdout.toString().split('\r\n\r\n')[1]);
    assert.equal(echoed.method, 'POST');
    assert.equal(echoed.bodyLength, body.length);
    assert.equal(r.stderr.toString(), 'warned\n');
  });

  it('a Takeover is seen in ListIdle on the destination thread and in the lock statistics', async () => {
    await c.PurgeIdle({});
    const first = await c.Execute({ params: getParams('/'), thread: 0 });
    const idle = await c.ListIdle({ server: 'backend' });
    assert.deepEqual(
      idle.connections.map((x) => [x.id, x.thread]),
      [[first.connection_id, 0]],
    );
    const before = await c.GetLockStats({ thread: 0 });

    const moved = await c.Takeover({ server: 'backend', from_thread: 0, to_thread: 1, count: 1 });
    assert.equal(moved.reason, '');
    assert.deepEqual(
      moved.moved.map((x) => [x.id, x.thread, x.server]),
      [[first.connection_id, 1, 'backend']],
      'the connection keeps its id on its new thread',
    );
    const listed = await c.ListIdle({});
    assert.deepEqual(
      listed.connections.map((x) => [x.id, x.thread]),
      [[first.connection_id, 1]],
      'listed on thread 1 when Takeover returns',
    );
    assert.deepEqual((await c.ListIdle({ thread: 0 })).connections, []);

    const afterStats = await c.GetLockStats({ thread: 0 });
    assert.equal(afterStats.threads.length, 1);
    const [b, a] = [before.threads[0], afterStats.threads[0]];
    assert.equal(a.thread, 0);
    assert.equal(
      Number(a.acquisitions_by_site.handoff) - Number(b.acquisitions_by_site.handoff),
      1,
      'thread 0 took its lock once to hand the connection over',
    );
    assert.ok(Number(a.acquisitions) > Number(b.acquisitions));
    const sum = Object.values(a.acquisitions_by_site).reduce((n, v) => n + Number(v), 0);
    assert.equal(Number(a.acquisitions), sum, 'acquisitions is the sum over the sites');

    const used = await c.Execute({ params: getParams('/'), thread: 1 });
    assert.equal(used.reused, true);
    assert.equal(used.connection_id, first.connection_id, 'thread 1 now serves on the moved connection');
  });

  it('Takeover by connection id finds the server and the source thread itself', async () => {
    const [conn] = (await c.ListIdle({})).connections;
    const res = await c.Takeover({ connection_id: conn.id, to_thread: 1 - conn.thread });
    assert.deepEqual(
      res.moved.map((x) => [x.id, x.thread]),
      [[conn.id, 1 - conn.thread]],
    );
  });

  it('Takeover says why fewer connections moved than asked', async () => {
    const [conn] = (await c.ListIdle({})).connections;
    const res = await c.Takeover({ from_thread: conn.thread, to_thread: 1 - conn.thread, count: 3 });
    assert.equal(res.moved.length, 1);
    assert.match(res.reason, /idle connection/);
  });

  it('PurgeIdle closes idle connections by server and age', async () => {
    await c.Execute({ params: getParams('/'), thread: 0 });
    await c.Execute({ params: getParams('/'), thread: 1 });
    const total = (await c.ListIdle({})).connections.length;
    assert.ok(total >= 1);
    assert.equal((await c.PurgeIdle({ min_idle_ms: 3_600_000 })).closed, 0, 'none is idle for an hour');
    assert.equal((await c.PurgeIdle({ server: 'backend' })).closed, total);
    assert.deepEqual((await c.ListIdle({})).connections, []);
  });

  it('GetLockStats has one entry per thread with wake-ups by path', async () => {
    const res = await c.GetLockStats({});
    assert.deepEqual(
      res.threads.map((t) => t.thread),
      [0, 1],
    );
    for (const t of res.threads) {
      assert.match(t.usr1_fast, /^\d+$/);
      assert.match(t.locked, /^\d+$/);
      assert.match(t.wait_ns, /^\d+$/);
      assert.equal(t.holder, -1, 'nobody holds a lock between requests');
    }
    assert.ok(
      res.threads.some((t) => Number(t.usr1_fast) + Number(t.locked) > 0),
      'backend wake-ups were counted',
    );
  });

  it('WatchIdle sends the idle set, then the change a request makes', async () => {
    await c.PurgeIdle({});
    const stream = c.WatchIdle({ interval_ms: 20 });
    try {
      const [initial] = await take(stream, 1);
      assert.equal(initial.initial, true);
      assert.equal(initial.total, 0);
      assert.equal(initial.sequence, '1');
      const next = take(stream, 1);
      const r = await c.Execute({ params: getParams('/'), thread: 1 });
      const [change] = await next;
      assert.equal(change.initial, false);
      assert.deepEqual(
        change.added.map((x) => [x.id, x.thread, x.server]),
        [[r.connection_id, 1, 'backend']],
      );
      assert.deepEqual(change.removed, []);
      assert.equal(change.total, 1);

      const gone = take(stream, 1);
      await c.PurgeIdle({});
      const [purged] = await gone;
      assert.deepEqual(
        purged.removed.map((x) => x.id),
        [r.connection_id],
      );
      assert.equal(purged.total, 0);
    } finally {
      cancel(stream);
    }
  });

  it('WatchIdle does not read the idle lists again while nothing changes', async () => {
    const hub = fx.control.watch;
    const stream = c.WatchIdle({ interval_ms: 20 });
    try {
      await take(stream, 1);
      const listings = hub.listings;
      const ticks = hub.ticks;
      // ten intervals of this watcher without a request: the fingerprint never moves
      while (hub.ticks < ticks + 10) await new Promise((r) => setTimeout(r, 20));
      assert.equal(hub.listings, listings, "no listing under the workers' locks");
      const next = take(stream, 1);
      await c.Execute({ params: getParams('/'), thread: 0 });
      await next;
      assert.ok(hub.listings > listings, 'a request makes it read them once more');
    } finally {
      cancel(stream);
    }
  });

  it('WatchIdle filters by thread', async () => {
    const stream = c.WatchIdle({ thread: 0, interval_ms: 20 });
    try {
      const [initial] = await take(stream, 1);
      assert.ok(initial.added.every((x) => x.thread === 0));
      const changes = collect(stream);
      const r1 = await c.Execute({ params: getParams('/'), thread: 1 }); // not on thread 0's lists
      const r0 = await c.Execute({ params: getParams('/'), thread: 0 });
      // a reused connection may show up as removed (busy) in one change and added in the next
      await changes.until((m) => m.added.some((x) => x.id === r0.connection_id));
      const all = changes.messages.flatMap((m) => [...m.added, ...m.removed]);
      assert.ok(
        all.every((x) => x.thread === 0),
        'only thread 0 is reported',
      );
      assert.notEqual(r1.thread, 0);
    } finally {
      cancel(stream);
    }
  });
});

describe('servers managed over gRPC', () => {
  let fx: ControlFixture;
  let c: Client;
  let second: FcgiResponder;
  let secondAddress: string;

  before(async () => {
    fx = await startControlFixture({ threads: 2 });
    c = fx.client();
    second = new FcgiResponder();
    const a = await second.listen(0, '127.0.0.1');
    secondAddress = `${a.host}:${a.port}`;
  });
  after(async () => {
    await fx.close();
    await second.close();
  });

  it('AddServer, SetServerState DRAIN and READY, RemoveServer', async () => {
    const added = await c.AddServer({ name: 'second', address: secondAddress, max_connections: 2 });
    assert.equal(added.server?.name, 'second');
    assert.equal(added.server?.state, 'READY');
    assert.equal(added.server?.max_connections, 2);
    assert.equal(added.server?.max_idle, 2, 'max_idle follows max_connections when unset');
    const r = await c.Execute({ server: 'second', params: getParams('/'), thread: 0 });
    assert.equal(second.connectionsAccepted, 1, 'the request went to the added server');
    assert.deepEqual(
      (await c.ListIdle({ server: 'second' })).connections.map((x) => x.id),
      [r.connection_id],
    );

    const drained = await c.SetServerState({ name: 'second', state: 'DRAIN' });
    assert.equal(drained.server?.state, 'DRAIN');
    assert.deepEqual(
      (await c.ListIdle({ server: 'second' })).connections,
      [],
      'DRAIN closed the idle connection',
    );
    const refused = await grpcError(c.Execute({ server: 'second', params: getParams('/') }));
    assert.equal(refused.code, status.UNAVAILABLE);

    await c.SetServerState({ name: 'second', state: 'READY' });
    await c.Execute({ server: 'second', params: getParams('/') });

    await c.RemoveServer({ name: 'second', grace_ms: 1000 });
    assert.deepEqual(
      (await c.ListServers({})).servers.map((s) => s.name),
      ['backend'],
    );
    const gone = await grpcError(c.Execute({ server: 'second', params: getParams('/') }));
    assert.equal(gone.code, status.NOT_FOUND);
  });

  it('AddServer takes unset fields from serverDefaults and refuses a duplicate name', async () => {
    const added = await c.AddServer({ name: 'third', address: secondAddress });
    assert.equal(added.server?.max_connections, 5, 'serverDefaults.maxConnections');
    const dup = await grpcError(c.AddServer({ name: 'third', address: secondAddress }));
    assert.equal(dup.code, status.ALREADY_EXISTS);
    assert.match(dup.details, /^name: /);
    await c.RemoveServer({ name: 'third' });
  });
});

describe('bad arguments name the field', () => {
  let fx: ControlFixture;
  let c: Client;

  before(async () => {
    fx = await startControlFixture({ threads: 2 });
    c = fx.client();
  });
  after(() => fx.close());

  const cases: Array<[string, (c: Client) => Promise<unknown>, status, RegExp]> = [
    [
      'Takeover to_thread out of range',
      (c) => c.Takeover({ from_thread: 0, to_thread: 2 }),
      status.INVALID_ARGUMENT,
      /^to_thread: must be a thread from 0 to 1$/,
    ],
    [
      'Takeover without from_thread',
      (c) => c.Takeover({ to_thread: 1 }),
      status.INVALID_ARGUMENT,
      /^from_thread: is required/,
    ],
    [
      'Takeover to the same thread',
      (c) => c.Takeover({ from_thread: 1, to_thread: 1 }),
      status.INVALID_ARGUMENT,
      /^to_thread: must differ from from_thread$/,
    ],
    [
      'Takeover count 0',
      (c) => c.Takeover({ from_thread: 0, to_thread: 1, count: 0 }),
      status.INVALID_ARGUMENT,
      /^count: must be from 1/,
    ],
    [
      'Takeover of an unknown connection',
      (c) => c.Takeover({ connection_id: 987654, to_thread: 1 }),
      status.NOT_FOUND,
      /^connection_id: /,
    ],
    [
      'ListIdle of an unknown server',
      (c) => c.ListIdle({ server: 'nope' }),
      status.NOT_FOUND,
      /^server: no server named "nope"$/,
    ],
    [
      'ListIdle thread 7',
      (c) => c.ListIdle({ thread: 7 }),
      status.INVALID_ARGUMENT,
      /^thread: must be a thread from 0 to 1$/,
    ],
    ['PurgeIdle of an unknown server', (c) => c.PurgeIdle({ server: 'nope' }), status.NOT_FOUND, /^server: /],
    ['GetLockStats thread 2', (c) => c.GetLockStats({ thread: 2 }), status.INVALID_ARGUMENT, /^thread: /],
    [
      'SetServerState without a state',
      (c) => c.SetServerState({ name: 'backend' }),
      status.INVALID_ARGUMENT,
      /^state: must be READY, DRAIN or MAINT$/,
    ],
    [
      'SetServerState without a name',
      (c) => c.SetServerState({ state: 'DRAIN' }),
      status.INVALID_ARGUMENT,
      /^name: is required$/,
    ],
    [
      'SetServerState of an unknown server',
      (c) => c.SetServerState({ name: 'nope', state: 'DRAIN' }),
      status.NOT_FOUND,
      /^name: no server named "nope"$/,
    ],
    [
      'RemoveServer of an unknown server',
      (c) => c.RemoveServer({ name: 'nope' }),
      status.NOT_FOUND,
      /^name: /,
    ],
    [
      'AddServer without an address',
      (c) => c.AddServer({ name: 'x' }),
      status.INVALID_ARGUMENT,
      /^address: is required$/,
    ],
    [
      'AddServer with a bad address',
      (c) => c.AddServer({ name: 'x', address: 'no-port' }),
      status.INVALID_ARGUMENT,
      /^address: /,
    ],
    [
      'AddServer with max_idle over max_connections',
      (c) => c.AddServer({ name: 'x', address: '127.0.0.1:9', max_connections: 2, max_idle: 3 }),
      status.INVALID_ARGUMENT,
      /^max_idle: must not exceed maxConnections/,
    ],
    [
      'AddServer with an unknown reuse mode',
      (c) => c.AddServer({ name: 'x', address: '127.0.0.1:9', reuse: 'sometimes' }),
      status.INVALID_ARGUMENT,
      /^reuse: /,
    ],
    [
      'Execute timeout_ms 0',
      (c) => c.Execute({ params: getParams('/'), timeout_ms: 0 }),
      status.INVALID_ARGUMENT,
      /^timeout_ms: must be from 1 /,
    ],
    [
      'Execute on thread 9',
      (c) => c.Execute({ params: getParams('/'), thread: 9 }),
      status.INVALID_ARGUMENT,
      /^thread: must be a thread from 0 to 1$/,
    ],
    [
      'Execute with an empty param name',
      (c) => c.Execute({ params: { '': 'x' } }),
      status.INVALID_ARGUMENT,
      /^params: names must not be empty$/,
    ],
    [
      'Execute on an unknown server',
      (c) => c.Execute({ server: 'nope', params: getParams('/') }),
      status.NOT_FOUND,
      /^server: /,
    ],
  ];
  for (const [title, call, code, details] of cases) {
    it(title, async () => {
      const err = await grpcError(call(c));
      assert.equal(err.code, code, err.details);
      assert.match(err.details, details);
    });
  }

  it('WatchIdle with interval_ms below 20 ends with INVALID_ARGUMENT', async () => {
    const stream = c.WatchIdle({ interval_ms: 5 });
    const err = await grpcError(take(stream, 1));
    assert.equal(err.code, status.INVALID_ARGUMENT);
    assert.match(err.details, /^interval_ms: /);
  });

  it('the pool is unchanged after the refusals', async () => {
    assert.deepEqual(
      (await c.ListServers({})).servers.map((s) => [s.name, s.state]),
      [['backend', 'READY']],
    );
  });
});
