// Client side of one FastCGI connection to a backend (php-fpm). It knows nothing of pools: the
// pool plugs in through `tasklet` (every socket event wakes it first, DESIGN.md §2), `onClose`
// and detachSocket() (hand-off to another thread, §4).
//
// php-fpm rules kept here (shared/reference/fastcgi-peers.md):
// - END_REQUEST ends everything (php-fpm sends no empty STDOUT);
// - `end` from the backend destroys the connection at once: after pm.max_requests php-fpm
//   sends END_REQUEST, shuts down its side and waits for us to close;
// - bytes while no request is active, or for an unknown request id, are a protocol error and
//   destroy the connection; so does anything after END_REQUEST in the same read (nginx rule:
//   reuse only if END_REQUEST was the last byte read);
// - protocolStatus != 0, no FCGI_KEEP_CONN, or a request answered before its STDIN ended make
//   the connection not reusable; it is destroyed once its last request is done.

import type net from 'node:net';
import { BackendError, BackendErrorCode, FcgiProtocolError, ProtocolErrorCode } from '../errors.ts';
import { connectSocket } from './connect.ts';
import type {
  FcgiConnectionOptions,
  FcgiParamsInput,
  FcgiRequestOptions,
  FcgiTasklet,
} from './connection-types.ts';
import { FCGI_KEEP_CONN, MAX_RECORD_TYPE, RecordType } from './constants.ts';
import { getValues } from './management.ts';
import { requestHead } from './params-writer.ts';
import { RecordParser } from './parser.ts';
import { encodeAbortRequest, encodeStreamEnd } from './records.ts';
import {
  FcgiRequest,
  type FcgiRequestHandle,
  type FcgiResponseHandler,
  writeStdinRecords,
} from './request.ts';

export type {
  FcgiConnectionOptions,
  FcgiParamsInput,
  FcgiRequestOptions,
  FcgiTasklet,
  ParamsEncoder,
  WakeKind,
} from './connection-types.ts';
export type { FcgiRequestError, FcgiRequestHandle, FcgiResponseHandler } from './request.ts';

/** Bodies up to this size are copied into the request head: one write beats a writev. */
const INLINE_STDIN_MAX = 16 * 1024;
const NO_BODY = Buffer.alloc(0);

let nextConnectionId = 1;

export class FcgiConnection {
  readonly id: number;
  readonly socket: net.Socket;
  readonly keepConn: boolean;
  readonly maxConcurrent: number;
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** Woken first by every socket event; returning false means the connection left this thread. */
  tasklet: FcgiTasklet | null = null;
  /** Called once when the connection closes (err absent when closed on purpose). */
  onClose: ((conn: FcgiConnection, err?: Error) => void) | null = null;
  closed = false;
  /** False once the connection must not take another request. */
  reusable = true;
  requestsServed = 0;

  readonly #parser: RecordParser;
  /** Request by id (index 0, the management id, is never used). */
  readonly #slots: Array<FcgiRequest | null>;
  readonly #flags: number;
  #active = 0;
  #nextId = 1;
  #paused = 0;
  /**
   * Requests whose END_REQUEST arrived in the chunk being parsed (the first #completedCount):
   * onEnd runs after the chunk. Preallocated with nulls, as #slots: at most maxConcurrent end in
   * one chunk, and the first completion changes no array shape (an empty array's first push
   * did, throwing away the code compiled on other connections).
   */
  readonly #completed: Array<FcgiRequest | null>;
  #completedCount = 0;

  constructor(socket: net.Socket, options: FcgiConnectionOptions = {}) {
    this.socket = socket;
    this.id = options.id ?? nextConnectionId++;
    this.keepConn = options.keepConn ?? true;
    this.maxConcurrent = Math.max(1, Math.min(0xffff, Math.floor(options.maxConcurrent ?? 1)));
    this.#flags = this.keepConn ? FCGI_KEEP_CONN : 0;
    this.#slots = new Array(this.maxConcurrent + 1).fill(null);
    this.#completed = new Array(this.maxConcurrent).fill(null);
    this.#parser = new RecordParser(this.onRecord);
    this.localAddress = addressOf(socket.localAddress, socket.localPort);
    this.remoteAddress = addressOf(socket.remoteAddress, socket.remotePort);
    socket.setNoDelay(true);
    socket.on('data', this.onSocketData);
    socket.on('end', this.onSocketEnd);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    socket.on('drain', this.onSocketDrain);
    socket.resume(); // an adopted socket arrives paused (detachSocket); reading is ours now
  }

  /** Connects and wraps the socket; errors are BackendError CONNECT / CONNECT_TIMEOUT. */
  static async connect(
    connectOpts: net.NetConnectOpts,
    options?: FcgiConnectionOptions,
    timeoutMs = 5000,
  ): Promise<FcgiConnection> {
    return new FcgiConnection(await connectSocket(connectOpts, timeoutMs), options);
  }

  /** GET_VALUES on a dedicated connection (php-fpm closes it after answering). */
  static getValues(
    connectOpts: net.NetConnectOpts,
    names: string[],
    timeoutMs: number,
  ): Promise<Record<string, string>> {
    return getValues(connectOpts, names, timeoutMs);
  }

  /** A request is attached (or, multiplexed, an aborted one still awaits its END_REQUEST). */
  get busy(): boolean {
    return this.#active > 0;
  }

  get activeRequests(): number {
    return this.#active;
  }

  /**
   * Starts a request. The hot path (ParamsWriter or pre-encoded params, no body or a small one)
   * writes BEGIN_REQUEST, PARAMS, the empty PARAMS and STDIN in one socket write.
   * Throws BackendError CLOSED when the connection cannot take requests, BUSY when all its
   * request ids are in use, FcgiProtocolError NAME_VALUE_TOO_LARGE for an oversized param.
   */
  request(
    params: FcgiParamsInput,
    handler: FcgiResponseHandler,
    options?: FcgiRequestOptions,
  ): FcgiRequestHandle {
    if (this.closed || !this.reusable) {
      throw new BackendError(BackendErrorCode.CLOSED, `connection ${this.id} cannot take a request (closed)`);
    }
    const id = this.#allocateId();
    if (id === 0) {
      throw new BackendError(
        BackendErrorCode.BUSY,
        `connection ${this.id} already runs ${this.#active} request(s) (max ${this.maxConcurrent})`,
      );
    }
    const stream = options?.streamStdin === true;
    if (stream && options?.stdin != null) throw new TypeError('pass either stdin or streamStdin, not both');
    const stdin = stream ? null : (options?.stdin ?? NO_BODY);
    const inline = stdin !== null && stdin.length <= INLINE_STDIN_MAX ? stdin : null;
    const head = requestHead(params, id, this.#flags, inline);
    const req = new FcgiRequest(this, id, handler);
    this.#slots[id] = req;
    this.#active++;
    if (stdin === null || inline !== null) {
      req.stdinEnded = stdin !== null;
      this.socket.write(head);
    } else {
      req.stdinEnded = true;
      this.socket.cork();
      this.socket.write(head);
      writeStdinRecords(this.socket, id, stdin);
      this.socket.write(encodeStreamEnd(RecordType.STDIN, id));
      this.socket.uncork();
    }
    return req;
  }

  /**
   * Closes the connection. Requests still running get onError(err, or BackendError CLOSED).
   * Idempotent; onClose runs once, before the requests' onError, so capacity is free for a retry.
   */
  destroy(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.reusable = false;
    this.socket.destroy();
    this.#paused = 0;
    const failing: FcgiRequest[] = [];
    for (let i = 1; i < this.#slots.length; i++) {
      const req = this.#slots[i];
      if (req === null) continue;
      this.#slots[i] = null;
      if (!req.done) failing.push(req);
    }
    this.#active = 0;
    this.onClose?.(this, err);
    const cause = err ?? new BackendError(BackendErrorCode.CLOSED, `connection ${this.id} was closed`);
    for (const req of failing) req.fail(cause, failing.length > 1);
  }

  /**
   * Gives the socket up for a hand-off to another thread: only when idle with no unread byte.
   * Removes this connection's listeners and pauses the socket, which stays open; the
   * connection is then closed (onClose is not called: the caller accounts for the move) and
   * the new owner must listen for 'error' at once.
   */
  detachSocket(): net.Socket {
    if (this.closed) throw new BackendError(BackendErrorCode.CLOSED, `connection ${this.id} is closed`);
    if (this.#active > 0)
      throw new BackendError(BackendErrorCode.BUSY, `connection ${this.id} has a request`);
    const unread = this.#parser.buffered + this.socket.readableLength;
    if (unread > 0) {
      throw new FcgiProtocolError(
        ProtocolErrorCode.UNEXPECTED_RECORD,
        `connection ${this.id} holds ${unread} unread bytes while idle`,
      );
    }
    const s = this.socket;
    s.off('data', this.onSocketData);
    s.off('end', this.onSocketEnd);
    s.off('error', this.onSocketError);
    s.off('close', this.onSocketClose);
    s.off('drain', this.onSocketDrain);
    s.pause();
    this.closed = true;
    this.reusable = false;
    return s;
  }

  // ---- used by FcgiRequest (the request handle) ----

  /** @internal a request asked to stop reading (onStdout returned false). */
  pauseReading(): void {
    if (this.#paused++ === 0 && !this.closed) this.socket.pause();
  }

  /** @internal */
  resumeReading(): void {
    if (this.#paused > 0 && --this.#paused === 0 && !this.closed) this.socket.resume();
  }

  /** @internal the request gave up: frees its id, or keeps it until END_REQUEST when multiplexed. */
  abandon(req: FcgiRequest): void {
    if (this.maxConcurrent > 1 && !this.closed) {
      // A multiplexing backend answers ABORT_REQUEST with END_REQUEST; the id stays taken
      // until then, so a late record for it is dropped instead of reaching another request.
      this.socket.write(encodeAbortRequest(req.requestId));
      return;
    }
    // php-fpm ignores ABORT_REQUEST and its child keeps working on the request: closing the
    // connection is the only abort it notices (nginx and Caddy do the same). The record is
    // still sent, best effort, for backends that do honour it.
    if (this.#slots[req.requestId] === req) {
      this.#slots[req.requestId] = null;
      this.#active--;
    }
    if (!this.closed) this.socket.write(encodeAbortRequest(req.requestId));
    this.destroy();
  }

  // ---- socket listeners: bound once; each wakes the tasklet first (DESIGN.md §2) ----

  private readonly onSocketData = (chunk: Buffer): void => {
    if (this.tasklet !== null && !this.tasklet.wake('data')) return;
    if (this.closed) return;
    try {
      this.#parser.push(chunk);
    } catch (err) {
      this.destroy(err as Error);
    }
    if (this.#completedCount > 0) this.#flushCompleted();
  };

  private readonly onSocketEnd = (): void => {
    if (this.tasklet !== null && !this.tasklet.wake('end')) return;
    if (this.closed) return;
    const held = this.#parser.buffered;
    this.destroy(
      held > 0
        ? new FcgiProtocolError(
            ProtocolErrorCode.TRUNCATED,
            `backend closed inside a record (${held} bytes of it read)`,
          )
        : new BackendError(
            BackendErrorCode.CLOSED,
            this.#active > 0
              ? 'backend closed the connection during the request'
              : 'backend closed the connection',
          ),
    );
  };

  private readonly onSocketError = (err: NodeJS.ErrnoException): void => {
    if (this.tasklet !== null && !this.tasklet.wake('error')) return;
    if (this.closed) return;
    this.destroy(
      new BackendError(BackendErrorCode.RESET, `backend connection failed: ${err.code ?? err.message}`, {
        cause: err,
      }),
    );
  };

  private readonly onSocketClose = (): void => {
    if (this.tasklet !== null && !this.tasklet.wake('close')) return;
    if (this.closed) return;
    this.destroy(new BackendError(BackendErrorCode.CLOSED, 'backend connection closed'));
  };

  private readonly onSocketDrain = (): void => {
    if (this.tasklet !== null && !this.tasklet.wake('drain')) return;
    if (this.closed) return;
    for (let i = 1; i < this.#slots.length; i++) this.#slots[i]?.drained();
  };

  // ---- records ----

  private readonly onRecord = (type: number, requestId: number, content: Buffer): void => {
    if (this.closed) return; // destroyed by a handler while this chunk was being parsed
    const req = requestId < this.#slots.length ? this.#slots[requestId] : null;
    if (req === null || req === undefined) {
      // stray bytes, a management record (id 0) or a record for an id we never used
      const stray = this.#active === 0 || requestId === 0;
      throw new FcgiProtocolError(
        stray ? ProtocolErrorCode.UNEXPECTED_RECORD : ProtocolErrorCode.UNKNOWN_REQUEST,
        `record type ${type} for request ${requestId}` +
          (this.#active === 0 ? ' while no request is active (stray bytes)' : ', which is not active'),
      );
    }
    switch (type) {
      case RecordType.STDOUT:
        if (content.length > 0) req.stdout(content);
        return;
      case RecordType.STDERR:
        if (content.length > 0) req.stderr(content);
        return;
      case RecordType.END_REQUEST:
        this.#endRequest(req, content);
        return;
      default:
        throw new FcgiProtocolError(
          type === 0 || type > MAX_RECORD_TYPE
            ? ProtocolErrorCode.BAD_TYPE
            : ProtocolErrorCode.UNEXPECTED_RECORD,
          `unexpected record type ${type} from the backend (request ${requestId})`,
        );
    }
  };

  #endRequest(req: FcgiRequest, body: Buffer): void {
    // the parser checked the size (8)
    const appStatus = ((body[0] << 24) | (body[1] << 16) | (body[2] << 8) | body[3]) >>> 0;
    const protocolStatus = body[4];
    this.#slots[req.requestId] = null;
    this.#active--;
    this.requestsServed++;
    if (req.paused) {
      req.paused = false;
      this.resumeReading();
    }
    if (protocolStatus !== 0 || !this.keepConn || !req.stdinEnded) this.reusable = false;
    if (req.done) return; // aborted while multiplexed: nobody is listening any more
    req.done = true;
    req.appStatus = appStatus;
    req.protocolStatus = protocolStatus;
    this.#completed[this.#completedCount++] = req;
  }

  #flushCompleted(): void {
    // Runs after the whole chunk: trailing bytes after END_REQUEST have already destroyed the
    // connection, so a handler that reuses it in onEnd sees the truth in `closed`.
    if (!this.closed && !this.reusable && this.#active === 0) this.destroy();
    const done = this.#completed;
    const n = this.#completedCount;
    try {
      for (let i = 0; i < n; i++) {
        const req = done[i]!;
        req.handler.onEnd(req.appStatus, req.protocolStatus);
      }
    } finally {
      done.fill(null, 0, n);
      this.#completedCount = 0;
    }
  }

  #allocateId(): number {
    const max = this.maxConcurrent;
    if (this.#active >= max) return 0;
    // rotate so an id is not reused right away (a late record for it is then an error)
    for (let n = 0; n < max; n++) {
      const id = this.#nextId;
      this.#nextId = id >= max ? 1 : id + 1;
      if (this.#slots[id] === null) return id;
    }
    return 0;
  }
}

function addressOf(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return '';
  return port === undefined ? address : address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
