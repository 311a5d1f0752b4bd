// The admin server as `fcgi-pool serve` runs it: started by startService on listen.admin, ready
// once the workers are up, 503 on /readyz from the first moment of a shutdown while everything
// still serves (shutdown.delayMs), and closed last.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigSchema } from '../../src/config/schema.ts';
import { createLogger } from '../../src/logger.ts';
import { type Service, startService } from '../../src/service.ts';
import { eventually } from '../helpers/serve-process.ts';
import { parseExposition, sample } from './exposition.ts';
import { freePort } from './prometheus.ts';

describe('admin server in the service', () => {
  let service: Service;
  let httpPort: number;
  let admin: string;
  let stopped: Promise<void> | null = null;

  before(async () => {
    httpPort = await freePort();
    const config = ConfigSchema.parse({
      threads: 2,
      listen: { http: `127.0.0.1:${httpPort}`, grpc: '127.0.0.1:0', admin: '127.0.0.1:0' },
      log: { level: 'error', access: false },
      shutdown: { graceMs: 2000, delayMs: 1500 },
    });
    service = await startService(config, createLogger({ level: 'error' }));
    const addr = service.admin.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('admin is not on TCP');
    admin = `http://127.0.0.1:${addr.port}`;
  });
  after(async () => {
    await (stopped ?? service?.stop());
  });

  it('listens on listen.admin and is ready once the workers serve', async () => {
    assert.equal((await fetch(`${admin}/healthz`)).status, 200);
    const ready = await fetch(`${admin}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(((await ready.json()) as { readyServers: string[] }).readyServers, ['embedded']);
    assert.equal(service.draining, false);
  });

  it('counts requests that went through the HTTP gateway', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`http://127.0.0.1:${httpPort}/echo`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    // a worker counts a request just after its response left: the 4th may be a moment behind
    const m = await eventually(async () => {
      const exp = parseExposition(await (await fetch(`${admin}/metrics`)).text());
      assert.equal(sample(exp, 'fcgipool_requests_total', { server: 'embedded', code: '200' }), 4);
      return exp;
    }, 2000);
    const attached = ['0', '1'].reduce(
      (n, thread) => n + (sample(m, 'fcgipool_thread_requests_total', { thread }) ?? 0),
      0,
    );
    assert.ok(attached >= 4, `the worker threads attached the requests (${attached})`);
    assert.ok(sample(m, 'fcgipool_server_connections_opened_total', { server: 'embedded' })! >= 1);
    // the gateway reports each answered request with its status and duration
    assert.equal(sample(m, 'fcgipool_requests_total', { server: 'embedded', code: '200' }), 4);
    assert.equal(sample(m, 'fcgipool_request_duration_seconds_count', { server: 'embedded' }), 4);
  });

  it('answers 503 on /readyz as soon as the service drains, then closes', async () => {
    stopped = service.stop();
    assert.equal(service.draining, true);
    const res = await fetch(`${admin}/readyz`);
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { status: string }).status, 'draining');
    await stopped;
    await assert.rejects(fetch(`${admin}/healthz`), 'the admin server closed with the service');
  });
});
