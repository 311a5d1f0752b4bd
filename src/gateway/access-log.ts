// The access log: one line per request, in the shape of every other pino line (level label,
// ISO time, the logger's bindings, the fields, msg "request") and written to the same pino
// destination, so lines interleave and flush together. It is built here rather than through
// logger.info() because it is written once per request: pino's generic path (child bindings,
// redaction, serializers) was 9 % of a worker's CPU under load (perf, DESIGN.md §8), and an
// access line has fixed fields with no secrets in them to redact. A worker's destination
// batches lines (logger.ts), so a line costs no system call of its own.

import pino, { type Logger } from 'pino';

export interface AccessEntry {
  readonly reqId: string;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly status: number;
  /** Milliseconds from arrival to the end of the response. */
  readonly ms: number;
  readonly remote: string | undefined;
  readonly server?: string;
  readonly why?: string;
}

interface Destination {
  write(line: string): unknown;
}

let isoAt = -1;
let iso = '';

/** pino's isoTime, made once per millisecond: at thousands of lines a second most share one. */
function isoNow(): string {
  const now = Date.now();
  if (now !== isoAt) {
    isoAt = now;
    iso = new Date(now).toISOString();
  }
  return iso;
}

export class AccessLog {
  readonly #out: Destination;
  /** `,"pid":1,"hostname":"h","thread":1` and any child bindings of the logger. */
  readonly #bindings: string;

  constructor(log: Logger) {
    // pino keeps both on the logger: its destination, and its bindings already serialised
    const internals = log as unknown as Record<symbol, unknown>;
    this.#out = internals[pino.symbols.streamSym] as Destination;
    this.#bindings = internals[pino.symbols.chindingsSym] as string;
  }

  write(e: AccessEntry): void {
    let line = `{"level":"info","time":"${isoNow()}"${this.#bindings},"reqId":${JSON.stringify(e.reqId)}`;
    if (e.method !== undefined) line += `,"method":${JSON.stringify(e.method)}`;
    if (e.url !== undefined) line += `,"url":${JSON.stringify(e.url)}`;
    line += `,"status":${e.status},"ms":${e.ms}`;
    if (e.remote !== undefined) line += `,"remote":${JSON.stringify(e.remote)}`;
    if (e.server !== undefined) line += `,"server":${JSON.stringify(e.server)}`;
    if (e.why !== undefined) line += `,"why":${JSON.stringify(e.why)}`;
    this.#out.write(`${line},"msg":"request"}\n`);
  }
}
