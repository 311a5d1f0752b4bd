// Warm-up: before a worker's listener opens, requests run through this thread's own gateway code
// against an in-process FastCGI responder, so V8 has compiled the request path by the time the
// first client arrives. Without it a new worker serves its first seconds at 60-80 % of its
// speed while the JIT catches up (docs/performance.md), the moment a rolling restart sends it
// traffic. Nothing of it reaches the configured backends, the shared pool or the access log:
// it runs on a private pool with one server, the responder, on 127.0.0.1.

import net from 'node:net';
import { FcgiResponder } from '../fcgi/responder.ts';
import type { ResponderApp } from '../fcgi/responder-types.ts';
import { createLogger } from '../logger.ts';
import type { BackendAddress } from '../pool/connector.ts';
import { PoolThread } from '../pool/pool-thread.ts';
import { ServerPool, type ServerSettings } from '../pool/server-pool.ts';
import { SharedState } from '../shm/shared-state.ts';
import type { GatewayOptions } from './gateway-options.ts';
import { startGateway } from './http-gateway.ts';

/** Keep-alive client connections, each with a request outstanding at all times. */
const CLIENTS = 16;
/** The private pool's cap: fewer than the clients, so requests queue as they do under load. */
const CONNECTIONS = 4;
/** How long past the time limit a response may take before its connection is cut. */
const CUT_AFTER_MS = 1000;

/** What a PHP hello world answers: no Content-Length, so the gateway frames it as it does php-fpm's. */
const warmUpApp: ResponderApp = (_req, res) => {
  res.setHeader('Content-type', 'text/html; charset=UTF-8');
  res.write('warm-up\n');
  res.end();
};

const HEAD = 'Host: warm-up\r\nUser-Agent: fcgi-pool warm-up\r\nAccept: */*\r\n';
const GET = (path: string) => Buffer.from(`GET ${path} HTTP/1.1\r\n${HEAD}\r\n`);
const FORM = 'warm=up&n=1';
const POST = (path: string) =>
  Buffer.from(
    `POST ${path} HTTP/1.1\r\n${HEAD}Content-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${FORM.length}\r\n\r\n${FORM}`,
  );

export interface WarmUpOptions {
  requests: number;
  /** Stop sending after this long, whatever the count. */
  limitMs: number;
  /** The worker logger's batching delay: the access-log lines take the same path into a sink. */
  logBatchMs: number;
}

export interface WarmUpResult {
  requests: number;
  ms: number;
}

/**
 * Runs `requests` requests for the app's index or another script (GETs, and a small form POST
 * on one connection in 16) through a private copy of this thread's gateway, or fewer if
 * `limitMs` passes first. Static files and the script check are off for it: the point is the
 * FastCGI path.
 */
export async function warmUp(pt: PoolThread, opts: GatewayOptions, w: WarmUpOptions): Promise<WarmUpResult> {
  const started = performance.now();
  const responder = new FcgiResponder({ app: warmUpApp, phpHeaders: true });
  const backend = await responder.listen(0, '127.0.0.1');
  const shm = SharedState.create({ threads: 1, maxServers: 1, maxSlots: CONNECTIONS * 2 });
  shm.counters.configure(0, CONNECTIONS);
  // built as worker-main builds its own (same shapes, see responderSettings)
  const { thread: _, shm: __, connector: ___, ...settings } = pt.options;
  const wpt = new PoolThread({ thread: 0, shm: SharedState.attach(shm.sab, shm.cfg, 0), ...settings });
  wpt.servers[0] = new ServerPool(0, responderSettings(pt, backend.host, backend.port));
  const log = createLogger({ level: opts.logLevel, destination: { write() {} }, batchMs: w.logBatchMs });
  const sockets = new Set<net.Socket>();
  // a response that never ends must not hold the worker's start: its socket is cut
  const cut = setTimeout(() => {
    for (const s of sockets) s.destroy();
  }, w.limitMs + CUT_AFTER_MS);
  let done = 0;
  try {
    const gw = await startGateway(
      wpt,
      {
        ...opts,
        listen: { host: '127.0.0.1', port: 0 },
        // the private pool's one server; absent stays absent (every server: here the one)
        ...(opts.servers === undefined ? {} : { servers: [0] }),
        app: { ...opts.app, staticFiles: false, checkScriptExists: false },
      },
      log,
    );
    const deadline = started + w.limitMs;
    const path = warmUpPath(opts);
    let sent = 0;
    /** Whether a client sends one more: `requests` in all, none after the deadline. */
    const more = () => {
      if (sent === w.requests || performance.now() >= deadline) return false;
      sent++;
      return true;
    };
    const counted = () => {
      done++;
    };
    await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        client(gw.port, i === 0 ? POST(path) : GET(path), sockets, more, counted),
      ),
    );
    await gw.close(0);
  } finally {
    clearTimeout(cut);
    wpt.closed = true;
    for (const t of [...wpt.tasklets.values()]) t.conn.destroy();
    await responder.close();
  }
  return { requests: done, ms: Math.round(performance.now() - started) };
}

/**
 * The app's index when it is a script, else a made-up script name: the warm-up is for the
 * FastCGI path, and an index such as index.html would be answered 404 without reaching it.
 */
function warmUpPath(opts: GatewayOptions): string {
  const { index, scriptExtensions, routeAll } = opts.app;
  if (routeAll || scriptExtensions.some((ext) => index.endsWith(ext))) return `/${index}`;
  return `/index${scriptExtensions[0]}`;
}

/**
 * A configured server's settings (reuse mode, timeouts) pointed at the responder. Copied by
 * spreading, so the object has the same shape as the real ones: code optimised on the warm-up's
 * objects then stays valid for the real pool's instead of being thrown away at its first request.
 */
function responderSettings(pt: PoolThread, host: string, port: number): ServerSettings {
  const model = pt.servers.find((sp) => sp !== undefined)?.settings ?? FALLBACK_SETTINGS;
  const address: BackendAddress =
    model.address.kind === 'tcp' ? { ...model.address, host, port } : { kind: 'tcp', host, port };
  return { ...model, name: 'warm-up', address, maxConnections: CONNECTIONS, maxIdle: CONNECTIONS };
}

/** For a pool with no server yet (all discovered at run time). */
const FALLBACK_SETTINGS: ServerSettings = {
  name: 'warm-up',
  address: { kind: 'tcp', host: '127.0.0.1', port: 0 },
  maxConnections: CONNECTIONS,
  maxIdle: CONNECTIONS,
  reuse: 'always',
  purgeDelayMs: 60_000,
  maxRequestsPerConnection: 0,
  connectTimeoutMs: 1000,
  readTimeoutMs: 5000,
};

/** One keep-alive client: a request, its whole response, the next, while `more()`. */
function client(
  port: number,
  request: Buffer,
  sockets: Set<net.Socket>,
  more: () => boolean,
  counted: () => void,
): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    sockets.add(socket);
    let buf = '';
    const next = () => {
      if (!more()) {
        socket.end();
        return;
      }
      socket.write(request);
    };
    socket.on('connect', next);
    // Buffers, not setEncoding(): the gateway's own sockets never decode, and a decoder would
    // give the stream objects another shape than theirs
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      if (!complete(buf)) return;
      buf = '';
      counted();
      next();
    });
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
  });
}

/** Whether `text` holds one whole response (chunked or with Content-Length). */
function complete(text: string): boolean {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return false;
  const head = text.slice(0, headEnd).toLowerCase();
  const m = /\r\ncontent-length: *(\d+)/.exec(head);
  if (m !== null) return text.length - headEnd - 4 >= Number(m[1]);
  return text.endsWith('\r\n0\r\n\r\n');
}
