// `fcgi-pool serve` as the container runs it: a child process started through bin/fcgi-pool.js,
// spoken to over real sockets on 127.0.0.1 — HTTP for the gateway and the kubelet's HTTP probes,
// gRPC for the standard health service.
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { freePort, listenPorts } from './ports.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export { freePort };

export interface ServeProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far, for assertion messages. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `killAfterMs`; resolves when the process is gone. */
  stop(killAfterMs?: number): Promise<number | string>;
}

export interface ServeOptions {
  /** Directory holding bin/fcgi-pool.js (the repository, or a copy of the image's /app). */
  cwd: string;
  args: string[];
  /** Added to an environment stripped of FCGI_POOL_* variables. */
  env?: Record<string, string>;
}

/** Starts `node bin/fcgi-pool.js <args>` with the node running the tests (Node 26). */
export function startServe(opts: ServeOptions): ServeProcess {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('FCGI_POOL_')) env[k] = v;
  }
  const child = spawn(process.execPath, ['bin/fcgi-pool.js', ...opts.args], {
    cwd: opts.cwd,
    env: { ...env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return {
    child,
    output: () => out,
    exited,
    async stop(killAfterMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      return exited;
    },
  };
}

/** `fcgi-pool serve` from this checkout, on free loopback ports, answering HTTP. */
export interface Serving extends ServeProcess {
  readonly port: number;
  readonly admin: number;
}

/** Starts `node bin/fcgi-pool.js serve <args>` on free ports and waits until it serves. */
export async function startServing(args: string[], env: Record<string, string> = {}): Promise<Serving> {
  const ports = await listenPorts();
  const s: Serving = {
    ...startServe({ cwd: ROOT, env, args: ['serve', ...ports.flags, ...args] }),
    port: ports.http,
    admin: ports.admin,
  };
  const deadline = Date.now() + 20_000;
  while (!s.output().includes('fcgi-pool is serving')) {
    if (s.child.exitCode !== null || Date.now() > deadline) {
      s.child.kill('SIGKILL');
      throw new Error(`fcgi-pool serve did not start:\n${s.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return s;
}

/** The JSON log lines the process printed so far. */
export function logLines(s: ServeProcess): Array<Record<string, unknown>> {
  return s
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface HttpReply {
  status: number;
  body: string;
}

/** GET with a short timeout; rejects on connection errors (ECONNREFUSED: nothing listens). */
export function httpGet(port: number, path: string, timeoutMs = 2000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () =>
      req.destroy(new Error(`GET ${path} on port ${port}: no answer in ${timeoutMs} ms`)),
    );
    req.on('error', reject);
  });
}

/**
 * Calls `fn` until it resolves, for at most `timeoutMs`; then rejects with the last error.
 * `proc` stops the wait early when the service exits.
 */
export async function eventually<T>(
  fn: () => Promise<T>,
  timeoutMs: number,
  proc?: ServeProcess,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (proc && proc.child.exitCode !== null) {
      throw new Error(`fcgi-pool exited (code ${proc.child.exitCode}):\n${proc.output()}`);
    }
    try {
      return await fn();
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) throw last;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** grpc.health.v1.Health/Check as the kubelet's gRPC probe calls it: no credentials, no token. */
export function grpcHealthCheck(port: number, service = '', timeoutMs = 2000): Promise<string> {
  const Client = makeGenericClientConstructor(healthService, 'Health');
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as HealthClient;
  return new Promise<string>((resolve, reject) => {
    client.Check({ service }, { deadline: Date.now() + timeoutMs }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(String(res?.status));
    });
  });
}

interface HealthClient {
  Check(
    req: { service: string },
    opts: { deadline: number },
    cb: (err: Error | null, res?: { status: string }) => void,
  ): void;
  close(): void;
}
