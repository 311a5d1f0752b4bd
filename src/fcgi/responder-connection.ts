// One accepted connection of the embedded responder: the server side of the protocol.
// Malformed input destroys this connection and nothing else; an app that throws gets a 500.

import type net from 'node:net';
import { FcgiProtocolError, ProtocolErrorCode } from '../errors.ts';
import {
  FCGI_KEEP_CONN,
  FCGI_MAX_CONNS,
  FCGI_MAX_REQS,
  FCGI_MPXS_CONNS,
  FCGI_NULL_REQUEST_ID,
  MAX_RECORD_TYPE,
  ProtocolStatus,
  RecordType,
  Role,
} from './constants.ts';
import { decodeNameValuePairs, encodeGetValuesResult } from './name-value.ts';
import { RecordParser } from './parser.ts';
import { decodeBeginRequest, encodeEndRequest, encodeStream, encodeUnknownType } from './records.ts';
import { CgiResponse, type ResponseSink } from './responder-response.ts';
import type { ResponderApp, ResponderOptions, ResponderRequest, ResponderStats } from './responder-types.ts';

/** What a connection needs from its responder. */
export interface ResponderHost {
  readonly options: ResponderOptions;
  readonly app: ResponderApp;
  readonly stats: ResponderStats;
  requestServed(): void;
  forget(conn: ResponderConnection): void;
}

/** Answer bytes in garbage mode: what a client gets when it speaks FastCGI to an HTTP server. */
const GARBAGE = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');

class ServerRequest {
  readonly id: number;
  readonly keepConn: boolean;
  readonly params: Record<string, string> = Object.create(null);
  readonly stdin: Buffer[] = [];
  paramsDone = false;
  stdinDone = false;
  res: CgiResponse | null = null;

  constructor(id: number, keepConn: boolean) {
    this.id = id;
    this.keepConn = keepConn;
  }
}

export class ResponderConnection implements ResponseSink {
  readonly connectionId: number;
  readonly phpHeaders: boolean;
  readonly socket: net.Socket;
  readonly #host: ResponderHost;
  readonly #parser: RecordParser;
  readonly #requests = new Map<number, ServerRequest>();
  #served = 0;
  /** Set once we shut our side down: records still arrive but start nothing. */
  #closing = false;
  #idleTimer: NodeJS.Timeout | null = null;

  constructor(host: ResponderHost, socket: net.Socket, connectionId: number) {
    this.#host = host;
    this.socket = socket;
    this.connectionId = connectionId;
    this.phpHeaders = host.options.phpHeaders === true;
    this.#parser = new RecordParser((type, id, content) => this.#onRecord(type, id, content));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#parser.push(chunk);
      } catch {
        this.destroy(); // malformed input: drop this connection, keep serving the others
      }
    });
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.#closed());
    this.#armIdleTimer();
  }

  destroy(): void {
    this.socket.destroy();
  }

  writeStream(requestId: number, type: number, data: Uint8Array): boolean {
    if (this.socket.destroyed) return true;
    return this.socket.write(encodeStream(type, requestId, data));
  }

  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  finish(requestId: number, appStatus: number): void {
    const req = this.#requests.get(requestId);
    if (req === undefined) return;
    this.#end(req, appStatus, ProtocolStatus.REQUEST_COMPLETE);
  }

  #onRecord(type: number, id: number, content: Buffer): void {
    if (type === 0 || type > MAX_RECORD_TYPE) {
      this.socket.write(encodeUnknownType(type));
      return;
    }
    if (type === RecordType.GET_VALUES && id === FCGI_NULL_REQUEST_ID) {
      this.#getValues(content);
      return;
    }
    if (type === RecordType.BEGIN_REQUEST) {
      this.#begin(id, content);
      return;
    }
    const req = this.#requests.get(id);
    switch (type) {
      case RecordType.ABORT_REQUEST:
        if (req !== undefined) this.#abort(req);
        return;
      case RecordType.PARAMS:
        if (req === undefined) return; // the spec: ignore records of inactive requests
        if (req.paramsDone) throw unexpected(type, id, 'after the empty PARAMS record');
        if (content.length === 0) req.paramsDone = true;
        // like php-fpm, each PARAMS record is parsed on its own: a split pair is malformed
        else for (const [name, value] of decodeNameValuePairs(content)) req.params[name] = value;
        return;
      case RecordType.STDIN:
        if (req === undefined) return;
        if (!req.paramsDone || req.stdinDone) throw unexpected(type, id, 'out of order');
        if (content.length > 0) req.stdin.push(content);
        else {
          req.stdinDone = true;
          this.#run(req);
        }
        return;
      case RecordType.DATA:
        return; // only the FILTER role reads DATA; we serve RESPONDER
      default:
        throw unexpected(type, id, 'which a client never sends');
    }
  }

  #begin(id: number, content: Buffer): void {
    const { role, flags } = decodeBeginRequest(content);
    if (id === FCGI_NULL_REQUEST_ID || this.#requests.has(id)) {
      throw unexpected(RecordType.BEGIN_REQUEST, id, 'for an active or null request id');
    }
    if (this.#closing) return;
    if (role !== Role.RESPONDER) {
      this.socket.write(encodeEndRequest(id, 0, ProtocolStatus.UNKNOWN_ROLE));
      return;
    }
    if (!this.#host.options.mpxs && this.#requests.size > 0) {
      this.socket.write(encodeEndRequest(id, 0, ProtocolStatus.CANT_MPX_CONN));
      return;
    }
    this.#clearIdleTimer();
    this.#requests.set(id, new ServerRequest(id, (flags & FCGI_KEEP_CONN) !== 0));
  }

  #getValues(content: Buffer): void {
    const mpxs = this.#host.options.mpxs === true;
    const max = String(this.#host.options.maxConns ?? 100);
    const known: Record<string, string> = mpxs
      ? { [FCGI_MPXS_CONNS]: '1', [FCGI_MAX_CONNS]: max, [FCGI_MAX_REQS]: max }
      : { [FCGI_MPXS_CONNS]: '0' }; // php-fpm knows no other variable
    const answer: Array<[string, string]> = [];
    for (const [name] of decodeNameValuePairs(content)) {
      if (Object.hasOwn(known, name)) answer.push([name, known[name]]);
    }
    this.socket.write(encodeGetValuesResult(answer));
    if (!mpxs) this.#shutdown(); // php-fpm closes the connection after answering
  }

  #run(req: ServerRequest): void {
    const options = this.#host.options;
    if (options.garbage) {
      this.socket.write(GARBAGE);
      return;
    }
    const res = new CgiResponse(this, req.id);
    req.res = res;
    const request: ResponderRequest = {
      params: req.params,
      stdin: req.stdin.length === 1 ? req.stdin[0] : Buffer.concat(req.stdin),
      connectionId: this.connectionId,
      requestId: req.id,
      keepConn: req.keepConn,
      server: this.#host.stats,
    };
    const start = (): void => {
      if (res.aborted) return;
      // a synchronous app's headers, body and END_REQUEST leave in one write
      this.socket.cork();
      process.nextTick(uncork, this.socket);
      try {
        const done = this.#host.app(request, res);
        if (done instanceof Promise) done.catch((err: unknown) => this.#appFailed(res, err));
      } catch (err) {
        this.#appFailed(res, err);
      }
    };
    if (options.delayMs !== undefined && options.delayMs > 0) setTimeout(start, options.delayMs);
    else start();
  }

  #appFailed(res: CgiResponse, err: unknown): void {
    if (res.ended || res.aborted) return;
    res.stderr(`app error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (!res.headersSent) res.status(500).write('internal error\n');
    res.end(1);
  }

  /** ABORT_REQUEST: the request ends at once with END_REQUEST; the app's later writes go nowhere. */
  #abort(req: ServerRequest): void {
    if (req.res !== null) req.res.aborted = true;
    this.#end(req, 0, ProtocolStatus.REQUEST_COMPLETE);
  }

  #end(req: ServerRequest, appStatus: number, protocolStatus: number): void {
    this.#requests.delete(req.id);
    if (this.socket.destroyed) return;
    // like php-fpm: no empty STDOUT record, END_REQUEST ends everything
    this.socket.write(encodeEndRequest(req.id, appStatus, protocolStatus));
    this.#served++;
    this.#host.requestServed();
    const max = this.#host.options.maxRequestsPerConnection ?? 0;
    if (!req.keepConn || (max > 0 && this.#served >= max)) {
      // pm.max_requests: END_REQUEST, then shutdown(SHUT_WR); the client closes the rest
      this.#shutdown();
    } else if (this.#requests.size === 0) {
      this.#armIdleTimer();
    }
  }

  #shutdown(): void {
    this.#closing = true;
    this.#clearIdleTimer();
    for (const req of this.#requests.values()) if (req.res !== null) req.res.aborted = true;
    this.#requests.clear();
    this.socket.end();
  }

  #armIdleTimer(): void {
    const ms = this.#host.options.closeIdleAfterMs ?? 0;
    if (ms <= 0 || this.#closing) return;
    this.#clearIdleTimer();
    this.#idleTimer = setTimeout(() => this.#shutdown(), ms);
    this.#idleTimer.unref();
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  #closed(): void {
    this.#clearIdleTimer();
    for (const req of this.#requests.values()) if (req.res !== null) req.res.aborted = true;
    this.#requests.clear();
    this.#host.forget(this);
  }
}

function uncork(socket: net.Socket): void {
  socket.uncork();
}

function unexpected(type: number, id: number, why: string): FcgiProtocolError {
  return new FcgiProtocolError(
    ProtocolErrorCode.UNEXPECTED_RECORD,
    `record type ${type} for request ${id} ${why}`,
  );
}
