// The HTTP front of one worker thread: HTTP/1.1 with keep-alive on a `reusePort` listener (the
// kernel spreads client connections over the workers), each request mapped to FastCGI like
// nginx `fastcgi_pass` and run through this thread's pool. Data plane only: it knows HTTP and
// the pool's request API, nothing of shared memory or takeover.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { BackendErrorCode, FcgiProtocolError, PoolErrorCode, ProtocolErrorCode } from '../errors.ts';
import type { PoolThread } from '../pool/pool-thread.ts';
import { runRequest } from '../pool/run-request.ts';
import type { DataPlane } from '../worker/worker-main.ts';
import { readBody } from './body.ts';
import { CgiResponseParser } from './cgi-response.ts';
import { errorReply } from './errors-page.ts';
import type { GatewayOptions } from './gateway-options.ts';
import { RequestMapper } from './request-mapper.ts';
import { ServerPicker } from './server-picker.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);

export async function startGateway(pt: PoolThread, opts: GatewayOptions, log: Logger): Promise<DataPlane> {
  const mapper = new RequestMapper(opts);
  const picker = new ServerPicker(pt, opts.servers);
  const server = http.createServer(
    { keepAlive: true, requestTimeout: opts.requestTimeoutMs, headersTimeout: opts.headersTimeoutMs },
    (req, res) => handle(pt, opts, mapper, picker, log, req, res),
  );
  server.keepAliveTimeout = opts.keepAliveTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.listen.host, port: opts.listen.port, reusePort: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  log.debug({ address: server.address() as AddressInfo }, 'http listener up');
  return {
    close(graceMs: number): Promise<void> {
      return new Promise((resolve) => {
        // refuse new connections, let in-flight requests finish, then close idle keep-alive ones
        server.close(() => resolve());
        server.closeIdleConnections();
        const timer = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, graceMs);
        timer.unref();
      });
    },
  };
}

function handle(
  pt: PoolThread,
  opts: GatewayOptions,
  mapper: RequestMapper,
  picker: ServerPicker,
  log: Logger,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const started = performance.now();
  const incomingId = req.headers['x-request-id'];
  const reqId =
    typeof incomingId === 'string' && /^[\w.:-]{1,128}$/.test(incomingId) ? incomingId : randomUUID();
  res.setHeader('X-Request-Id', reqId);
  let status = 0;
  const done = (why?: string) => {
    if (opts.accessLog) {
      log.info(
        {
          reqId,
          method: req.method,
          url: req.url,
          status: status || res.statusCode,
          ms: Math.round((performance.now() - started) * 100) / 100,
          remote: req.socket.remoteAddress,
          ...(why ? { why } : {}),
        },
        'request',
      );
    }
  };
  const fail = (code: number, reason: string) => {
    status = code;
    if (res.headersSent) {
      // the response already started: cut it off rather than send a wrong ending
      res.destroy();
    } else {
      const { body, headers } = errorReply(code, reason);
      res.writeHead(code, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    }
    done(reason);
  };

  const mapped = mapper.map(req);
  if ('error' in mapped) {
    fail(mapped.status, mapped.reason);
    req.resume();
    return;
  }
  readBody(req, opts.maxBodyBytes, (err, body) => {
    if (err) {
      fail(err.status, err.message);
      return;
    }
    const server = picker.pick();
    if (server < 0) {
      fail(503, 'no backend server is available');
      return;
    }
    let params: Array<[string, string]>;
    try {
      params = mapped.params(body === null ? 0 : body.length);
    } catch (e) {
      if (e instanceof FcgiProtocolError && e.code === ProtocolErrorCode.NAME_VALUE_TOO_LARGE) {
        fail(431, 'request headers too large for a FastCGI record');
        return;
      }
      throw e;
    }
    const parser = new CgiResponseParser(opts.maxResponseHeaderBytes);
    let resume: (() => void) | null = null;
    let headersDone = false;
    picker.begin(server);
    runRequest(
      pt,
      {
        server,
        params,
        stdin: body,
        retryable: IDEMPOTENT.has(req.method ?? '') || opts.retryNonIdempotent,
        timeoutMs: pt.servers[server]!.settings.readTimeoutMs,
      },
      {
        onConnection(info) {
          resume = info.resume;
        },
        onStdout(chunk) {
          if (headersDone) return res.write(chunk);
          let r: ReturnType<CgiResponseParser['push']>;
          try {
            r = parser.push(chunk);
          } catch (e) {
            fail(502, `the backend sent an invalid CGI header: ${(e as Error).message}`);
            return true;
          }
          if (!r.done) return true;
          headersDone = true;
          status = r.status;
          res.writeHead(r.status, r.headers);
          if (req.method === 'HEAD') return true;
          return r.body.length === 0 ? true : res.write(r.body);
        },
        onDrain() {},
        onStderr(chunk) {
          log.warn(
            { reqId, stderr: chunk.toString('utf8', 0, Math.min(chunk.length, 4096)) },
            'backend stderr',
          );
        },
        onEnd() {
          picker.end(server, true);
          if (!headersDone) {
            fail(502, 'the backend ended the response before its headers');
            return;
          }
          res.end();
          done();
        },
        onError(err) {
          const code = (err as { code?: string }).code;
          picker.end(server, code !== BackendErrorCode.CONNECT && code !== BackendErrorCode.CONNECT_TIMEOUT);
          if (code === PoolErrorCode.QUEUE_TIMEOUT || code === PoolErrorCode.QUEUE_FULL) {
            fail(503, err.message);
          } else if (code === BackendErrorCode.READ_TIMEOUT) {
            fail(504, err.message);
          } else {
            fail(502, `backend error: ${err.message}`);
          }
        },
      },
    );
    res.on('drain', () => resume?.());
  });
}
