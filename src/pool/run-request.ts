// Runs one FastCGI request through the pool: acquire a connection, send, stream the response to
// the caller's handler, release. Shared by the HTTP gateway and the gRPC Execute call.
//
// No request is lost or sent twice by surprise: a request whose connection failed before any
// response byte arrived is retried once on another connection when the caller says it is
// retryable (idempotent, or configured so), otherwise never (the backend may have started it).

import { BackendError, BackendErrorCode } from '../errors.ts';
import type { FcgiRequestHandle, FcgiResponseHandler } from '../fcgi/connection.ts';
import type { NameValueInput } from '../fcgi/name-value.ts';
import { acquire, release } from './acquire.ts';
import type { PoolThread } from './pool-thread.ts';
import type { Tasklet } from './tasklet.ts';

export interface RunRequestOptions {
  server: number;
  params: NameValueInput;
  /** The whole request body (already bounded and spooled by the caller), or null. */
  stdin: Buffer | null;
  /** Safe to run again if the connection fails before any response byte (idempotent). */
  retryable: boolean;
  /** Read timeout: no response within it ends the request with READ_TIMEOUT (504). */
  timeoutMs: number;
}

export interface RunInfo {
  /** The connection that served the request (stable across takeovers). */
  connectionId: number;
  thread: number;
  reused: boolean;
  /** Resumes reading the response after onStdout returned false (back-pressure). */
  resume(): void;
}

export interface RunHandler extends FcgiResponseHandler {
  /** Called once the connection is chosen, before any response callback. */
  onConnection?(info: RunInfo): void;
}

export function runRequest(pt: PoolThread, opts: RunRequestOptions, handler: RunHandler): void {
  attempt(pt, opts, handler, 0);
}

function attempt(pt: PoolThread, opts: RunRequestOptions, handler: RunHandler, tries: number): void {
  let lease: Tasklet | Promise<Tasklet>;
  try {
    lease = acquire(pt, opts.server, opts.retryable);
  } catch (err) {
    handler.onError(err as Error);
    return;
  }
  if (lease instanceof Promise) {
    lease.then(
      (t) => send(pt, t, opts, handler, tries),
      (err: Error) => handler.onError(err),
    );
  } else {
    send(pt, lease, opts, handler, tries);
  }
}

function send(pt: PoolThread, t: Tasklet, opts: RunRequestOptions, handler: RunHandler, tries: number): void {
  // served before, on this thread or another: it may have been closed by the backend meanwhile
  const reused = pt.shm.slots.requests(t.slot) > 1;
  let started = false;
  let finished = false;
  const timer = setTimeout(() => {
    if (finished) return;
    t.conn.destroy(
      new BackendError(
        BackendErrorCode.READ_TIMEOUT,
        `no response from the backend within ${opts.timeoutMs} ms`,
      ),
    );
  }, opts.timeoutMs);
  let handle: FcgiRequestHandle | null = null;
  handler.onConnection?.({
    connectionId: t.conn.id,
    thread: pt.thread,
    reused,
    resume: () => handle?.resume(),
  });
  handle = t.conn.request(
    opts.params,
    {
      onStdout(chunk) {
        started = true;
        return handler.onStdout(chunk);
      },
      onStderr(chunk) {
        started = true;
        handler.onStderr(chunk);
      },
      onDrain() {
        handler.onDrain?.();
      },
      onEnd(appStatus, protocolStatus) {
        finished = true;
        clearTimeout(timer);
        release(pt, t, protocolStatus === 0);
        handler.onEnd(appStatus, protocolStatus);
      },
      onError(err) {
        finished = true;
        clearTimeout(timer);
        release(pt, t, false);
        // the backend closed the connection before answering (a kept one after pm.max_requests or
        // an idle timeout, a fresh one it found silent): a request that only reads may run again
        // once, like nginx's `fastcgi_next_upstream error`; others never (they may have started)
        const code = (err as BackendError).code;
        if (
          !started &&
          tries === 0 &&
          opts.retryable &&
          (code === BackendErrorCode.CLOSED || code === BackendErrorCode.RESET)
        ) {
          attempt(pt, opts, handler, 1);
          return;
        }
        handler.onError(err);
      },
    },
    { stdin: opts.stdin },
  );
}
