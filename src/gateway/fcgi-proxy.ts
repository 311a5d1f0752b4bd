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
import { type RunHandler, type RunInfo, runRequest } from '../pool/run-request.ts';
import { type RequestBody, SpooledBody } from './body.ts';
import { CgiResponseParser } from './cgi-response.ts';
import type { GatewayOptions } from './gateway-options.ts';
import type { GatewayResponse } from './http1/fast-response.ts';
import type { ParamList } from './param-list.ts';
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

/** What the exchange needs of the client's side of the request. */
export interface ClientSide {
  /** The request's logger (with its id), made on first use. */
  log(): Logger;
  /** How the exchange ended, for the access log (called once). */
  done(status: number, why?: string, server?: string): void;
  /** Sends an error page (or cuts the response if it has started) and reports it. */
  fail(status: number, why: string, server?: string): void;
}

export function proxyRequest(
  ctx: ProxyContext,
  req: { readonly method?: string },
  res: GatewayResponse,
  mapped: MappedRequest,
  body: RequestBody,
  client: ClientSide,
  /** performance.now() when the request arrived: fcgipool_request_duration_seconds starts here. */
  started: number,
): void {
  let params: ParamList;
  try {
    params = mapped.params(body === null ? 0 : body.length);
  } catch (e) {
    if (e instanceof FcgiProtocolError && e.code === ProtocolErrorCode.NAME_VALUE_TOO_LARGE) {
      client.fail(431, 'request headers too large for a FastCGI record');
      return;
    }
    throw e;
  }
  new ProxyExchange(ctx, req.method, res, params, body, client, started).start();
}

/** A CGI head the parser completed. */
type Head = Extract<ReturnType<CgiResponseParser['push']>, { done: true }>;

/**
 * One request's exchange with the backend, as the handler of runRequest. One object per request
 * rather than a closure per callback: under load every request makes one, and what it
 * allocates is what the GC's helper threads work through.
 */
class ProxyExchange implements RunHandler {
  readonly #ctx: ProxyContext;
  readonly #res: GatewayResponse;
  readonly #params: ParamList;
  readonly #body: RequestBody;
  readonly #client: ClientSide;
  readonly #started: number;
  /** A HEAD request: the head is forwarded, no body. */
  readonly #headOnly: boolean;
  readonly #retryable: boolean;
  readonly #parser: CgiResponseParser;
  /** Servers tried so far, in order. */
  readonly #tried: number[] = [];
  /** The server of the attempt under way. */
  #server = -1;
  /** Whether that attempt's place in the picker was given back. */
  #settled = true;
  #info: RunInfo | null = null;
  #headersDone = false;
  #status = 0;
  /** The exchange is over for us (answered, failed, or the client left). */
  #over = false;
  #clientGone = false;
  /** The CGI head (and the body read with it) not written yet. */
  #held: Head | null = null;
  #heldBody: Buffer[] = [];

  constructor(
    ctx: ProxyContext,
    method: string | undefined,
    res: GatewayResponse,
    params: ParamList,
    body: RequestBody,
    client: ClientSide,
    started: number,
  ) {
    this.#ctx = ctx;
    this.#res = res;
    this.#params = params;
    this.#body = body;
    this.#client = client;
    this.#started = started;
    this.#headOnly = method === 'HEAD';
    this.#retryable = IDEMPOTENT.has(method ?? '') || ctx.opts.retryNonIdempotent;
    this.#parser = new CgiResponseParser(ctx.opts.maxResponseHeaderBytes);
  }

  start(): void {
    this.#res.on('close', () => {
      if (this.#over) return;
      this.#clientGone = true;
      // the client left: the backend request is stopped (php-fpm notices only a closed connection)
      this.#info?.abort();
    });
    this.#res.on('drain', () => this.#info?.resume());
    const first = this.#ctx.picker.pick();
    if (first < 0) {
      this.#end(503, 'no backend server is available');
      return;
    }
    this.#run(first);
  }

  #run(server: number): void {
    const { pt, picker } = this.#ctx;
    this.#tried.push(server);
    picker.begin(server);
    this.#server = server;
    this.#settled = false;
    runRequest(
      pt,
      {
        server,
        params: this.#params,
        stdin: this.#body,
        retryable: this.#retryable,
        timeoutMs: pt.servers[server]?.settings.readTimeoutMs ?? 60_000,
      },
      this,
    );
  }

  /** The attempt's place in the picker, given back once (ok: the server answered). */
  #settle(ok: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#ctx.picker.end(this.#server, ok);
  }

  #serverName(s: number): string {
    return this.#ctx.pt.servers[s]?.settings.name ?? String(s);
  }

  #end(code: number, why?: string, server?: number): void {
    const { pt } = this.#ctx;
    this.#over = true;
    // fcgipool_requests_total{server,code} and the duration histogram, in this thread's words
    if (server !== undefined && pt.servers[server] !== undefined) {
      pt.shm.stats.requestDone(pt.thread, server, code, (performance.now() - this.#started) * 1000);
    }
    if (this.#body instanceof SpooledBody) this.#body.dispose();
    const name = server === undefined ? undefined : this.#serverName(server);
    if (why !== undefined && code >= 500) this.#client.fail(code, why, name);
    else this.#client.done(code, why, name);
  }

  /** We give up on a started exchange: stop the backend request and the client response. */
  #abandon(code: number, why: string): void {
    if (this.#over) return;
    this.#end(code, why, this.#server);
    this.#info?.abort();
  }

  // ---- runRequest's handler ----

  onConnection(info: RunInfo): void {
    this.#info = info;
    if (this.#clientGone || this.#over) info.abort();
  }

  onStdout(chunk: Buffer): boolean {
    if (this.#over) return true;
    if (this.#held !== null) {
      if (!this.#headOnly) this.#heldBody.push(chunk);
      return true;
    }
    if (this.#headersDone) return this.#headOnly ? true : this.#write(chunk);
    let r: ReturnType<CgiResponseParser['push']>;
    try {
      r = this.#parser.push(chunk);
    } catch (e) {
      this.#abandon(502, `the backend sent an invalid CGI head: ${(e as Error).message}`);
      return true;
    }
    if (!r.done) return true;
    this.#headersDone = true;
    this.#status = r.status;
    // held until the end of this backend read: when END_REQUEST is in it too (a small
    // response), head and body leave in one write with a Content-Length (DESIGN.md §8)
    this.#held = r;
    this.#heldBody = this.#headOnly || r.body.length === 0 ? [] : [r.body];
    queueMicrotask(() => this.#flushHead());
    return true;
  }

  onStderr(chunk: Buffer): void {
    this.#client.log().warn(
      {
        server: this.#serverName(this.#server),
        stderr: chunk.toString('utf8', 0, Math.min(chunk.length, 4096)).trimEnd(),
      },
      'backend stderr',
    );
  }

  onEnd(_appStatus: number, protocolStatus: number): void {
    const server = this.#server;
    this.#settle(true);
    if (this.#over) return;
    if (!this.#headersDone) {
      if (protocolStatus !== 0) {
        this.#end(503, `the backend refused the request (FastCGI protocol status ${protocolStatus})`, server);
      } else this.#end(502, 'the backend ended the response before its headers', server);
      return;
    }
    try {
      if (this.#held !== null) this.#endHeld();
      else this.#res.end();
    } catch (e) {
      // fewer bytes than its Content-Length: the client must not take it for the whole body
      this.#abandon(502, `the backend's body was short: ${(e as Error).message}`);
      this.#res.destroy();
      return;
    }
    if (this.#over) return; // the held response was refused (a 502 went out instead)
    this.#end(this.#status, undefined, server);
  }

  onError(err: Error): void {
    const server = this.#server;
    const code = (err as { code?: string }).code;
    const connectFailed = code === BackendErrorCode.CONNECT || code === BackendErrorCode.CONNECT_TIMEOUT;
    // the connection died before any response byte, and runRequest's retries on this
    // server are spent (a server dying as we connect: accepted, then reset)
    const diedUnanswered =
      (code === BackendErrorCode.CLOSED || code === BackendErrorCode.RESET) &&
      (err as FcgiRequestError).responseStarted === false;
    this.#settle(!connectFailed && !diedUnanswered);
    if (this.#over) return;
    if (this.#clientGone) {
      this.#end(499, 'the client closed the connection', server);
      return;
    }
    // nothing reached a backend (connect failed), or the request may run again anyway
    // (idempotent, or configured so): another server may take it, like nginx's
    // fastcgi_next_upstream error
    if (!this.#headersDone && (connectFailed || (diedUnanswered && this.#retryable))) {
      const next = this.#ctx.picker.pick(this.#tried);
      if (next >= 0) {
        this.#client
          .log()
          .warn(
            { server: this.#serverName(server), err: err.message },
            'backend failed before answering: trying another server',
          );
        this.#run(next);
        return;
      }
    }
    if (code === PoolErrorCode.QUEUE_TIMEOUT || code === PoolErrorCode.QUEUE_FULL) {
      this.#end(503, err.message, server);
    } else if (code === PoolErrorCode.CLOSED || code === PoolErrorCode.SERVER_DOWN) {
      this.#end(503, err.message, server);
    } else if (code === BackendErrorCode.READ_TIMEOUT) {
      this.#end(504, err.message, server);
    } else if (code === BackendErrorCode.ABORTED) {
      this.#end(500, err.message, server); // the spooled body could not be read back
    } else {
      this.#end(502, `backend error: ${err.message}`, server);
    }
  }

  // ---- the response to the client ----

  #writeHead(r: Head): boolean {
    const res = this.#res;
    if (this.#ctx.closing) res.setHeader('Connection', 'close');
    try {
      if (r.reason !== undefined) res.writeHead(r.status, r.reason, r.headers);
      else res.writeHead(r.status, r.headers);
    } catch (e) {
      this.#abandon(502, `the backend sent a header Node refuses: ${(e as Error).message}`);
      return false;
    }
    // the backend promised a length: hold it to it (a short body must not look complete)
    if (r.contentLength !== undefined && this.#hasBody) res.strictContentLength = true;
    return true;
  }

  /** The response carries a body to the client (not a HEAD request, not a 204 or 304). */
  get #hasBody(): boolean {
    return !this.#headOnly && this.#status !== 204 && this.#status !== 304;
  }

  /** The response goes on streaming: write the held head and body. */
  #flushHead(): void {
    const r = this.#held;
    if (r === null || this.#over) return;
    this.#held = null;
    let bytes = 0;
    for (const chunk of this.#heldBody) bytes += chunk.length;
    if (this.#lengthBroken(r, bytes, false)) return;
    if (!this.#writeHead(r)) return;
    // at most one backend read is held; back-pressure resumes with the next chunk's write
    for (const chunk of this.#heldBody) this.#write(chunk);
    this.#heldBody = [];
  }

  /** The whole response was in one read: one write, with its exact length. */
  #endHeld(): void {
    const r = this.#held!;
    this.#held = null;
    const heldBody = this.#heldBody;
    const bodyBytes = heldBody.length === 1 ? heldBody[0] : Buffer.concat(heldBody);
    this.#heldBody = [];
    if (this.#lengthBroken(r, bodyBytes.length, true)) return;
    if (r.contentLength === undefined && this.#hasBody) r.headers['content-length'] = bodyBytes.length;
    if (!this.#writeHead(r)) return;
    this.#res.end(this.#headOnly || bodyBytes.length === 0 ? undefined : bodyBytes);
  }

  /**
   * A held body that already breaks the CGI head's Content-Length (more bytes, or fewer when
   * `whole`) becomes a 502 while nothing is sent: a short body would leave a kept client
   * connection waiting for bytes that never come. Past the head, the response's strict length
   * check cuts the connection instead.
   */
  #lengthBroken(r: Head, bytes: number, whole: boolean): boolean {
    const announced = r.contentLength;
    if (announced === undefined || !this.#hasBody) return false;
    if (bytes <= announced && (!whole || bytes === announced)) return false;
    this.#abandon(502, `the backend sent ${bytes} byte(s) of body after a Content-Length of ${announced}`);
    return true;
  }

  #write(chunk: Buffer): boolean {
    try {
      return this.#res.write(chunk);
    } catch (e) {
      // more bytes than its Content-Length
      this.#abandon(502, `the backend's body was too long: ${(e as Error).message}`);
      this.#res.destroy();
      return true;
    }
  }
}
