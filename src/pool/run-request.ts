// Runs one FastCGI request through the pool: acquire a connection, send, stream the response to
// the caller's handler, release. Shared by the HTTP gateway and the gRPC Execute call.
//
// No request is lost or sent twice by surprise: a request whose connection failed before any
// response byte arrived is retried once on another connection when the caller says it is
// retryable (idempotent, or configured so), otherwise never (the backend may have started it).
// The one case retried whatever the method: the connection was already closed when the request
// was to be written, so not a byte of it left this process.

import { BackendError, BackendErrorCode } from '../errors.ts';
import type { FcgiRequestHandle, FcgiResponseHandler } from '../fcgi/connection.ts';
import type { NameValueInput } from '../fcgi/name-value.ts';
import { acquireFresh, acquireSlow, type LeaseCallback, release, tryAcquire } from './acquire.ts';
import { type PoolThread, RECYCLE_WINDOW_MS } from './pool-thread.ts';
import type { Tasklet } from './tasklet.ts';

/**
 * A request body too big to hold in memory (the gateway spools it to a file): streamed to the
 * backend with back-pressure, and readable again from the start for the one retry.
 */
export interface StdinSource {
  /** Exact size: what CONTENT_LENGTH says. */
  readonly length: number;
  /** A fresh stream of the whole body; the previous one (if any) has been destroyed. */
  open(): NodeJS.ReadableStream & { destroy(err?: Error): unknown };
}

export interface RunRequestOptions {
  server: number;
  params: NameValueInput;
  /** The body (already bounded and spooled by the caller): bytes, a re-readable source, or null. */
  stdin: Buffer | StdinSource | null;
  /** Safe to run again if the connection fails before any response byte (idempotent). */
  retryable: boolean;
  /**
   * Read timeout: the longest the backend may stay silent (no response byte, no body byte
   * accepted) while the request runs; then it ends with READ_TIMEOUT (504). Time spent paused
   * because the caller's client reads slowly does not count.
   */
  timeoutMs: number;
}

export interface RunInfo {
  /** The connection that served the request (stable across takeovers). */
  connectionId: number;
  thread: number;
  reused: boolean;
  /** Resumes reading the response after onStdout returned false (back-pressure). */
  resume(): void;
  /** Gives the request up (the client went away): onError(ABORTED) follows, nothing is retried. */
  abort(): void;
}

export interface RunHandler extends FcgiResponseHandler {
  /** Called once per attempt, once the request is on a connection, before any response callback. */
  onConnection?(info: RunInfo): void;
}

/**
 * How many times a request may find its connection already closed before it was written
 * (certain: nothing was sent) and go again; a bound, not a budget anyone should reach.
 */
const MAX_UNSENT_RETRIES = 4;

/**
 * A retryable request whose connection failed before any response byte runs again once, on
 * another connection (nginx's cached-connection retry), and never more: a script that crashes
 * php-fpm's child must not run again and again. Connections php-fpm is about to close after
 * pm.max_requests are kept out of reach by the pool instead (ServerPool.recycleAt).
 */
const MAX_RETRIES = 1;

/** Pause before that retry, long enough for FINs already on their way to be read. */
const RETRY_SETTLE_MS = 5;

export function runRequest(pt: PoolThread, opts: RunRequestOptions, handler: RunHandler): void {
  attempt(pt, opts, handler, 0, 0);
}

function attempt(
  pt: PoolThread,
  opts: RunRequestOptions,
  handler: RunHandler,
  tries: number,
  unsent: number,
  fresh = false,
): void {
  let now: Tasklet | null = null;
  try {
    // the hot path (an idle connection of this thread) makes no callback
    if (!fresh) now = tryAcquire(pt, opts.server, opts.retryable);
    if (now === null) {
      const leased: LeaseCallback = (t, err) => {
        if (t !== null) send(pt, t, opts, handler, tries, unsent);
        else handler.onError(err as Error);
      };
      if (fresh) acquireFresh(pt, opts.server, leased);
      else acquireSlow(pt, opts.server, leased);
    }
  } catch (err) {
    handler.onError(err as Error);
    return;
  }
  if (now !== null) send(pt, now, opts, handler, tries, unsent);
}

function send(
  pt: PoolThread,
  t: Tasklet,
  opts: RunRequestOptions,
  handler: RunHandler,
  tries: number,
  unsent: number,
): void {
  if (t.conn.closed && unsent < MAX_UNSENT_RETRIES) {
    release(pt, t, false);
    attempt(pt, opts, handler, tries, unsent + 1);
    return;
  }
  // served before, on this thread or another: it may have been closed by the backend meanwhile
  const reused = pt.shm.slots.requests(t.slot) > 1;
  // reused right after its last response: a close now is the backend recycling, not a timeout
  const quickReuse = reused && pt.shm.nowMs() - pt.shm.slots.idleSince(t.slot) <= RECYCLE_WINDOW_MS;
  const body = opts.stdin;
  const source = body === null || body instanceof Uint8Array ? null : body;
  let started = false;
  let finished = false;
  let paused = false;
  let aborted = false;
  let stdinError: Error | null = null;
  let reader: ReturnType<StdinSource['open']> | null = null;
  const timer = setTimeout(function onSilence() {
    if (finished) return;
    // the caller paused reading (slow client): the backend is not the one being slow
    if (paused) return;
    t.conn.destroy(
      new BackendError(
        BackendErrorCode.READ_TIMEOUT,
        `no response from the backend within ${opts.timeoutMs} ms`,
      ),
    );
  }, opts.timeoutMs);
  const finish = () => {
    finished = true;
    clearTimeout(timer);
    reader?.destroy();
    reader = null;
  };

  let handle: FcgiRequestHandle;
  try {
    handle = t.conn.request(
      opts.params,
      {
        onStdout(chunk) {
          started = true;
          timer.refresh();
          const more = handler.onStdout(chunk);
          if (more === false) paused = true;
          return more;
        },
        onStderr(chunk) {
          started = true;
          timer.refresh();
          handler.onStderr(chunk);
        },
        onDrain() {
          timer.refresh();
          reader?.resume();
          handler.onDrain?.();
        },
        onEnd(appStatus, protocolStatus) {
          finish();
          release(pt, t, protocolStatus === 0);
          handler.onEnd(appStatus, protocolStatus);
        },
        onError(err) {
          finish();
          const code = (err as BackendError).code;
          const backendClosed = code === BackendErrorCode.CLOSED || code === BackendErrorCode.RESET;
          // a kept connection the backend closed under this request: it recycles after that many
          if (!started && quickReuse && backendClosed) {
            pt.servers[t.server]?.noteRecycle(pt.shm.slots.requests(t.slot) - 1);
          }
          release(pt, t, false);
          if (stdinError !== null) {
            handler.onError(stdinError);
            return;
          }
          // the backend closed the connection before answering (a kept one after pm.max_requests or
          // an idle timeout, a fresh one it found silent): a request that only reads may run again,
          // like nginx's `fastcgi_next_upstream error`; others never (they may have started)
          if (!started && !aborted && tries < MAX_RETRIES && opts.retryable && backendClosed) {
            // after a short pause: php-fpm recycles children ~1 ms after their last answer, so
            // other kept connections closing at the same moment are seen closed first
            setTimeout(() => attempt(pt, opts, handler, tries + 1, unsent, true), RETRY_SETTLE_MS);
            return;
          }
          handler.onError(err);
        },
      },
      source === null ? { stdin: body as Buffer | null } : { streamStdin: true },
    );
  } catch (err) {
    finish();
    release(pt, t, false);
    // closed between acquire and write: nothing was sent, so any method may go again
    if ((err as BackendError).code === BackendErrorCode.CLOSED && unsent < MAX_UNSENT_RETRIES) {
      attempt(pt, opts, handler, tries, unsent + 1);
      return;
    }
    handler.onError(err as Error);
    return;
  }

  handler.onConnection?.({
    connectionId: t.conn.id,
    thread: pt.thread,
    reused,
    resume: () => {
      if (!paused) return;
      paused = false;
      if (!finished) timer.refresh();
      handle.resume();
    },
    abort: () => {
      aborted = true;
      handle.abort();
    },
  });
  if (source !== null && !finished) pump(source, handle);

  function pump(src: StdinSource, h: FcgiRequestHandle): void {
    let r: ReturnType<StdinSource['open']>;
    try {
      r = src.open();
    } catch (err) {
      failStdin(err as Error, h);
      return;
    }
    reader = r;
    r.on('data', (chunk: Buffer) => {
      if (!h.write(chunk)) r.pause(); // resumed by onDrain
    });
    r.on('end', () => {
      if (reader === r) h.end();
    });
    r.on('error', (err: Error) => {
      if (reader === r && !finished) failStdin(err, h);
    });
  }

  function failStdin(err: Error, h: FcgiRequestHandle): void {
    stdinError = new BackendError(
      BackendErrorCode.ABORTED,
      `the request body could not be read: ${err.message}`,
      {
        cause: err,
      },
    );
    h.abort();
  }
}
