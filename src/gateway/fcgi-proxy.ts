// One mapped request sent to the backend and its answer streamed to the client: server choice,
// the pool's runRequest, the CGI head, the body with back-pressure both ways, and every failure
// turned into a clear status (shared/reference/fastcgi-peers.md):
//   backend refused, reset or sent garbage → 502; no connection within the queue timeout → 503;
//   backend silent past its read timeout → 504; END_REQUEST with an overload status → 503.
// A connect failure is retried once on another server (nothing was sent); anything else is
// retried only inside runRequest, under its rules. Once the response has started, a failure
// cuts the connection rather than pretend the answer was whole.

import type { Logger } from 'pino';
import { BackendErrorCode, FcgiProtocolError, PoolErrorCode, ProtocolErrorCode } from '../errors.ts';
import type { FcgiRequestError } from '../fcgi/connection.ts';
import type { PoolThread } from '../pool/pool-thread.ts';
import { type RunInfo, runRequest } from '../pool/run-request.ts';
import { type RequestBody, SpooledBody } from './body.ts';
import { CgiResponseParser } from './cgi-response.ts';
import type { GatewayOptions } from './gateway-options.ts';
import type { GatewayResponse } from './http1/fast-response.ts';
import type { MappedRequest } from './request-mapper.ts';
import type { ServerPicker } from './server-picker.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);

export interface ProxyContext {
  readonly pt: PoolThread;
  readonly opts: GatewayOptions;
  readonly picker: ServerPicker;
  /** True once the listener is closing: responses then end their connection. */
  readonly closing: boolean;
}

/** How the exchange ended, for the access log (called once). */
export type ProxyDone = (status: number, why?: string, server?: string) => void;

/** Sends an error page (or cuts the response if it has started) and reports it. */
export type Fail = (status: number, why: string, server?: string) => void;

export function proxyRequest(
  ctx: ProxyContext,
  req: { readonly method?: string },
  res: GatewayResponse,
  mapped: MappedRequest,
  body: RequestBody,
  /** The request's logger (with its id), made on first use. */
  log: () => Logger,
  done: ProxyDone,
  fail: Fail,
  /** performance.now() when the request arrived: fcgipool_request_duration_seconds starts here. */
  started: number,
): void {
  const { pt, opts, picker } = ctx;
  const head = req.method === 'HEAD';
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
  const retryable = IDEMPOTENT.has(req.method ?? '') || opts.retryNonIdempotent;
  const parser = new CgiResponseParser(opts.maxResponseHeaderBytes);
  const tried: number[] = [];
  let info: RunInfo | null = null;
  let headersDone = false;
  let status = 0;
  /** The exchange is over for us (answered, failed, or the client left). */
  let over = false;
  let clientGone = false;

  const serverName = (s: number) => pt.servers[s]?.settings.name ?? String(s);
  const end = (code: number, why?: string, server?: number) => {
    over = true;
    // fcgipool_requests_total{server,code} and the duration histogram, in this thread's words
    if (server !== undefined && pt.servers[server] !== undefined) {
      pt.shm.stats.requestDone(pt.thread, server, code, (performance.now() - started) * 1000);
    }
    if (body instanceof SpooledBody) body.dispose();
    const name = server === undefined ? undefined : serverName(server);
    if (why !== undefined && code >= 500) fail(code, why, name);
    else done(code, why, name);
  };
  /** We give up on a started exchange: stop the backend request and the client response. */
  const abandon = (code: number, why: string, server: number) => {
    if (over) return;
    end(code, why, server);
    info?.abort();
  };

  res.on('close', () => {
    if (over) return;
    clientGone = true;
    // the client left: the backend request is stopped (php-fpm notices only a closed connection)
    if (info !== null) info.abort();
  });
  res.on('drain', () => info?.resume());

  const run = (server: number) => {
    tried.push(server);
    picker.begin(server);
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      picker.end(server, ok);
    };
    runRequest(
      pt,
      {
        server,
        params,
        stdin: body,
        retryable,
        timeoutMs: pt.servers[server]?.settings.readTimeoutMs ?? 60_000,
      },
      {
        onConnection(i) {
          info = i;
          if (clientGone || over) i.abort();
        },
        onStdout(chunk) {
          if (over) return true;
          if (held !== null) {
            if (!head) heldBody.push(chunk);
            return true;
          }
          if (headersDone) return head ? true : write(chunk, server);
          let r: ReturnType<CgiResponseParser['push']>;
          try {
            r = parser.push(chunk);
          } catch (e) {
            abandon(502, `the backend sent an invalid CGI head: ${(e as Error).message}`, server);
            return true;
          }
          if (!r.done) return true;
          headersDone = true;
          status = r.status;
          // held until the end of this backend read: when END_REQUEST is in it too (a small
          // response), head and body leave in one write with a Content-Length (DESIGN.md §8)
          held = r;
          heldBody = head || r.body.length === 0 ? [] : [r.body];
          queueMicrotask(() => flushHead(server));
          return true;
        },
        onStderr(chunk) {
          log().warn(
            {
              server: serverName(server),
              stderr: chunk.toString('utf8', 0, Math.min(chunk.length, 4096)).trimEnd(),
            },
            'backend stderr',
          );
        },
        onEnd(_appStatus, protocolStatus) {
          settle(true);
          if (over) return;
          if (!headersDone) {
            if (protocolStatus !== 0) {
              end(503, `the backend refused the request (FastCGI protocol status ${protocolStatus})`, server);
            } else end(502, 'the backend ended the response before its headers', server);
            return;
          }
          try {
            if (held !== null) endHeld(server);
            else res.end();
          } catch (e) {
            // fewer bytes than its Content-Length: the client must not take it for the whole body
            abandon(502, `the backend's body was short: ${(e as Error).message}`, server);
            res.destroy();
            return;
          }
          end(status, undefined, server);
        },
        onError(err) {
          const code = (err as { code?: string }).code;
          const connectFailed =
            code === BackendErrorCode.CONNECT || code === BackendErrorCode.CONNECT_TIMEOUT;
          // the connection died before any response byte, and runRequest's retries on this
          // server are spent (a server dying as we connect: accepted, then reset)
          const diedUnanswered =
            (code === BackendErrorCode.CLOSED || code === BackendErrorCode.RESET) &&
            (err as FcgiRequestError).responseStarted === false;
          settle(!connectFailed && !diedUnanswered);
          if (over) return;
          if (clientGone) {
            end(499, 'the client closed the connection', server);
            return;
          }
          // nothing reached a backend (connect failed), or the request may run again anyway
          // (idempotent, or configured so): another server may take it, like nginx's
          // fastcgi_next_upstream error
          if (!headersDone && (connectFailed || (diedUnanswered && retryable))) {
            const next = picker.pick(tried);
            if (next >= 0) {
              log().warn(
                { server: serverName(server), err: err.message },
                'backend failed before answering: trying another server',
              );
              run(next);
              return;
            }
          }
          if (code === PoolErrorCode.QUEUE_TIMEOUT || code === PoolErrorCode.QUEUE_FULL) {
            end(503, err.message, server);
          } else if (code === PoolErrorCode.CLOSED || code === PoolErrorCode.SERVER_DOWN) {
            end(503, err.message, server);
          } else if (code === BackendErrorCode.READ_TIMEOUT) {
            end(504, err.message, server);
          } else if (code === BackendErrorCode.ABORTED) {
            end(500, err.message, server); // the spooled body could not be read back
          } else {
            end(502, `backend error: ${err.message}`, server);
          }
        },
      },
    );
  };

  /** The CGI head (and the body read with it) not written yet. */
  let held: Extract<ReturnType<CgiResponseParser['push']>, { done: true }> | null = null;
  let heldBody: Buffer[] = [];

  const writeHead = (server: number, r: NonNullable<typeof held>): boolean => {
    if (ctx.closing) res.setHeader('Connection', 'close');
    try {
      if (r.reason !== undefined) res.writeHead(r.status, r.reason, r.headers);
      else res.writeHead(r.status, r.headers);
    } catch (e) {
      abandon(502, `the backend sent a header Node refuses: ${(e as Error).message}`, server);
      return false;
    }
    // the backend promised a length: hold it to it (a short body must not look complete)
    if (r.contentLength !== undefined && !head && status !== 204 && status !== 304) {
      res.strictContentLength = true;
    }
    return true;
  };

  /** The response goes on streaming: write the held head and body. */
  const flushHead = (server: number): void => {
    const r = held;
    if (r === null || over) return;
    held = null;
    if (!writeHead(server, r)) return;
    // at most one backend read is held; back-pressure resumes with the next chunk's write
    for (const chunk of heldBody) write(chunk, server);
    heldBody = [];
  };

  /** The whole response was in one read: one write, with its exact length. */
  const endHeld = (server: number): void => {
    const r = held!;
    held = null;
    const bodyBytes = heldBody.length === 1 ? heldBody[0] : Buffer.concat(heldBody);
    heldBody = [];
    if (r.contentLength === undefined && !head && status !== 204 && status !== 304) {
      r.headers['content-length'] = bodyBytes.length;
    }
    if (!writeHead(server, r)) return;
    res.end(head || bodyBytes.length === 0 ? undefined : bodyBytes);
  };

  const write = (chunk: Buffer, server: number): boolean => {
    try {
      return res.write(chunk);
    } catch (e) {
      // more bytes than its Content-Length
      abandon(502, `the backend's body was too long: ${(e as Error).message}`, server);
      res.destroy();
      return true;
    }
  };

  const first = picker.pick();
  if (first < 0) {
    end(503, 'no backend server is available');
    return;
  }
  run(first);
}
