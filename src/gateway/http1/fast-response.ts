// The response to a request of the gateway's own HTTP/1.1 front: the part of
// http.ServerResponse the gateway uses (GatewayResponse), written straight to the socket.
// The head is held until the first body byte or the end, so a small response leaves in one
// write with a Content-Length; a response whose length is not known streams chunked. Framing
// follows node:http's rules, so a client cannot tell the two fronts apart: no body for HEAD,
// 204 and 304; `Date`, `Connection: keep-alive` and `Keep-Alive: timeout=N` on kept
// connections, `Connection: close` when either side closes.
//
// Header names and values are not checked here: every one the gateway writes is checked where
// it is made (the CGI head parser, the request id pattern, the error pages).

import type { OutgoingHttpHeaders } from 'node:http';
import { STATUS_CODES } from 'node:http';

/** What the gateway needs of a response; http.ServerResponse and FastResponse both are one. */
export interface GatewayResponse {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  strictContentLength: boolean;
  setHeader(name: string, value: number | string | readonly string[]): unknown;
  writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
  writeHead(status: number, reason: string, headers?: OutgoingHttpHeaders): unknown;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): unknown;
  destroy(): unknown;
  writeContinue(): void;
  on(event: 'close' | 'drain', listener: () => void): unknown;
}

/** The connection side of a response (http1-front.ts). */
export interface ResponseSink {
  readonly socket: {
    write(data: Uint8Array | string): boolean;
    cork(): void;
    uncork(): void;
    destroy(): void;
  };
  /** Seconds announced in `Keep-Alive: timeout=`. */
  readonly keepAliveSeconds: number;
  /** The response is complete on the wire: the connection goes on (or closes). */
  responseDone(res: FastResponse, keepAlive: boolean): void;
}

/** Bodies up to this size are copied behind the head into one buffer: one write, no writev. */
const COPY_MAX = 16 * 1024;
const CRLF = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';
const EMPTY = Buffer.alloc(0);

let dateSecond = -1;
let dateLine = '';

/** `Date: ...\r\n`, rebuilt once a second like node:http's cached date. */
function dateHeaderLine(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
  }
  return dateLine;
}

export class FastResponse implements GatewayResponse {
  headersSent = false;
  destroyed = false;
  /** Refuse to send more or fewer bytes than the Content-Length said (as node:http's option). */
  strictContentLength = false;
  readonly #sink: ResponseSink;
  /** No body may follow the head: a HEAD request, or a 204 / 304 status. */
  #headRequest: boolean;
  #keepAlive: boolean;
  #status = 200;
  #reason: string | undefined;
  readonly #names: string[] = [];
  readonly #lowerNames: string[] = [];
  readonly #values: Array<number | string | readonly string[]> = [];
  #chunked = false;
  #noBody = false;
  /** The Content-Length sent, -1 when none. */
  #length = -1;
  #sent = 0;
  #finished = false;
  #onClose: (() => void) | null = null;
  #onDrain: (() => void) | null = null;

  constructor(sink: ResponseSink, headRequest: boolean, keepAlive: boolean) {
    this.#sink = sink;
    this.#headRequest = headRequest;
    this.#keepAlive = keepAlive;
  }

  on(event: 'close' | 'drain', listener: () => void): this {
    if (event === 'close') this.#onClose = listener;
    else this.#onDrain = listener;
    return this;
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    if (this.headersSent) throw new Error(`cannot set header ${name}: the head is sent`);
    const lower = name.toLowerCase();
    const at = this.#lowerNames.indexOf(lower);
    if (at >= 0) {
      this.#values[at] = value;
      return this;
    }
    this.#names.push(name);
    this.#lowerNames.push(lower);
    this.#values.push(value);
    return this;
  }

  writeHead(status: number, headers?: OutgoingHttpHeaders): this;
  writeHead(status: number, reason: string, headers?: OutgoingHttpHeaders): this;
  writeHead(
    status: number,
    reasonOrHeaders?: string | OutgoingHttpHeaders,
    more?: OutgoingHttpHeaders,
  ): this {
    if (this.headersSent) throw new Error('the head is already sent');
    this.#status = status;
    let headers = more;
    if (typeof reasonOrHeaders === 'string') this.#reason = reasonOrHeaders;
    else headers = reasonOrHeaders;
    if (headers !== undefined) {
      for (const name in headers) {
        const value = headers[name];
        if (value !== undefined) this.setHeader(name, value);
      }
    }
    return this;
  }

  writeContinue(): void {
    this.#sink.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
  }

  write(chunk: Uint8Array): boolean {
    if (this.#finished) throw new Error('write after end');
    if (this.destroyed) return false;
    if (!this.headersSent) {
      const head = this.#head(-1);
      if (this.#noBody) return this.#sink.socket.write(head);
      this.#count(chunk.length);
      return this.#writeWithHead(head, chunk);
    }
    if (this.#noBody || chunk.length === 0) return true;
    this.#count(chunk.length);
    if (!this.#chunked) return this.#sink.socket.write(chunk);
    const socket = this.#sink.socket;
    socket.cork();
    socket.write(chunk.length.toString(16) + CRLF);
    socket.write(chunk);
    const more = socket.write(CRLF);
    socket.uncork();
    return more;
  }

  end(chunk?: Uint8Array): this {
    if (this.#finished) return this;
    if (this.destroyed) {
      this.#finished = true;
      return this;
    }
    if (!this.headersSent) {
      const body = chunk ?? EMPTY;
      const head = this.#head(body.length);
      if (this.#noBody || body.length === 0) this.#sink.socket.write(head);
      else {
        this.#count(body.length);
        this.#writeWithHead(head, body);
      }
    } else {
      if (chunk !== undefined && chunk.length > 0) this.write(chunk);
      if (this.strictContentLength && this.#length >= 0 && this.#sent < this.#length) {
        throw new Error(
          `the response ended after ${this.#sent} of the ${this.#length} byte(s) its Content-Length announced`,
        );
      }
      if (this.#chunked) this.#sink.socket.write(LAST_CHUNK);
    }
    this.#finished = true;
    this.#onClose = null;
    this.#onDrain = null;
    this.#sink.responseDone(this, this.#keepAlive);
    return this;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.#sink.socket.destroy();
  }

  // ---- used by the connection ----

  /** The client's socket closed before the response ended. */
  socketClosed(): void {
    this.destroyed = true;
    const onClose = this.#onClose;
    this.#onClose = null;
    this.#onDrain = null;
    if (!this.#finished) onClose?.();
  }

  socketDrained(): void {
    this.#onDrain?.();
  }

  /** The listener is closing: this response says `Connection: close` and ends the connection. */
  closeAfter(): void {
    if (!this.headersSent) this.#keepAlive = false;
  }

  // ---- internals ----

  #count(bytes: number): void {
    if (this.strictContentLength && this.#length >= 0 && this.#sent + bytes > this.#length) {
      throw new Error(`the response has more than the ${this.#length} byte(s) its Content-Length announced`);
    }
    this.#sent += bytes;
  }

  #writeWithHead(head: string, body: Uint8Array): boolean {
    const socket = this.#sink.socket;
    if (this.#chunked) {
      socket.cork();
      socket.write(`${head}${body.length.toString(16)}\r\n`);
      socket.write(body);
      const more = socket.write(CRLF);
      socket.uncork();
      return more;
    }
    if (body.length > COPY_MAX) {
      socket.cork();
      socket.write(head);
      const more = socket.write(body);
      socket.uncork();
      return more;
    }
    const headBytes = head.length; // latin1: one byte per char
    const out = Buffer.allocUnsafe(headBytes + body.length);
    out.write(head, 0, headBytes, 'latin1');
    out.set(body, headBytes);
    return socket.write(out);
  }

  /**
   * The head, now fixed. `wholeBody`: the length of the whole body when it is given with the
   * head (end()), -1 when more may follow (write()).
   */
  #head(wholeBody: number): string {
    this.headersSent = true;
    const status = this.#status;
    this.#noBody = this.#headRequest || status === 204 || status === 304 || status < 200;
    let out = `HTTP/1.1 ${status} ${this.#reason ?? STATUS_CODES[status] ?? 'unknown'}\r\n`;
    let hasDate = false;
    let connectionClose = !this.#keepAlive;
    for (let i = 0; i < this.#names.length; i++) {
      const name = this.#names[i];
      const value = this.#values[i];
      switch (this.#lowerNames[i]) {
        case 'date':
          hasDate = true;
          break;
        case 'connection':
          if (String(value).toLowerCase() === 'close') connectionClose = true;
          continue; // written below, once
        case 'content-length':
          this.#length = Number(value);
          break;
      }
      if (typeof value === 'object') for (const v of value) out += `${name}: ${v}\r\n`;
      else out += `${name}: ${value}\r\n`;
    }
    if (!hasDate) out += dateHeaderLine();
    this.#keepAlive = !connectionClose;
    out += connectionClose
      ? 'Connection: close\r\n'
      : `Connection: keep-alive\r\nKeep-Alive: timeout=${this.#sink.keepAliveSeconds}\r\n`;
    if (!this.#noBody && this.#length < 0) {
      if (wholeBody >= 0) {
        this.#length = wholeBody;
        out += `Content-Length: ${wholeBody}\r\n`;
      } else {
        this.#chunked = true;
        out += 'Transfer-Encoding: chunked\r\n';
      }
    }
    return `${out}\r\n`;
  }
}
