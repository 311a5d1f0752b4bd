// Requests node:http cannot parse. Left to itself, node:http answers one with a bare "400 Bad
// Request" and no log line, and writes it at once: while an earlier pipelined request on the
// same connection is still being answered, that request's client reads the 400 as its own
// answer (and the request may well have run on php-fpm). nginx and HAProxy answer in turn, say
// why, and log the request (HAProxy's <BADREQ>); so does this. The connection closes after the
// answer: past a parse error nothing tells where the next request would start.

import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { AccessLog } from './access-log.ts';
import { errorMessage } from './errors-page.ts';

/** The answer to a request node:http could not read to its end. */
export interface ClientErrorReply {
  readonly status: number;
  readonly reason: string;
}

/** A request node:http handed to the gateway, as a later parse error on its connection sees it. */
export interface BodyReader {
  /**
   * The parser failed inside this request's body, so no more of it will come: the request is
   * answered with the error. False when its body is not being read (read already, or none).
   */
  bodyFailed(reply: ClientErrorReply): boolean;
}

interface ParserError extends Error {
  readonly code?: string;
  /** llhttp's words for what was wrong ("Invalid header token"). */
  readonly reason?: string;
}

export interface ClientErrorLimits {
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** What to answer to node:http's 'clientError'; null when there is nobody to answer (a reset). */
export function clientErrorReply(err: ParserError, limits: ClientErrorLimits): ClientErrorReply | null {
  const code = err.code ?? '';
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: `the request head is larger than ${limits.maxHeaderBytes} bytes` };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, reason: 'the chunk extensions of the request body are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT': // either limit: node:http does not say which
      return {
        status: 408,
        reason: `the request did not arrive in time (its head within ${limits.headersTimeoutMs} ms, the whole of it within ${limits.requestTimeoutMs} ms)`,
      };
    case 'HPE_INVALID_VERSION':
    case 'HPE_PAUSED_H2_UPGRADE': // an HTTP/2 preface ("PRI * HTTP/2.0")
      return { status: 505, reason: 'only HTTP/1.0 and HTTP/1.1 are served here' };
    case 'HPE_INVALID_EOF_STATE':
      return { status: 400, reason: 'the client ended the connection inside a request' };
  }
  if (!code.startsWith('HPE_')) return null;
  const what = err.reason ?? code;
  return { status: 400, reason: `malformed request: ${what.charAt(0).toLowerCase()}${what.slice(1)}` };
}

/** node:http's client errors for one gateway: answered in turn, with a reason, and logged. */
export class ClientErrors {
  readonly #accessLog: AccessLog | null;
  readonly #limits: ClientErrorLimits;
  /** Counts an answer (fcgipool_gateway_answers_total). */
  readonly #count: (status: number) => void;
  /** The last request node:http handed over on each connection (its response leaves last). */
  readonly #latest = new WeakMap<Duplex, { res: http.ServerResponse; reader: BodyReader }>();
  /** Connections whose parse error is answered: node:http reports it again on each read. */
  readonly #answered = new WeakSet<Duplex>();

  constructor(accessLog: AccessLog | null, limits: ClientErrorLimits, count: (status: number) => void) {
    this.#accessLog = accessLog;
    this.#limits = limits;
    this.#count = count;
  }

  /** node:http handed this request over; a later parse error on its connection waits for it. */
  opened(req: http.IncomingMessage, res: http.ServerResponse, reader: BodyReader): void {
    this.#latest.set(req.socket, { res, reader });
  }

  /** node:http's 'clientError' listener. */
  readonly onClientError = (err: Error, socket: Duplex): void => {
    if (this.#answered.has(socket)) return;
    this.#answered.add(socket);
    const reply = clientErrorReply(err, this.#limits);
    if (reply === null || !socket.writable) {
      socket.destroy();
      return;
    }
    if (this.#latest.get(socket)?.reader.bodyFailed(reply)) return; // that request's own answer says it
    this.answer(socket, reply);
  };

  /**
   * node:http's 'connect' listener. CONNECT asks for a tunnel, which a FastCGI gateway never
   * opens; node:http, with no listener, would drop the connection without a word.
   */
  readonly onConnect = (req: http.IncomingMessage, socket: Duplex): void => {
    const reply = { status: 405, reason: 'this gateway opens no tunnels (CONNECT)' };
    const allow = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'; // a 405 names what is (RFC 9110)
    this.answer(socket, reply, { Allow: allow }, req);
  };

  /**
   * A whole error answer on a connection no response object serves (a head that did not parse,
   * a CONNECT), after the responses of the requests before it, and an access-log line; then
   * the connection closes.
   */
  answer(
    socket: Duplex,
    reply: ClientErrorReply,
    extra?: http.OutgoingHttpHeaders,
    req?: http.IncomingMessage,
  ): void {
    const reqId = randomUUID();
    this.#count(reply.status);
    this.#accessLog?.write({
      reqId,
      method: req?.method,
      url: req?.url,
      status: reply.status,
      ms: 0,
      remote: (socket as net.Socket).remoteAddress,
      why: reply.reason,
    });
    const send = () => {
      if (socket.writable)
        socket.end(errorMessage(reply.status, reply.reason, { ...extra, 'X-Request-Id': reqId }));
      else socket.destroy();
    };
    const before = this.#latest.get(socket)?.res;
    // a response still under way leaves first; 'close' follows its 'finish' (or a cut socket)
    if (before !== undefined && !before.writableFinished && !before.destroyed) before.once('close', send);
    else send();
  }
}
