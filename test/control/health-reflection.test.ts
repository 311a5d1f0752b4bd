// The standard services next to PoolControl, called as a generic gRPC tool would: health follows
// the pool's readiness and shutdown's setServing(false); reflection lists and describes every
// service without the proto file.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import {
  type ControlFixture,
  cancel,
  grpcError,
  startControlFixture,
  take,
  UNARY,
} from './control-helpers.ts';
import { health, healthCheck, reflect } from './health-client.ts';

describe('grpc.health.v1.Health', () => {
  let fx: ControlFixture;

  before(async () => {
    fx = await startControlFixture({ threads: 2 });
  });
  after(() => fx.close());

  it('the server and PoolControl are SERVING when the pool is ready; an unknown service is NOT_FOUND', async () => {
    assert.equal(await healthCheck(fx.control.port, ''), 'SERVING');
    assert.equal(await healthCheck(fx.control.port, 'fcgipool.v1.PoolControl'), 'SERVING');
    const err = await grpcError(healthCheck(fx.control.port, 'no.such.Service'));
    assert.equal(err.code, status.NOT_FOUND);
  });

  it('follows readiness: NOT_SERVING while the only server is in maintenance', async () => {
    const c = fx.client();
    await c.SetServerState({ name: 'backend', state: 'MAINT' });
    assert.equal(fx.runtime.ready, false);
    assert.equal(await healthCheck(fx.control.port, ''), 'NOT_SERVING');
    await c.SetServerState({ name: 'backend', state: 'READY' });
    assert.equal(await healthCheck(fx.control.port, ''), 'SERVING');
  });

  it('setServing(false) turns it NOT_SERVING at once, and Watch hears of it', async () => {
    const h = health(fx.control.port);
    const stream = h.Watch({ service: '' });
    try {
      const [first] = await take(stream, 1);
      assert.equal(first.status, 'SERVING');
      const next = take(stream, 1);
      fx.control.setServing(false);
      assert.equal((await next)[0].status, 'NOT_SERVING');
      assert.equal(await healthCheck(fx.control.port, 'fcgipool.v1.PoolControl'), 'NOT_SERVING');
      assert.equal(fx.runtime.ready, true, 'the pool itself is still ready');
      fx.control.setServing(true);
      assert.equal(await healthCheck(fx.control.port, ''), 'SERVING');
    } finally {
      cancel(stream);
      h.close();
    }
  });
});

describe('server reflection', () => {
  let fx: ControlFixture;

  before(async () => {
    fx = await startControlFixture({ threads: 1 });
  });
  after(() => fx.close());

  const SERVICES = [
    'fcgipool.v1.PoolControl',
    'grpc.health.v1.Health',
    'grpc.reflection.v1.ServerReflection',
  ];

  for (const version of ['v1', 'v1alpha'] as const) {
    it(`${version} lists PoolControl, Health and ServerReflection`, async () => {
      const res = await reflect(fx.control.port, version, { list_services: '*' });
      const names = res.list_services_response?.service.map((s) => s.name) ?? [];
      for (const s of SERVICES) assert.ok(names.includes(s), `${s} in ${names.join(', ')}`);
    });
  }

  it('describes PoolControl from its symbol, with every RPC', async () => {
    const res = await reflect(fx.control.port, 'v1', { file_containing_symbol: 'fcgipool.v1.PoolControl' });
    const files = res.file_descriptor_response?.file_descriptor_proto ?? [];
    assert.ok(files.length > 0, JSON.stringify(res.error_response));
    const text = Buffer.concat(files).toString('latin1');
    assert.ok(text.includes('fcgipool.v1'), 'the package');
    for (const rpc of [...UNARY, 'WatchIdle']) {
      assert.ok(text.includes(rpc), rpc);
    }
  });

  it('an unknown symbol gets NOT_FOUND in the reflection answer', async () => {
    const res = await reflect(fx.control.port, 'v1', { file_containing_symbol: 'no.such.Symbol' });
    assert.equal(res.error_response?.error_code, status.NOT_FOUND);
  });
});
