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
   * Write each line before returning (default true). Asynchronous writing is faster under
   * access-log load but loses the last lines if the process crashes; flush() on shutdown.
   */
  readonly sync?: boolean;
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
  const sync = options.sync ?? true;
  // asynchronous: lines are batched into writes of at least 4 KiB, so an access log line per
  // request costs no system call of its own on the request path
  const destination =
    options.destination ?? pino.destination(sync ? { dest: 1, sync } : { dest: 1, sync, minLength: 4096 });
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
