// `fcgi-pool ctl` as an operator runs it: a child process of bin/fcgi-pool.js against a running
// control plane, tables by default and --json for scripts, exit codes 0 / 1 (the call failed) /
// 2 (bad usage).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../../src/config/schema.ts';
import { type ControlServer, startControlServer } from '../../src/control/grpc-server.ts';
import { type ControlFixture, startControlFixture } from './control-helpers.ts';
import { makeCerts, type TestCerts } from './tls-certs.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function ctl(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      NODE,
      ['bin/fcgi-pool.js', 'ctl', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('fcgi-pool ctl', () => {
  let fx: ControlFixture;
  let address: string;

  before(async () => {
    fx = await startControlFixture({ threads: 2 });
    address = `127.0.0.1:${fx.control.port}`;
  });
  after(() => fx.close());

  it('servers prints a table, --json the ListServers answer; health prints SERVING; watch streams JSON lines', async () => {
    const [table, json, health, watch] = await Promise.all([
      ctl(['servers', '--address', address]),
      ctl(['servers', '--address', address, '--json']),
      ctl(['health', '--address', address]),
      ctl(['watch', '--count', '1', '--json', '--address', address]),
    ]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.split('\n');
    assert.match(lines[0], /^NAME\s+ADDRESS\s+STATE\s+CONNS\s+IDLE\s+USED\s+QUEUED\s+MAX\s+MAX_IDLE\s+REUSE/);
    assert.match(lines[1], /^backend\s+127\.0\.0\.1:\d+\s+READY\s+/);
    assert.match(table.stdout, /threads: 2, ready: yes/);
    assert.equal(json.code, 0, json.stderr);
    const res = JSON.parse(json.stdout);
    assert.equal(res.threads, 2);
    assert.equal(res.servers[0].name, 'backend');
    assert.equal(res.servers[0].state, 'READY');

    assert.equal(health.code, 0, health.stderr);
    assert.equal(health.stdout, 'SERVING\n');

    assert.equal(watch.code, 0, watch.stderr);
    const changes = watch.stdout.trim().split('\n');
    assert.equal(changes.length, 1, 'one change with --count 1');
    const change = JSON.parse(changes[0]);
    assert.equal(change.initial, true);
    assert.equal(change.sequence, '1');
  });

  it('execute runs a request on a thread; idle, takeover and locks show where it went', async () => {
    const exec = await ctl([
      'execute',
      '/echo?x=1',
      '--thread',
      '1',
      '--param',
      'X_TEST=from-ctl',
      '--address',
      address,
    ]);
    assert.equal(exec.code, 0, exec.stderr);
    assert.match(exec.stdout, /^thread:\s+1$/m);
    assert.match(exec.stdout, /^protocol_status:\s+REQUEST_COMPLETE$/m);
    assert.match(exec.stdout, /"X_TEST":"from-ctl"/);
    assert.match(exec.stdout, /"QUERY_STRING":"x=1"/);
    const id = /^connection:\s+(\d+)$/m.exec(exec.stdout)?.[1];

    const idle = await ctl(['idle', '--json', '--address', address]);
    assert.equal(idle.code, 0, idle.stderr);
    const listed = JSON.parse(idle.stdout).connections;
    assert.deepEqual(
      listed.map((c: { id: string; thread: number }) => [c.id, c.thread]),
      [[id, 1]],
    );

    const moved = await ctl(['takeover', '--from', '1', '--to', '0', '--address', address]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /^ID\s+SERVER\s+THREAD\s+LIST\s+IDLE_MS\s+REQUESTS\s+LOCAL\s+REMOTE$/m);
    assert.match(moved.stdout, new RegExp(`^\\s*${id}\\s+backend\\s+0\\s+`, 'm'));
    assert.match(moved.stdout, /moved 1 connection\(s\)/);

    const [locks, after] = await Promise.all([
      ctl(['locks', '--address', address]),
      ctl(['idle', '--thread', '0', '--address', address]),
    ]);
    assert.equal(locks.code, 0, locks.stderr);
    assert.match(locks.stdout, /^THREAD\s+USR1_FAST\s+LOCKED\s+ACQUIRED\s+CONTENDED\s+TRY_FAILED\s+WAIT_US/);
    assert.match(
      locks.stdout,
      /^\s+1\s+\d+\s+\d+\s+\d+\s+.*handoff=1/m,
      'thread 1 handed the connection over',
    );
    assert.match(after.stdout, new RegExp(`^\\s*${id}\\s+backend\\s+0\\s+`, 'm'));
  });

  it('a refused call exits 1 with the status and the field; bad usage exits 2', async () => {
    const [refused, notFound, usage, unknown, help] = await Promise.all([
      ctl(['takeover', '--from', '0', '--to', '5', '--address', address]),
      ctl(['drain', 'nope', '--address', address]),
      ctl(['idle', '--thread', 'one', '--address', address]),
      ctl(['frobnicate', '--address', address]),
      ctl(['help', 'takeover']),
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /INVALID_ARGUMENT: to_thread: must be a thread from 0 to 1/);
    assert.equal(notFound.code, 1);
    assert.match(notFound.stderr, /NOT_FOUND: name: no server named "nope"/);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--thread: must be a whole number, got "one"/);
    assert.match(usage.stderr, /Usage: fcgi-pool ctl idle/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: fcgi-pool ctl takeover --from n --to n/);
  });
});

describe('fcgi-pool ctl with tokens and mutual TLS', () => {
  let fx: ControlFixture;
  let certs: TestCerts;
  let mtls: ControlServer;

  before(async () => {
    certs = makeCerts();
    fx = await startControlFixture({ threads: 1, grpc: { tokens: { readOnly: 'reader', admin: 'boss' } } });
    mtls = await startControlServer({
      runtime: fx.runtime,
      listen: { host: '127.0.0.1', port: 0 },
      grpc: {
        ...DEFAULTS.grpc,
        tokens: { admin: 'boss' },
        tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert, requireClientCert: true },
      },
      serverDefaults: DEFAULTS.serverDefaults,
    });
  });
  after(async () => {
    await mtls.stop(1000);
    await fx.close();
    certs.remove();
  });

  it('takes the token from FCGI_POOL_GRPC_TOKEN or --token', async () => {
    const address = `127.0.0.1:${fx.control.port}`;
    const [none, read, denied, admin] = await Promise.all([
      ctl(['servers', '--address', address]),
      ctl(['servers', '--address', address], { FCGI_POOL_GRPC_TOKEN: 'reader' }),
      ctl(['purge', '--address', address], { FCGI_POOL_GRPC_TOKEN: 'reader' }),
      ctl(['purge', '--address', address, '--token', 'boss'], { FCGI_POOL_GRPC_TOKEN: 'reader' }),
    ]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /UNAUTHENTICATED/);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /PERMISSION_DENIED: PurgeIdle .*admin token/);
    assert.equal(admin.code, 0, admin.stderr);
    assert.match(admin.stdout, /^closed \d+ idle connection\(s\)$/m);
  });

  it('talks mutual TLS with --ca, --cert, --key and --server-name', async () => {
    const address = `127.0.0.1:${mtls.port}`;
    const tls = ['--ca', certs.caCert, '--cert', certs.clientCert, '--key', certs.clientKey];
    const [ok, ip] = await Promise.all([
      ctl([
        'servers',
        '--json',
        '--token',
        'boss',
        '--address',
        address,
        ...tls,
        '--server-name',
        'localhost',
      ]),
      ctl(['servers', '--token', 'boss', '--address', address, ...tls]),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).servers[0].name, 'backend');
    assert.equal(ip.code, 2, 'TLS to an IP address needs --server-name');
    assert.match(ip.stderr, /--server-name: is needed for TLS to an IP address/);
  });
});
