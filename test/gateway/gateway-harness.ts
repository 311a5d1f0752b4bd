// Starts the real service (worker threads, pool, HTTP gateway) in front of a backend for the
// gateway tests, and speaks plain node:http to it, so a test sees exactly the bytes a client
// would: raw paths (fetch would normalise "/../"), raw headers, status text.
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { type ConfigInput, ConfigSchema } from '../../src/config/schema.ts';
import { createLogger } from '../../src/logger.ts';
import { type Service, startService } from '../../src/service.ts';
import { freePort } from '../helpers/ports.ts';

export { freePort };

export interface TestGateway {
  readonly port: number;
  readonly service: Service;
  stop(): Promise<void>;
}

/** `config` is the file form (ConfigSchema input); listen addresses are filled in. */
export async function startTestGateway(config: ConfigInput): Promise<TestGateway> {
  const port = await freePort();
  const parsed = ConfigSchema.parse({
    threads: 2,
    // these tests are about answers, not speed: no start-up delay (gateway-process tests warm up)
    warmUp: { requests: 0 },
    ...config,
    listen: { http: `127.0.0.1:${port}`, grpc: '127.0.0.1:0', admin: '127.0.0.1:0' },
    log: { level: process.env.GW_LOG ?? 'error', access: false, ...config.log },
  });
  const service = await startService(parsed, createLogger({ level: process.env.GW_LOG ?? 'error' }));
  return { port, service, stop: () => service.stop() };
}

export interface Reply {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface SendOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders | Array<[string, string]>;
  body?: Buffer | string;
  /** Send the body with Transfer-Encoding: chunked, in pieces of this size. */
  chunked?: number;
  agent?: http.Agent | false;
  /** The client's port (to find it again in REMOTE_PORT). */
  localPort?: number;
}

/** One request; resolves with the whole response, rejects if the response is cut off. */
export function send(port: number, path: string, opts: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const given = opts.headers ?? {};
    // raw header lists keep repeats and odd names as written; Node adds no Host to them
    const headers = Array.isArray(given) ? [['Host', `127.0.0.1:${port}`], ...given].flat() : given;
    const req = http.request({
      host: '127.0.0.1',
      port,
      path,
      method: opts.method ?? 'GET',
      headers,
      agent: opts.agent ?? false,
      ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}),
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          headers: res.headers,
          body: Buffer.concat(chunks),
        }),
      );
    });
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    if (body !== undefined && opts.chunked !== undefined) {
      for (let i = 0; i < body.length; i += opts.chunked) req.write(body.subarray(i, i + opts.chunked));
      req.end();
    } else req.end(body);
  });
}

/**
 * Writes raw bytes on a fresh connection and returns everything the server sent back until it
 * closed. The client shuts its side after the bytes, unless `writeOnly` (then the last request
 * should say `Connection: close`): a server may take a half-closed client for one that left.
 */
export async function sendRaw(port: number, bytes: string, { writeOnly = false } = {}): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  if (writeOnly) socket.write(bytes);
  else socket.end(bytes);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

/** echo.php's answer. */
export interface Echo {
  method: string;
  params: Record<string, string>;
  bodyLength: number;
  bodySha256: string;
}

export function json<T = Echo>(reply: Reply): T {
  return JSON.parse(reply.body.toString('utf8')) as T;
}
