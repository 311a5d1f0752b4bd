// Runs one FastCGI request through the pool: acquire a connection, send, stream the response to
// the caller's handler, release. Shared by the HTTP gateway and the gRPC Execute call.
//
// No request is lost or sent twice by surprise: a request whose connection failed before any
// response byte arrived is retried once on another connection when the caller says it is
// retryable (idempotent, or configured so), otherwise never (the backend may have started it).
// The one case retried whatever the method: the connection was already closed when the request
// was to be written, so not a byte of it left this process.

import { BackendError, BackendErrorCode } from '../errors.ts';
import type { FcgiParamsInput, FcgiRequestHandle, FcgiResponseHandler } from '../fcgi/connection.ts';
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
  params: FcgiParamsInput;
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
        if (t !== null) new Exchange(pt, t, opts, handler, tries, unsent).start();
        else handler.onError(err as Error);
      };
      if (fresh) acquireFresh(pt, opts.server, leased);
      else acquireSlow(pt, opts.server, leased);
    }
  } catch (err) {
    handler.onError(err as Error);
    return;
  }
  if (now !== null) new Exchange(pt, now, opts, handler, tries, unsent).start();
}

/**
 * One request on one connection: the connection's response handler, the caller's RunInfo, and
 * the read timer. One object per attempt rather than a closure per callback: under load every
 * request makes one, and what it allocates is what the GC's helper threads work through.
 */
class Exchange implements FcgiResponseHandler, RunInfo {
  readonly #pt: PoolThread;
  readonly #t: Tasklet;
  readonly #opts: RunRequestOptions;
  readonly #handler: RunHandler;
  readonly #tries: number;
  readonly #unsent: number;
  /** Served before, on this thread or another: it may have been closed by the backend meanwhile. */
  readonly reused: boolean;
  /** Reused right after its last response: a close now is the backend recycling, not a timeout. */
  readonly #quickReuse: boolean;
  readonly #timer: NodeJS.Timeout;
  #handle: FcgiRequestHandle | null = null;
  #started = false;
  #finished = false;
  #paused = false;
  #aborted = false;
  #stdinError: Error | null = null;
  #reader: ReturnType<StdinSource['open']> | null = null;

  constructor(
    pt: PoolThread,
    t: Tasklet,
    opts: RunRequestOptions,
    handler: RunHandler,
    tries: number,
    unsent: number,
  ) {
    this.#pt = pt;
    this.#t = t;
    this.#opts = opts;
    this.#handler = handler;
    this.#tries = tries;
    this.#unsent = unsent;
    this.reused = pt.shm.slots.requests(t.slot) > 1;
    this.#quickReuse = this.reused && pt.shm.nowMs() - pt.shm.slots.idleSince(t.slot) <= RECYCLE_WINDOW_MS;
    this.#timer = setTimeout(this.#onSilence, opts.timeoutMs);
  }

  get connectionId(): number {
    return this.#t.conn.id;
  }

  get thread(): number {
    return this.#pt.thread;
  }

  start(): void {
    if (this.#t.conn.closed && this.#unsent < MAX_UNSENT_RETRIES) {
      // closed while idle: nothing is sent, so any method may go again on another connection
      this.#again();
      return;
    }
    const { stdin } = this.#opts;
    const source = stdin === null || stdin instanceof Uint8Array ? null : stdin;
    try {
      this.#handle = this.#t.conn.request(
        this.#opts.params,
        this,
        source === null ? { stdin: stdin as Buffer | null } : { streamStdin: true },
      );
    } catch (err) {
      // closed between acquire and write: nothing was sent, so any method may go again
      if ((err as BackendError).code === BackendErrorCode.CLOSED && this.#unsent < MAX_UNSENT_RETRIES) {
        this.#again();
        return;
      }
      this.#finish();
      release(this.#pt, this.#t, false);
      this.#handler.onError(err as Error);
      return;
    }
    this.#handler.onConnection?.(this);
    if (source !== null && !this.#finished) this.#pump(source, this.#handle);
  }

  // ---- RunInfo ----

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.#finished) this.#timer.refresh();
    this.#handle?.resume();
  }

  abort(): void {
    this.#aborted = true;
    this.#handle?.abort();
  }

  // ---- the connection's response handler ----

  onStdout(chunk: Buffer): boolean {
    this.#started = true;
    this.#timer.refresh();
    const more = this.#handler.onStdout(chunk) !== false;
    if (!more) this.#paused = true;
    return more;
  }

  onStderr(chunk: Buffer): void {
    this.#started = true;
    this.#timer.refresh();
    this.#handler.onStderr(chunk);
  }

  onDrain(): void {
    this.#timer.refresh();
    this.#reader?.resume();
    this.#handler.onDrain?.();
  }

  onEnd(appStatus: number, protocolStatus: number): void {
    this.#finish();
    release(this.#pt, this.#t, protocolStatus === 0);
    this.#handler.onEnd(appStatus, protocolStatus);
  }

  onError(err: Error): void {
    const pt = this.#pt;
    const t = this.#t;
    this.#finish();
    const code = (err as BackendError).code;
    const backendClosed = code === BackendErrorCode.CLOSED || code === BackendErrorCode.RESET;
    // a kept connection the backend closed under this request: it recycles after that many
    if (!this.#started && this.#quickReuse && backendClosed) {
      pt.servers[t.server]?.noteRecycle(pt.shm.slots.requests(t.slot) - 1);
    }
    release(pt, t, false);
    if (this.#stdinError !== null) {
      this.#handler.onError(this.#stdinError);
      return;
    }
    // the backend closed the connection before answering (a kept one after pm.max_requests or
    // an idle timeout, a fresh one it found silent): a request that only reads may run again,
    // like nginx's `fastcgi_next_upstream error`; others never (they may have started)
    if (
      !this.#started &&
      !this.#aborted &&
      this.#tries < MAX_RETRIES &&
      this.#opts.retryable &&
      backendClosed
    ) {
      // after a short pause: php-fpm recycles children ~1 ms after their last answer, so
      // other kept connections closing at the same moment are seen closed first
      const tries = this.#tries + 1;
      setTimeout(() => attempt(pt, this.#opts, this.#handler, tries, this.#unsent, true), RETRY_SETTLE_MS);
      return;
    }
    this.#handler.onError(err);
  }

  // ---- internals ----

  /** Nothing was sent on this connection: the request goes again on another one. */
  #again(): void {
    this.#finish();
    release(this.#pt, this.#t, false);
    attempt(this.#pt, this.#opts, this.#handler, this.#tries, this.#unsent + 1);
  }

  readonly #onSilence = (): void => {
    if (this.#finished) return;
    // the caller paused reading (slow client): the backend is not the one being slow
    if (this.#paused) return;
    this.#t.conn.destroy(
      new BackendError(
        BackendErrorCode.READ_TIMEOUT,
        `no response from the backend within ${this.#opts.timeoutMs} ms`,
      ),
    );
  };

  #finish(): void {
    this.#finished = true;
    clearTimeout(this.#timer);
    this.#reader?.destroy();
    this.#reader = null;
  }

  #pump(src: StdinSource, h: FcgiRequestHandle): void {
    let r: ReturnType<StdinSource['open']>;
    try {
      r = src.open();
    } catch (err) {
      this.#failStdin(err as Error, h);
      return;
    }
    this.#reader = r;
    r.on('data', (chunk: Buffer) => {
      if (!h.write(chunk)) r.pause(); // resumed by onDrain
    });
    r.on('end', () => {
      if (this.#reader === r) h.end();
    });
    r.on('error', (err: Error) => {
      if (this.#reader === r && !this.#finished) this.#failStdin(err, h);
    });
  }

  #failStdin(err: Error, h: FcgiRequestHandle): void {
    this.#stdinError = new BackendError(
      BackendErrorCode.ABORTED,
      `the request body could not be read: ${err.message}`,
      { cause: err },
    );
    h.abort();
  }
}
