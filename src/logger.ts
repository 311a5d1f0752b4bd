// Structured logs: one JSON object per line on stdout, for Kubernetes to collect. Each
// request logs through `logger.child({ reqId })`, so every line about a request carries its
// id, across the gateway, the pool and the backend connection.

import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/schema.ts';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** One of LOG_LEVELS (validated by the config schema; pino throws on anything else). */
  readonly level: LogLevel | (string & {});
  /** Component name ("gateway", "control", ...). */
  readonly name?: string;
  /** Where lines go; default stdout. Tests pass a stream and read the lines back. */
  readonly destination?: DestinationStream;
  /**
   * Gather lines and write them together once BATCH_BYTES wait or `batchMs` after the first;
   * by default each line is written before the call returns. For a worker's access log: a line
   * per request then costs no system call of its own, and a quiet gateway's lines still show
   * within `batchMs`. The last lines are lost if the process crashes; flush() on shutdown.
   */
  readonly batchMs?: number;
}

/** How much a batching logger gathers (in characters, about bytes for log lines) before it writes. */
const BATCH_BYTES = 4096;

/**
 * Batches lines in front of a destination that writes each line it is given. pino's own
 * asynchronous destination batches too, but hands every write to libuv's thread pool and back,
 * which cost a worker more CPU than the writes themselves, and keeps lines until 4 KiB wait,
 * however long that takes.
 */
export class BatchedDestination implements DestinationStream {
  readonly #out: DestinationStream;
  readonly #delayMs: number;
  #pending = '';
  #timer: NodeJS.Timeout | null = null;

  constructor(out: DestinationStream, delayMs: number) {
    this.#out = out;
    this.#delayMs = delayMs;
  }

  write(line: string): void {
    this.#pending += line;
    if (this.#pending.length >= BATCH_BYTES) this.#flush();
    else if (this.#timer === null) {
      this.#timer = setTimeout(this.#flush, this.#delayMs);
      this.#timer.unref();
    }
  }

  /** Writes what is gathered now (pino's logger.flush calls this). */
  flush(cb?: (err?: Error) => void): void {
    this.#flush();
    cb?.();
  }

  readonly #flush = (): void => {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const lines = this.#pending;
    this.#pending = '';
    if (lines !== '') this.#out.write(lines);
  };
}

/** Secrets never reach a log line even when a whole object (headers, config) is logged. */
const REDACT = [
  'token',
  '*.token',
  'tokens',
  '*.tokens',
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'grpc.tokens',
  'config.grpc.tokens',
];

export function createLogger(options: LoggerOptions): Logger {
  // sonic-boom, synchronous: written from this thread, partial writes and EAGAIN handled
  const out = options.destination ?? pino.destination({ dest: 1, sync: true });
  const destination = options.batchMs === undefined ? out : new BatchedDestination(out, options.batchMs);
  return pino(
    {
      level: options.level,
      name: options.name,
      // pid and hostname identify the pod; the worker thread tells which event loop logged.
      base: { pid: process.pid, hostname: hostname(), thread: threadId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    destination,
  );
}
