// Starts a PoolRuntime (real worker threads, no HTTP gateway) in front of one backend, for the
// pool tests, and runs FastCGI requests on a chosen thread through the control API.
import type { TestContext } from 'node:test';
import type { BackendAddress } from '../../src/config/address.ts';
import { FcgiResponder } from '../../src/fcgi/responder.ts';
import { PoolRuntime } from '../../src/pool/pool-runtime.ts';
import type { ServerSettings } from '../../src/pool/server-pool.ts';
import type { ExecuteResult } from '../../src/worker/messages.ts';
import type { WorkerInit } from '../../src/worker/worker-init.ts';
import { type PhpFpm, type PhpFpmOptions, startPhpFpm } from './php-fpm.ts';

export interface TestPoolOptions {
  threads?: number;
  address: BackendAddress;
  maxConnections?: number;
  fastPath?: boolean;
  starvationBoundMs?: number;
  purgeDelayMs?: number;
  handoffTimeoutMs?: number;
  queueTimeoutMs?: number;
  settings?: Partial<ServerSettings>;
  gateway?: WorkerInit['gateway'];
}

/** Settings of one test server: `maxConnections` connections, reuse always, no purge in sight. */
export function serverSettings(
  name: string,
  address: BackendAddress,
  maxConnections: number,
  more: Partial<ServerSettings> = {},
): ServerSettings {
  return {
    name,
    address,
    maxConnections,
    maxIdle: maxConnections,
    reuse: 'always',
    purgeDelayMs: 60_000,
    maxRequestsPerConnection: 0,
    connectTimeoutMs: 2000,
    readTimeoutMs: 10_000,
    ...more,
  };
}

export function startTestPool(opts: TestPoolOptions): Promise<PoolRuntime> {
  return PoolRuntime.start({
    threads: opts.threads ?? 2,
    servers: [
      serverSettings('backend', opts.address, opts.maxConnections ?? 4, {
        ...(opts.purgeDelayMs !== undefined ? { purgeDelayMs: opts.purgeDelayMs } : {}),
        ...opts.settings,
      }),
    ],
    pool: {
      fastPath: opts.fastPath ?? true,
      starvationBoundMs: opts.starvationBoundMs ?? 5,
      lowIdleNoSteal: 0,
      handoffTimeoutMs: opts.handoffTimeoutMs ?? 500,
      queueTimeoutMs: opts.queueTimeoutMs ?? 10_000,
      maxQueue: 1024,
      purgeIntervalMs: 200,
    },
    gateway: opts.gateway ?? null,
  });
}

/**
 * A real php-fpm and a pool in front of it (TCP, or its Unix socket), both stopped after the test.
 */
export async function poolOnPhpFpm(
  t: TestContext,
  fpmOpts: PhpFpmOptions,
  poolOpts: Omit<TestPoolOptions, 'address'> = {},
): Promise<{ fpm: PhpFpm; pool: PoolRuntime }> {
  const fpm = await startPhpFpm(fpmOpts);
  t.after(() => fpm.stop());
  const address: BackendAddress =
    fpm.socketPath !== undefined
      ? { kind: 'unix', path: fpm.socketPath }
      : { kind: 'tcp', host: fpm.host, port: fpm.port };
  const pool = await startTestPool({ threads: 2, ...poolOpts, address });
  t.after(() => pool.stop(2000));
  return { fpm, pool };
}

/** Params of a GET request; `script` is SCRIPT_FILENAME (php-fpm) or ignored (responder). */
export function getParams(uri: string, script = '/srv/www/index.php'): Record<string, string> {
  const [path, query = ''] = uri.split('?');
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: 'GET',
    SCRIPT_FILENAME: script,
    SCRIPT_NAME: path,
    REQUEST_URI: uri,
    DOCUMENT_URI: path,
    QUERY_STRING: query,
    SERVER_PROTOCOL: 'HTTP/1.1',
  };
}

export function run(
  pool: PoolRuntime,
  thread: number,
  params: Record<string, string>,
  timeoutMs = 10_000,
): Promise<ExecuteResult> {
  return pool.execute({ thread, server: 0, params, stdin: new Uint8Array(0), timeoutMs });
}

/** The body of a CGI response (after the blank line). */
export function body(r: ExecuteResult): string {
  const text = Buffer.from(r.stdout).toString('utf8');
  const i = text.indexOf('\r\n\r\n');
  return i >= 0 ? text.slice(i + 4) : text.slice(text.indexOf('\n\n') + 2);
}

/** The embedded responder's connection id header of a response. */
export function responderConnection(r: ExecuteResult): number {
  const m = /X-Fcgi-Connection-Id: (\d+)/i.exec(Buffer.from(r.stdout).toString('latin1'));
  if (!m) throw new Error(`no connection id in ${Buffer.from(r.stdout).toString('utf8').slice(0, 200)}`);
  return Number(m[1]);
}

/**
 * The USR1 scene: 2 threads and 4 connections on the embedded responder, which closes
 * connections idle for 150 ms, so every connection left idle brings one EOF wake-up.
 */
export async function idleClosingPool(
  fastPath: boolean,
): Promise<{ responder: FcgiResponder; pool: PoolRuntime }> {
  const responder = new FcgiResponder({ closeIdleAfterMs: 150 });
  const { host, port } = await responder.listen(0, '127.0.0.1');
  const pool = await startTestPool({
    threads: 2,
    maxConnections: 4,
    fastPath,
    address: { kind: 'tcp', host, port },
  });
  return { responder, pool };
}

/**
 * `requests` requests of 100 kB spread over both threads, then waits (5 s at most) until the
 * backend has closed every connection left idle; returns whether it did.
 */
export async function loadThenIdle(pool: PoolRuntime, requests: number): Promise<boolean> {
  await Promise.all(
    [0, 1, 0, 1].map(async (thread) => {
      for (let i = 0; i < requests / 4; i++) await run(pool, thread, getParams('/bytes?n=100000'));
    }),
  );
  for (let i = 0; i < 250 && pool.shm.counters.curConns(0) > 0; i++)
    await new Promise((r) => setTimeout(r, 20));
  return pool.shm.counters.curConns(0) === 0;
}
