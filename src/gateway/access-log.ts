// The access log: one line per request, in the shape of every other pino line (level label,
// ISO time, the logger's bindings, the fields, msg "request") and written to the same pino
// destination, so lines interleave and flush together. It is built here rather than through
// logger.info() because it is written once per request: pino's generic path (child bindings,
// redaction, serializers) was 9 % of a worker's CPU under load (perf, DESIGN.md §8), and an
// access line has fixed fields with no secrets in them to redact. Lines are handed over once
// per event-loop turn, so an access line may follow a warning logged later in the same turn.

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
  /**
   * Lines of this event-loop turn, handed over in one write: pino's destination measures its
   * whole pending buffer on every write (Buffer.byteLength of a growing string), which per line
   * cost 6-8 % of the throughput (wrk A/B with the access log off).
   */
  #pending = '';
  #scheduled = false;

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
    this.#pending += `${line},"msg":"request"}\n`;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  /** Hands the lines written so far to the destination (also done once per event-loop turn). */
  readonly #flush = (): void => {
    this.#scheduled = false;
    const lines = this.#pending;
    this.#pending = '';
    if (lines !== '') this.#out.write(lines);
  };

  flush(): void {
    this.#flush();
  }
}
