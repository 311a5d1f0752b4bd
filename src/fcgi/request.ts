// One request on an FcgiConnection: the handle the caller drives (stdin, abort, resume) and
// the state the connection keeps for it. Callbacks go to an undici-style handler object, so a
// request costs one object and no EventEmitter or closure.

import type net from 'node:net';
import { BackendError, BackendErrorCode, FcgiProtocolError } from '../errors.ts';
import type { FcgiConnection } from './connection.ts';
import { FCGI_HEADER_LEN, MAX_RECORD_BODY, RecordType } from './constants.ts';
import { encodeStream, encodeStreamEnd, paddingFor, writeHeader, ZERO_PADDING } from './records.ts';

/** An error given to onError: `responseStarted` says whether any STDOUT/STDERR byte arrived. */
export type FcgiRequestError = Error & { code?: string; responseStarted: boolean };

export interface FcgiResponseHandler {
  /**
   * A STDOUT chunk: a view of the socket's buffer, valid as long as the caller keeps it (it is
   * not reused). Return false to pause reading until handle.resume().
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that never pauses returns nothing
  onStdout(chunk: Buffer): boolean | void;
  onStderr(chunk: Buffer): void;
  /** END_REQUEST: the response is complete. */
  onEnd(appStatus: number, protocolStatus: number): void;
  /**
   * The request failed; exactly one of onEnd and onError is called, once. Errors from the
   * connection are FcgiRequestErrors (`responseStarted` tells whether a retry is safe).
   */
  onError(err: Error): void;
  /** The socket drained after handle.write() returned false. */
  onDrain?(): void;
}

export interface FcgiRequestHandle {
  readonly requestId: number;
  /** Sends a STDIN chunk (not copied: do not change it afterwards). false = wait for onDrain. */
  write(chunk: Uint8Array): boolean;
  /** Sends the empty STDIN record that ends the body. */
  end(): void;
  /**
   * Gives the request up: onError(ABORTED) follows at once. Not multiplexed, the connection is
   * destroyed (php-fpm ignores ABORT_REQUEST); multiplexed, ABORT_REQUEST is sent and the
   * connection stays usable.
   */
  abort(): void;
  /** Resumes reading after onStdout returned false. */
  resume(): void;
}

/** Bigger stdin chunks are written as header + slice + padding (no copy) instead of re-encoded. */
const COPY_STDIN_MAX = 16 * 1024;

export class FcgiRequest implements FcgiRequestHandle {
  readonly requestId: number;
  readonly handler: FcgiResponseHandler;
  readonly #conn: FcgiConnection;
  responseStarted = false;
  stdinEnded = false;
  /** onEnd or onError has been (or is about to be) called. */
  done = false;
  paused = false;
  needDrain = false;
  appStatus = 0;
  protocolStatus = 0;

  constructor(conn: FcgiConnection, requestId: number, handler: FcgiResponseHandler) {
    this.#conn = conn;
    this.requestId = requestId;
    this.handler = handler;
  }

  write(chunk: Uint8Array): boolean {
    // an empty record would end the stream: never send one for an empty chunk
    if (this.done || this.stdinEnded || chunk.length === 0) return true;
    const socket = this.#conn.socket;
    let ok: boolean;
    if (chunk.length <= COPY_STDIN_MAX) {
      ok = socket.write(encodeStream(RecordType.STDIN, this.requestId, chunk));
    } else {
      socket.cork();
      ok = writeStdinRecords(socket, this.requestId, chunk);
      socket.uncork();
    }
    if (!ok) this.needDrain = true;
    return ok;
  }

  end(): void {
    if (this.done || this.stdinEnded) return;
    this.stdinEnded = true;
    this.#conn.socket.write(encodeStreamEnd(RecordType.STDIN, this.requestId));
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    if (this.paused) {
      this.paused = false;
      this.#conn.resumeReading();
    }
    const err = new BackendError(BackendErrorCode.ABORTED, `request ${this.requestId} aborted`);
    this.#conn.abandon(this);
    this.deliverError(err);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.#conn.resumeReading();
  }

  // ---- called by the connection ----

  stdout(content: Buffer): void {
    this.responseStarted = true;
    if (this.done) return; // aborted while multiplexed: drop until END_REQUEST
    if (this.handler.onStdout(content) === false && !this.paused) {
      this.paused = true;
      this.#conn.pauseReading();
    }
  }

  stderr(content: Buffer): void {
    this.responseStarted = true;
    if (!this.done) this.handler.onStderr(content);
  }

  drained(): void {
    if (!this.needDrain || this.done) return;
    this.needDrain = false;
    this.handler.onDrain?.();
  }

  /** The connection failed under this request. `shared`: other requests get the same cause. */
  fail(cause: Error, shared: boolean): void {
    if (this.done) return;
    this.done = true;
    this.deliverError(shared ? copyError(cause) : cause);
  }

  private deliverError(err: Error): void {
    (err as FcgiRequestError).responseStarted = this.responseStarted;
    this.handler.onError(err as FcgiRequestError);
  }
}

/** One error object per request: `responseStarted` differs between multiplexed requests. */
function copyError(err: Error): Error {
  if (err instanceof FcgiProtocolError) return new FcgiProtocolError(err.code, err.message, { cause: err });
  if (err instanceof BackendError) return new BackendError(err.code, err.message, { cause: err });
  return new BackendError(BackendErrorCode.CLOSED, err.message, { cause: err });
}

/** Writes `data` as STDIN records without copying it: header, slice, zero padding. */
export function writeStdinRecords(socket: net.Socket, requestId: number, data: Uint8Array): boolean {
  let ok = true;
  for (let start = 0; start < data.length; start += MAX_RECORD_BODY) {
    const len = Math.min(MAX_RECORD_BODY, data.length - start);
    const pad = paddingFor(len);
    const header = Buffer.allocUnsafe(FCGI_HEADER_LEN);
    writeHeader(header, 0, RecordType.STDIN, requestId, len, pad);
    socket.write(header);
    ok = socket.write(data.subarray(start, start + len));
    if (pad > 0) ok = socket.write(ZERO_PADDING.subarray(0, pad));
  }
  return ok;
}
