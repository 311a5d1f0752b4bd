// Who may call: bearer tokens (read-only vs admin) on every PoolControl call, health open for
// probes, TLS and mutual TLS with a throwaway CA, and the refusal to expose an unauthenticated
// control plane beyond loopback.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { DEFAULTS } from '../../src/config/schema.ts';
import { type ControlServer, startControlServer } from '../../src/control/grpc-server.ts';
import { ConfigError } from '../../src/errors.ts';
import { getParams } from '../helpers/pool.ts';
import {
  type Client,
  type ControlFixture,
  cancel,
  connectClient,
  grpcError,
  startControlFixture,
  take,
} from './control-helpers.ts';
import { healthCheck } from './health-client.ts';
import { makeCerts, type TestCerts } from './tls-certs.ts';

const READ = 'read-only-secret';
const ADMIN = 'admin-secret';

describe('bearer tokens', () => {
  let fx: ControlFixture;
  let dir: string;
  let adminFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fcgi-pool-tokens-'));
    adminFile = join(dir, 'admin-token');
    writeFileSync(adminFile, `${ADMIN}\n`); // a trailing newline, as `echo` and secrets leave it
    fx = await startControlFixture({ grpc: { tokens: { readOnly: READ, adminFile } } });
  });
  after(async () => {
    await fx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a call without a token is UNAUTHENTICATED', async () => {
    const err = await grpcError(fx.client().ListServers({}));
    assert.equal(err.code, status.UNAUTHENTICATED);
    assert.match(err.details, /authorization: Bearer/);
  });

  it('a wrong token, or a token of another scheme, is UNAUTHENTICATED', async () => {
    assert.equal(
      (await grpcError(fx.client({ token: 'guess' }).ListServers({}))).code,
      status.UNAUTHENTICATED,
    );
    const basic = fx.client();
    const md = new (await import('@grpc/grpc-js')).Metadata();
    md.set('authorization', `Basic ${ADMIN}`);
    const err = await new Promise<{ code: number }>((resolve) =>
      basic.raw.ListServers({}, md, (e) => resolve(e as { code: number })),
    );
    assert.equal(err.code, status.UNAUTHENTICATED);
  });

  it('the read-only token lists, reads statistics and watches', async () => {
    const c = fx.client({ token: READ });
    assert.equal((await c.ListServers({})).servers.length, 1);
    await c.ListIdle({});
    assert.equal((await c.GetLockStats({})).threads.length, 2);
    const stream = c.WatchIdle({});
    const [first] = await take(stream, 1);
    assert.equal(first.initial, true);
    cancel(stream);
  });

  it('the read-only token on an RPC that changes state or runs requests is PERMISSION_DENIED', async () => {
    const c = fx.client({ token: READ });
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['Execute', () => c.Execute({ params: getParams('/') })],
      ['Takeover', () => c.Takeover({ from_thread: 0, to_thread: 1 })],
      ['PurgeIdle', () => c.PurgeIdle({})],
      ['AddServer', () => c.AddServer({ name: 'x', address: '127.0.0.1:9' })],
      ['SetServerState', () => c.SetServerState({ name: 'backend', state: 'DRAIN' })],
      ['RemoveServer', () => c.RemoveServer({ name: 'backend' })],
    ];
    for (const [name, call] of calls) {
      const err = await grpcError(call());
      assert.equal(err.code, status.PERMISSION_DENIED, name);
      assert.match(err.details, new RegExp(`^${name} .*admin token`));
    }
    assert.equal(
      (await fx.client({ token: ADMIN }).ListServers({})).servers[0].state,
      'READY',
      'nothing changed',
    );
  });

  it('the admin token (read from its file) may do everything', async () => {
    const c = fx.client({ token: ADMIN });
    const r = await c.Execute({ params: getParams('/'), thread: 0 });
    assert.equal(r.protocol_status, 'REQUEST_COMPLETE');
    assert.equal((await c.ListIdle({})).connections.length, 1);
    assert.equal((await c.PurgeIdle({})).closed, 1);
  });

  it('health answers without a token', async () => {
    assert.equal(await healthCheck(fx.control.port, ''), 'SERVING');
  });

  it('WatchIdle without a token is UNAUTHENTICATED', async () => {
    const err = await grpcError(take(fx.client().WatchIdle({}), 1));
    assert.equal(err.code, status.UNAUTHENTICATED);
  });

  it('a rotated token file is read again', async () => {
    writeFileSync(adminFile, 'rotated-admin-secret\n');
    const future = new Date(Date.now() + 60_000);
    utimesSync(adminFile, future, future);
    const c = fx.client({ token: 'rotated-admin-secret' });
    let err: Awaited<ReturnType<typeof grpcError>> | null = null;
    for (let i = 0; i < 50; i++) {
      try {
        await c.PurgeIdle({});
        err = null;
        break;
      } catch (e) {
        err = e as typeof err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.equal(err, null, 'the new token is accepted');
    assert.equal((await grpcError(fx.client({ token: ADMIN }).PurgeIdle({}))).code, status.UNAUTHENTICATED);
  });
});

describe('TLS and mutual TLS', () => {
  let fx: ControlFixture;
  let certs: TestCerts;
  let tls: ControlServer;
  let mtls: ControlServer;
  const clients: Client[] = [];
  // Node 26 refuses an IP address as TLS server name (DEP0123 reached end of life) and grpc-js
  // sends the target's host: name the certificate's DNS name instead
  const client = (port: number, opts: Parameters<typeof connectClient>[1]) => {
    const c = connectClient(port, { serverName: 'localhost', ...opts });
    clients.push(c);
    return c;
  };

  before(async () => {
    certs = makeCerts();
    fx = await startControlFixture();
    const start = (requireClientCert: boolean) =>
      startControlServer({
        runtime: fx.runtime,
        listen: { host: '127.0.0.1', port: 0 },
        grpc: {
          ...DEFAULTS.grpc,
          tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert, requireClientCert },
        },
        serverDefaults: DEFAULTS.serverDefaults,
      });
    tls = await start(false);
    mtls = await start(true);
  });
  after(async () => {
    for (const c of clients) c.raw.close();
    await tls.stop(1000);
    await mtls.stop(1000);
    await fx.close();
    certs.remove();
  });

  const trusted = () => credentials.createSsl(certs.read(certs.caCert));
  const withClientCert = () =>
    credentials.createSsl(
      certs.read(certs.caCert),
      certs.read(certs.clientKey),
      certs.read(certs.clientCert),
    );

  it('a client that trusts the CA calls over TLS', async () => {
    assert.equal(tls.tls, true);
    const res = await client(tls.port, { creds: trusted() }).ListServers({});
    assert.equal(res.servers[0].name, 'backend');
  });

  it('a plain-text client cannot talk to the TLS port', async () => {
    const err = await grpcError(client(tls.port, {}).ListServers({}, { deadline: Date.now() + 3000 }));
    assert.ok(
      [status.UNAVAILABLE, status.DEADLINE_EXCEEDED].includes(err.code),
      `${err.code} ${err.details}`,
    );
  });

  it('a client that does not trust the CA is refused', async () => {
    const err = await grpcError(
      client(tls.port, { creds: credentials.createSsl() }).ListServers({}, { deadline: Date.now() + 3000 }),
    );
    assert.equal(err.code, status.UNAVAILABLE);
    assert.match(err.details, /self-signed certificate/);
  });

  it('mutual TLS: a client with a certificate from the CA gets in', async () => {
    const res = await client(mtls.port, { creds: withClientCert() }).ListServers({});
    assert.equal(res.threads, 2);
  });

  it('mutual TLS: a client without a certificate is refused', async () => {
    const err = await grpcError(
      client(mtls.port, { creds: trusted() }).ListServers({}, { deadline: Date.now() + 3000 }),
    );
    assert.equal(err.code, status.UNAVAILABLE);
    assert.match(err.details, /certificate required/);
  });
});

describe('exposure beyond loopback', () => {
  it('refuses a non-loopback listener with nothing to authenticate callers', async (t) => {
    const fx = await startControlFixture({ threads: 1 });
    t.after(() => fx.close());
    await assert.rejects(
      startControlServer({
        runtime: fx.runtime,
        listen: { host: '0.0.0.0', port: 0 },
        grpc: { ...DEFAULTS.grpc, allowInsecureRemote: false },
        serverDefaults: DEFAULTS.serverDefaults,
      }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.field, 'grpc.tokens');
        assert.match(err.message, /0\.0\.0\.0:0 is reachable from other hosts/);
        return true;
      },
    );
    // told so explicitly, or with a token, it starts
    for (const grpc of [
      { ...DEFAULTS.grpc, allowInsecureRemote: true },
      { ...DEFAULTS.grpc, tokens: { admin: ADMIN } },
    ]) {
      const server = await startControlServer({
        runtime: fx.runtime,
        listen: { host: '0.0.0.0', port: 0 },
        grpc,
        serverDefaults: DEFAULTS.serverDefaults,
      });
      await server.stop(500);
    }
  });
});
