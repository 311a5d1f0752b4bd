// The gateway's own HTTP/1.1 front, on a plain TCP listener. node:http costs more per request
// than the whole FastCGI exchange (DESIGN.md §8: ~25 µs per request is the budget), so the
// requests that make up nearly all PHP traffic — known method, no body, HTTP/1.1 — are parsed
// and answered here, and a connection that brings anything else is handed to a node:http
// server (which does not listen itself) with the bytes not yet parsed, and stays there.
// HAProxy and nginx have one HTTP parser; we keep node:http for the rare and the hard cases
// (bodies, 100-continue, upgrades, every error of a malformed request) and a short one for the
// common case, which only has to recognise it.
//
// One request at a time per connection: a pipelined request waits in the buffer until the
// response before it has ended, so responses leave in order. Idle and slow-head connections
// are closed by one sweep per second rather than a timer per request.

import type http from 'node:http';
import net from 'node:net';
import type { CgiRequest } from '../cgi-params.ts';
import type { ClientErrorReply } from '../client-errors.ts';
import { FastResponse, type ResponseSink } from './fast-response.ts';
import { HANDOVER, INCOMPLETE, parseRequestHead, type RequestHead } from './request-head.ts';

const SWEEP_MS = 1000;

/** A request parsed by the front: what the gateway reads of an http.IncomingMessage. */
export class FastRequest implements CgiRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion = '1.1';
  readonly rawHeaders: string[];
  readonly socket: net.Socket;
  /** The client's X-Request-Id, when it sent one. */
  readonly requestId: string | undefined;

  constructor(head: RequestHead, socket: net.Socket) {
    this.method = head.method;
    this.url = head.url;
    this.rawHeaders = head.rawHeaders;
    this.socket = socket;
    this.requestId = head.requestId;
  }
}

export interface Http1FrontOptions {
  /** Heads larger than this go to node:http, which answers 431 (its maxHeaderSize). */
  readonly maxHeaderBytes: number;
  readonly keepAliveTimeoutMs: number;
  readonly headersTimeoutMs: number;
  /** Takes the connections this front hands over; it does not listen itself. */
  readonly fallback: http.Server;
  /** Answers a connection whose request never arrived whole (a 408), and closes it. */
  readonly refuse: (socket: net.Socket, reply: ClientErrorReply) => void;
  /** Answers one request; returns false, having written nothing, to hand it to node:http. */
  readonly handle: (req: FastRequest, res: FastResponse) => boolean;
  /**
   * Where an accepted connection goes, not read from yet (the thread balancer); it comes back
   * to serve() if it stays on this thread. Default: served here.
   */
  readonly accept?: (socket: net.Socket) => void;
}

export class Http1Front {
  readonly server: net.Server;
  readonly #opts: Http1FrontOptions;
  readonly #connections = new Set<Http1Connection>();
  readonly #sweep: NodeJS.Timeout;
  readonly keepAliveSeconds: number;
  closing = false;

  constructor(opts: Http1FrontOptions) {
    this.#opts = opts;
    this.keepAliveSeconds = Math.floor(opts.keepAliveTimeoutMs / 1000);
    // allowHalfOpen, as node:http's own listener: a half-closed client is handled in onEnd, and a
    // connection handed over behaves as if node:http had accepted it
    const accept = opts.accept ?? ((socket: net.Socket) => this.serve(socket));
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, accept);
    this.#sweep = setInterval(() => this.#sweepConnections(), SWEEP_MS);
    this.#sweep.unref();
    // node:http tracks its connections' header and request timeouts from its 'listening' event;
    // it never listens itself here, so it is told when the front does.
    this.server.once('listening', () => opts.fallback.emit('listening'));
  }

  get options(): Http1FrontOptions {
    return this.#opts;
  }

  /** Serves a connection (accepted paused, or moved here from another thread). */
  serve(socket: net.Socket): void {
    this.#connections.add(new Http1Connection(this, socket));
    socket.resume();
  }

  forget(conn: Http1Connection): void {
    this.#connections.delete(conn);
  }

  /** Stops accepting; kept connections close once idle, responses under way say Connection: close. */
  close(onClosed: () => void): void {
    this.closing = true;
    clearInterval(this.#sweep);
    this.server.close(() => onClosed());
    this.#opts.fallback.close(() => {}); // stops its timeout checks; it holds no listener
    this.closeIdle();
  }

  closeIdle(): void {
    for (const conn of this.#connections) conn.closeIfIdle();
    this.#opts.fallback.closeIdleConnections();
  }

  closeAll(): void {
    for (const conn of this.#connections) conn.socket.destroy();
    this.#opts.fallback.closeAllConnections();
  }

  #sweepConnections(): void {
    const now = Date.now();
    const { keepAliveTimeoutMs, headersTimeoutMs } = this.#opts;
    for (const conn of this.#connections) conn.sweep(now, keepAliveTimeoutMs, headersTimeoutMs);
  }
}

class Http1Connection implements ResponseSink {
  readonly socket: net.Socket;
  readonly #front: Http1Front;
  /** Bytes received and not yet parsed (the start of the next request). */
  #buf: Buffer | null = null;
  #res: FastResponse | null = null;
  /** Date.now() when the last response ended (or the connection opened). */
  #idleSince = Date.now();
  /** Date.now() when the first bytes of an unfinished head came, 0 when none. */
  #headSince = 0;
  /** Handed over, or closed: the front no longer reads this socket. */
  #gone = false;
  #parsing = false;

  constructor(front: Http1Front, socket: net.Socket) {
    this.#front = front;
    this.socket = socket;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
    socket.on('error', onSocketError);
  }

  get keepAliveSeconds(): number {
    return this.#front.keepAliveSeconds;
  }

  responseDone(res: FastResponse, keepAlive: boolean): void {
    if (this.#res !== res) return;
    this.#res = null;
    if (!keepAlive) {
      this.#gone = true;
      this.socket.end();
      return;
    }
    this.#idleSince = Date.now();
    if (this.socket.isPaused()) this.socket.resume();
    // the next pipelined request, once the code that ended this response has returned
    if (!this.#parsing && this.#buf !== null) queueMicrotask(this.#parse);
  }

  closeIfIdle(): void {
    if (this.#res === null && !this.#gone) this.socket.destroy();
    else this.#res?.closeAfter();
  }

  sweep(now: number, keepAliveTimeoutMs: number, headersTimeoutMs: number): void {
    if (this.#res !== null || this.#gone) return;
    if (this.#headSince !== 0 && now - this.#headSince > headersTimeoutMs) {
      // a head that never completed: 408 and close, as node:http's headersTimeout answers
      this.#buf = null;
      this.#gone = true;
      const reason = `the request head did not arrive within ${headersTimeoutMs} ms`;
      this.#front.options.refuse(this.socket, { status: 408, reason });
    } else if (this.#headSince === 0 && now - this.#idleSince > keepAliveTimeoutMs) {
      this.socket.destroy();
    }
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#buf = this.#buf === null ? chunk : Buffer.concat([this.#buf, chunk]);
    if (this.#res === null) this.#parse();
    else if (this.#buf.length > this.#front.options.maxHeaderBytes) {
      this.socket.pause(); // a client pipelining faster than we answer: stop reading until we catch up
    }
  };

  readonly #parse = (): void => {
    if (this.#parsing) return;
    this.#parsing = true;
    try {
      this.#parseRequests();
    } finally {
      this.#parsing = false;
    }
  };

  #parseRequests(): void {
    const front = this.#front;
    while (this.#res === null && this.#buf !== null && !this.#gone) {
      const buf = this.#buf;
      const head = parseRequestHead(buf, front.options.maxHeaderBytes);
      if (head === INCOMPLETE) {
        if (this.#headSince === 0) this.#headSince = Date.now();
        break;
      }
      if (head === HANDOVER) {
        this.#handover();
        return;
      }
      this.#headSince = 0;
      this.#buf = head.length === buf.length ? null : buf.subarray(head.length);
      const req = new FastRequest(head, this.socket);
      const res = new FastResponse(this, head.method === 'HEAD', head.keepAlive && !front.closing);
      this.#res = res;
      if (!front.options.handle(req, res)) {
        this.#res = null;
        this.#buf = buf;
        this.#handover();
        return;
      }
    }
  }

  /** node:http takes the connection, starting with the bytes not parsed yet. */
  #handover(): void {
    const socket = this.socket;
    this.#gone = true;
    this.#front.forget(this);
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onClose);
    socket.off('drain', this.#onDrain);
    if (this.#buf !== null) socket.unshift(this.#buf);
    this.#buf = null;
    // node:http's data listener flows the stream, unless it was paused; all synchronous, so
    // the unshifted bytes are still buffered when its listener is added
    if (socket.isPaused()) socket.resume();
    this.#front.options.fallback.emit('connection', socket);
    socket.off('error', onSocketError);
  }

  readonly #onEnd = (): void => {
    // The client shut its side: as node:http (and nginx's 499) see it, the client left, so a
    // request under way is given up (its backend request aborted) rather than answered.
    if (this.#res !== null) {
      this.socket.destroy();
      return;
    }
    if (!this.#gone) {
      this.#gone = true;
      this.socket.end();
    }
  };

  readonly #onClose = (): void => {
    this.#gone = true;
    this.#front.forget(this);
    const res = this.#res;
    this.#res = null;
    res?.socketClosed();
  };

  readonly #onDrain = (): void => {
    this.#res?.socketDrained();
  };
}

/** A reset or a write to a closed peer: 'close' follows, which is where it is handled. */
function onSocketError(): void {}
