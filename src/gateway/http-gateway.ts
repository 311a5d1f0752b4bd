// The HTTP front of one worker thread: HTTP/1.1 with keep-alive on a `reusePort` listener (the
// kernel spreads client connections over the workers), each request mapped to FastCGI like
// nginx `fastcgi_pass` and run through this thread's pool. Data plane only: it knows HTTP and
// the pool's request API, nothing of shared memory or takeover.
//
// Per request, in order: an id (the client's X-Request-Id when it is sane), the mapping (bad
// paths and oversized headers are answered before any body is read), a static file or the
// script check when configured, the body (bounded, spooled when large), the backend exchange
// (fcgi-proxy.ts), and one access-log line however it ended.

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo, type Server } from 'node:net';
import type { Logger } from 'pino';
import type { PoolThread } from '../pool/pool-thread.ts';
import type { DataPlane } from '../worker/worker-main.ts';
import { AccessLog } from './access-log.ts';
import { BodyError, hasBody, linger, readBody } from './body.ts';
import { ClientBalancer } from './client-balance.ts';
import { type BodyReader, type ClientErrorReply, ClientErrors } from './client-errors.ts';
import { errorReply } from './errors-page.ts';
import { type ClientSide, type ProxyContext, proxyRequest } from './fcgi-proxy.ts';
import type { GatewayOptions } from './gateway-options.ts';
import type { GatewayResponse } from './http1/fast-response.ts';
import { FastRequest, Http1Front } from './http1/http1-front.ts';
import { type MapError, type MappedRequest, RequestMapper } from './request-mapper.ts';
import { createScriptChecker } from './script-check.ts';
import { ServerPicker } from './server-picker.ts';
import { createStaticFiles, type StaticFileServer } from './static-files.ts';

/** Bodies up to this size stay in memory; larger ones are spooled to app.spoolDir. */
const BODY_MEMORY_BYTES = 64 * 1024;
const REQUEST_ID_RE = /^[\w.:-]{1,128}$/;

/** A request from node:http or from the gateway's own front. */
type GatewayRequest = http.IncomingMessage | FastRequest;

interface Gateway extends ProxyContext {
  readonly mapper: RequestMapper;
  readonly log: Logger;
  /** Null when the access log is off (or the level is above info). */
  readonly accessLog: AccessLog | null;
  readonly staticFiles: StaticFileServer | null;
  readonly checkScript: ((file: string) => Promise<'ok' | 'missing' | 'outside'>) | null;
  readonly clientErrors: ClientErrors;
  closing: boolean;
}

/** A running gateway: its port (useful when it listened on port 0) and how to stop it. */
export interface RunningGateway extends DataPlane {
  readonly port: number;
}

export async function startGateway(
  pt: PoolThread,
  opts: GatewayOptions,
  log: Logger,
): Promise<RunningGateway> {
  const { app } = opts;
  const accessLog = opts.accessLog && log.isLevelEnabled('info') ? new AccessLog(log) : null;
  const g: Gateway = {
    pt,
    opts,
    picker: new ServerPicker(pt, opts.servers),
    mapper: new RequestMapper(opts),
    log,
    accessLog,
    staticFiles: app.staticFiles && !app.routeAll ? createStaticFiles(app) : null,
    checkScript: app.checkScriptExists && !app.routeAll ? createScriptChecker(app.docroot) : null,
    clientErrors: new ClientErrors(
      accessLog,
      {
        maxHeaderBytes: app.maxHeaderBytes,
        headersTimeoutMs: opts.headersTimeoutMs,
        requestTimeoutMs: opts.requestTimeoutMs,
      },
      (status) => pt.shm.stats.answered(pt.thread, status),
    ),
    closing: false,
  };
  const server = http.createServer(
    {
      keepAlive: true,
      requestTimeout: opts.requestTimeoutMs,
      headersTimeout: opts.headersTimeoutMs,
      // checked each second, as the fast front sweeps (node:http's default is every 30 s)
      connectionsCheckingInterval: 1000,
      maxHeaderSize: app.maxHeaderBytes,
    },
    (req, res) => handle(g, req, res, false),
  );
  // "Expect: 100-continue" is answered only once the body is wanted: a request refused before
  // (bad path, no script, too large) is refused before its body is sent at all.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) =>
    handle(g, req, res, true),
  );
  // Other expectations are ignored, as nginx and HAProxy do (RFC 9110 §10.1.1 allows a 417):
  // node:http's bare 417 would neither say why nor be logged.
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) =>
    handle(g, req, res, false),
  );
  server.on('clientError', g.clientErrors.onClientError);
  server.on('connect', g.clientErrors.onConnect);
  server.keepAliveTimeout = opts.keepAliveTimeoutMs;
  // accepted connections go to the thread balancer first, and come back to serve() if they stay
  const accept = (socket: net.Socket) => balancer.accepted(socket);
  const listener: Listener = opts.fastFront
    ? // Requests without a body go through the gateway's own HTTP/1.1 front; node:http (the
      // server above, which does not listen) takes the connections that bring anything else.
      new Http1Front({
        maxHeaderBytes: app.maxHeaderBytes,
        keepAliveTimeoutMs: opts.keepAliveTimeoutMs,
        headersTimeoutMs: opts.headersTimeoutMs,
        fallback: server,
        accept,
        refuse: (socket, reply) => g.clientErrors.answer(socket, reply),
        handle: (req, res) => {
          const mapped = g.mapper.map(req);
          // static files are served by node:http's response (streams, ranges)
          if ('error' in mapped && servesStatic(g, mapped)) return false;
          handle(g, req, res, false, mapped);
          return true;
        },
      })
    : nodeListener(server, accept);
  const balancer = new ClientBalancer(pt, (socket) => listener.serve(socket));
  await new Promise<void>((resolve, reject) => {
    listener.server.once('error', reject);
    listener.server.listen({ host: opts.listen.host, port: opts.listen.port, reusePort: true }, () => {
      listener.server.off('error', reject);
      resolve();
    });
  });
  balancer.listening();
  log.debug(
    { address: listener.server.address() as AddressInfo, fastFront: opts.fastFront },
    'http listener up',
  );
  return {
    port: (listener.server.address() as AddressInfo).port,
    close(graceMs: number): Promise<void> {
      // Ordered like fastify's close: refuse new connections, let in-flight requests finish
      // (their responses say Connection: close), close each keep-alive connection as soon as
      // it is idle, and cut whatever is left when the grace period ends.
      g.closing = true;
      balancer.close();
      return new Promise<void>((resolve) => {
        const sweep = setInterval(() => listener.closeIdle(), 50);
        const timer = setTimeout(() => {
          clearInterval(sweep);
          listener.closeAll();
          resolve();
        }, graceMs);
        timer.unref();
        listener.close(() =>
          balancer.drained(() => {
            clearInterval(sweep);
            clearTimeout(timer);
            resolve();
          }),
        );
      });
    },
  };
}

/** The HTTP listener of either front, as shutdown sees it. */
interface Listener {
  readonly server: Server;
  /** Serves a connection accepted paused (or moved here from another thread). */
  serve(socket: net.Socket): void;
  /** Stops accepting and closes idle connections; `onClosed` once the listener is closed. */
  close(onClosed: () => void): void;
  closeIdle(): void;
  closeAll(): void;
}

/** node:http serving the connections of a plain listener, as the fast front hands them over. */
function nodeListener(server: http.Server, accept: (socket: net.Socket) => void): Listener {
  const listener = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, accept);
  // node:http tracks its connections' timeouts from its own 'listening' event
  listener.once('listening', () => server.emit('listening'));
  return {
    server: listener,
    serve(socket) {
      server.emit('connection', socket);
      socket.resume();
    },
    close(onClosed) {
      // then node:http's close, which stops its timeout checks (it never listened itself);
      // the balancer tells when the connections are gone
      listener.close(() => server.close(() => onClosed()));
      server.closeIdleConnections();
    },
    closeIdle: () => server.closeIdleConnections(),
    closeAll: () => server.closeAllConnections(),
  };
}

/** A path that is no script, served from the local docroot (by node:http's response). */
function servesStatic(g: Gateway, mapped: MapError): mapped is MapError & { readonly documentUri: string } {
  return mapped.error === 'not-script' && g.staticFiles !== null && mapped.documentUri !== undefined;
}

function handle(
  g: Gateway,
  req: GatewayRequest,
  res: GatewayResponse,
  expectsContinue: boolean,
  premapped?: MappedRequest | MapError,
): void {
  const client = new ClientExchange(g, req, res, expectsContinue);
  if (req instanceof http.IncomingMessage && res instanceof http.ServerResponse) {
    g.clientErrors.opened(req, res, client);
  }
  const mapped = premapped ?? g.mapper.map(req);
  if ('error' in mapped) {
    if (
      servesStatic(g, mapped) &&
      g.staticFiles !== null &&
      req instanceof http.IncomingMessage &&
      res instanceof http.ServerResponse
    ) {
      const q = (req.url ?? '').indexOf('?');
      g.staticFiles(req, res, mapped.documentUri, q < 0 ? '' : (req.url ?? '').slice(q + 1)).then(
        (r) => client.done(r.status, r.why),
        (err: Error) => client.fail(500, `static file failed: ${err.message}`),
      );
      return;
    }
    client.fail(mapped.status, mapped.reason);
    return;
  }
  if (g.checkScript === null) {
    forward(g, client, mapped);
    return;
  }
  g.checkScript(mapped.script.scriptFilename).then(
    (found) => {
      if (found === 'ok') forward(g, client, mapped);
      else client.fail(404, `no script at ${mapped.script.scriptName}`);
    },
    (err: Error) => client.fail(500, `script check failed: ${err.message}`),
  );
}

/**
 * The client side of one request: its id, its logger, and how it ended (an error page when it
 * failed, one access-log line either way). One object per request rather than a closure for
 * each of these: under load every request makes one.
 */
class ClientExchange implements ClientSide, BodyReader {
  readonly #g: Gateway;
  readonly req: GatewayRequest;
  readonly res: GatewayResponse;
  readonly #expectsContinue: boolean;
  /** performance.now() when the request arrived. */
  readonly started = performance.now();
  readonly reqId: string;
  #log: Logger | undefined;
  #logged = false;
  /** 100 Continue was sent (or was not asked for) and the body is being read. */
  #continued = false;
  /** Made when first needed: aborted when the connection's parser failed in the body. */
  #bodyAbort: AbortController | null = null;

  constructor(g: Gateway, req: GatewayRequest, res: GatewayResponse, expectsContinue: boolean) {
    this.#g = g;
    this.req = req;
    this.res = res;
    this.#expectsContinue = expectsContinue;
    const incomingId = req instanceof FastRequest ? req.requestId : req.headers['x-request-id'];
    this.reqId = typeof incomingId === 'string' && REQUEST_ID_RE.test(incomingId) ? incomingId : randomUUID();
    res.setHeader('X-Request-Id', this.reqId);
    if (g.closing) res.setHeader('Connection', 'close');
  }

  /** Made on first use: most requests log only their access line, which names the id itself. */
  log(): Logger {
    this.#log ??= this.#g.log.child({ reqId: this.reqId });
    return this.#log;
  }

  done(status: number, why?: string, server?: string): void {
    if (this.#logged) return;
    this.#logged = true;
    // a request sent to a backend is counted there (fcgipool_requests_total)
    if (server === undefined) this.#g.pt.shm.stats.answered(this.#g.pt.thread, status);
    const { req } = this;
    this.#g.accessLog?.write({
      reqId: this.reqId,
      method: req.method,
      url: req.url,
      status,
      ms: Math.round((performance.now() - this.started) * 100) / 100,
      remote: req.socket.remoteAddress,
      server,
      why,
    });
  }

  fail(status: number, why: string, server?: string): void {
    const { req, res } = this;
    if (status >= 500)
      this.log().warn({ status, why, ...(server !== undefined ? { server } : {}) }, 'request failed');
    if (res.headersSent) {
      // the response already started: cut it off rather than send a wrong ending
      res.destroy();
    } else if (!res.destroyed) {
      const { reason, body, headers } = errorReply(status, why);
      const payload = req.method === 'HEAD' ? undefined : body;
      if (!(req instanceof http.IncomingMessage) || req.complete || !hasBody(req)) {
        res.writeHead(status, reason, headers);
        res.end(payload);
      } else if ((this.#expectsContinue && !this.#continued) || this.#bodyAbort?.signal.aborted) {
        // the client waits for our word before sending its body, or the parser failed in
        // it: no more of it will come
        headers.Connection = 'close';
        res.writeHead(status, reason, headers);
        res.end(payload);
      } else {
        // the client is still sending: the answer goes out now, the end once the body is in
        res.writeHead(status, reason, headers);
        if (payload !== undefined) res.write(payload);
        linger(req, this.#g.opts.maxBodyBytes, () => res.end());
      }
    }
    this.done(status, why, server);
  }

  /** What ends the body read: the connection's parser failing in the body (bodyFailed). */
  bodySignal(): AbortSignal {
    this.#bodyAbort ??= new AbortController();
    return this.#bodyAbort.signal;
  }

  bodyFailed(reply: ClientErrorReply): boolean {
    const { req } = this;
    // a body parsed to its end (or none): the error is in a later request's head
    if (!(req instanceof http.IncomingMessage) || req.complete || !hasBody(req)) return false;
    // answered already (a 413, say) while the rest of the body was being dropped: no rest comes
    if (this.#logged) req.socket.destroySoon();
    else {
      this.#bodyAbort ??= new AbortController();
      this.#bodyAbort.abort(new BodyError(reply.status, reply.reason));
    }
    return true;
  }

  /** The body is wanted: a client that asked for 100 Continue gets it now. */
  wantBody(): void {
    if (this.#expectsContinue && !this.#continued) this.res.writeContinue();
    this.#continued = true;
  }
}

function forward(g: Gateway, client: ClientExchange, mapped: MappedRequest): void {
  const { req } = client;
  if (!(req instanceof http.IncomingMessage)) {
    // the front passes only requests without a body
    proxyRequest(g, req, client.res, mapped, null, client, client.started);
    return;
  }
  const { app } = g.opts;
  readBody(
    req,
    {
      maxBytes: g.opts.maxBodyBytes,
      memoryBytes: BODY_MEMORY_BYTES,
      spoolDir: app.spoolDir,
      onStart: () => client.wantBody(),
      signal: client.bodySignal(),
    },
    (err, body) => {
      if (err !== null) {
        client.fail(err.status, err.message);
        return;
      }
      proxyRequest(g, req, client.res, mapped, body, client, client.started);
    },
  );
}
