// A CGI response written as STDOUT records: headers (Status, X-Fcgi-Connection-Id, the app's
// own), a blank line, then the body.

import { RecordType } from './constants.ts';
import type { ResponderResponse } from './responder-types.ts';

/** What a response needs from its connection. */
export interface ResponseSink {
  readonly connectionId: number;
  /** ResponderOptions.phpHeaders. */
  readonly phpHeaders: boolean;
  /** Writes stream records for the request; returns the socket's back-pressure answer. */
  writeStream(requestId: number, type: number, data: Uint8Array): boolean;
  /** Resolves when the socket drains or closes. */
  drained(): Promise<void>;
  finish(requestId: number, appStatus: number): void;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  302: 'Found',
  400: 'Bad Request',
  404: 'Not Found',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export class CgiResponse implements ResponderResponse {
  aborted = false;
  headersSent = false;
  ended = false;
  readonly #sink: ResponseSink;
  readonly #requestId: number;
  #status = 200;
  readonly #headers = new Map<string, [string, string]>();

  constructor(sink: ResponseSink, requestId: number) {
    this.#sink = sink;
    this.#requestId = requestId;
  }

  setHeader(name: string, value: string): this {
    if (this.headersSent) throw new Error('headers already sent');
    if (/[\r\n:]/.test(name) || /[\r\n]/.test(value)) throw new Error(`bad header ${JSON.stringify(name)}`);
    this.#headers.set(name.toLowerCase(), [name, value]);
    return this;
  }

  status(code: number): this {
    if (this.headersSent) throw new Error('headers already sent');
    if (!Number.isInteger(code) || code < 100 || code > 999) throw new RangeError(`bad status ${code}`);
    this.#status = code;
    return this;
  }

  write(chunk: string | Uint8Array): boolean {
    if (this.ended || this.aborted) return true;
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!this.headersSent) return this.#sendHeaders(data);
    if (data.length === 0) return true; // an empty STDOUT record would end the stream
    return this.#sink.writeStream(this.#requestId, RecordType.STDOUT, data);
  }

  drained(): Promise<void> {
    return this.aborted || this.ended ? Promise.resolve() : this.#sink.drained();
  }

  stderr(chunk: string | Uint8Array): void {
    if (this.ended || this.aborted) return;
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (data.length > 0) this.#sink.writeStream(this.#requestId, RecordType.STDERR, data);
  }

  end(appStatus = 0): void {
    if (this.ended) return;
    if (!this.headersSent && !this.aborted) this.#sendHeaders(Buffer.alloc(0));
    this.ended = true;
    if (!this.aborted) this.#sink.finish(this.#requestId, appStatus);
  }

  /** Headers and the first body bytes go out in one record. */
  #sendHeaders(body: Uint8Array): boolean {
    this.headersSent = true;
    const php = this.#sink.phpHeaders;
    let head =
      php && this.#status === 200 ? '' : `Status: ${this.#status} ${REASONS[this.#status] ?? 'Unknown'}\r\n`;
    if (!php) head += `X-Fcgi-Connection-Id: ${this.#sink.connectionId}\r\n`;
    if (!this.#headers.has('content-type')) head += 'Content-Type: text/plain; charset=utf-8\r\n';
    for (const [name, value] of this.#headers.values()) head += `${name}: ${value}\r\n`;
    head += '\r\n';
    const headBytes = Buffer.from(head, 'latin1');
    const data = body.length === 0 ? headBytes : Buffer.concat([headBytes, body]);
    return this.#sink.writeStream(this.#requestId, RecordType.STDOUT, data);
  }
}
