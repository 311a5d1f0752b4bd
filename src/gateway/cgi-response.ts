// Parses the CGI response head that php-fpm writes at the start of STDOUT (RFC 3875 §6),
// fed chunk by chunk as records arrive. Rules from nginx and HAProxy, where they got it right
// (shared/reference/fastcgi-peers.md §1, §5):
// - lines end in LF or CRLF, and the head may span any number of chunks;
// - the head is bounded ("upstream sent too big header" → 502);
// - `Status:` must be three digits, else 502; `Location` without `Status` is a 302;
// - `Status` and hop-by-hop headers are never forwarded; repeated headers are all kept;
// - bad header bytes are a 502, never passed on to the client.
// The chunk that completes the head yields the rest of itself as the first body bytes,
// as a subarray: no copy on the fast path where the head arrives in one chunk.

import type { OutgoingHttpHeaders } from 'node:http';
import { GatewayError, GatewayErrorCode } from '../errors.ts';

export type CgiParseResult =
  | { readonly done: false }
  | {
      readonly done: true;
      readonly status: number;
      /** Reason phrase from `Status: 404 Gone Fishing`, when PHP gave one. */
      readonly reason: string | undefined;
      /** Names as PHP first wrote them; repeated headers (Set-Cookie) as arrays. */
      readonly headers: OutgoingHttpHeaders;
      /** From Content-Length, to check the body against (undefined: not given). */
      readonly contentLength: number | undefined;
      /** Body bytes that came in the chunk that ended the head (may be empty). */
      readonly body: Buffer;
    };

const NOT_DONE: CgiParseResult = { done: false };
const LF = 0x0a;
const CR = 0x0d;

/** Connection-level headers of the backend hop (RFC 9110 §7.6.1) plus CGI's own `Status`. */
const NOT_FORWARDED = new Set([
  'status',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Node refuses the same set in setHeader; finding it here turns a crash into a clean 502.
const BAD_VALUE_RE = /[^\t\x20-\x7e\x80-\xff]/;
const STATUS_RE = /^([2-5]\d\d)(?:[ \t]+(.*))?$/;

export const DEFAULT_MAX_RESPONSE_HEADER_BYTES = 32 * 1024;

export class CgiResponseParser {
  readonly #maxHeaderBytes: number;
  /** Earlier chunks of an unfinished head (kept by reference, joined once at the end). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes of the current (unfinished) line seen in earlier chunks. */
  #lineLen = 0;
  /** Whether that line's first byte was CR (a lone CR line followed by LF is the blank line). */
  #lineStartsWithCR = false;
  #done = false;

  constructor(maxHeaderBytes: number = DEFAULT_MAX_RESPONSE_HEADER_BYTES) {
    this.#maxHeaderBytes = maxHeaderBytes;
  }

  /** Throws GatewayError (CGI_*) when the head is malformed or too big: answer 502. */
  push(chunk: Buffer): CgiParseResult {
    if (this.#done)
      throw new Error('CgiResponseParser: the head is already complete; body bytes go straight out');
    let pos = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) break;
      const len = this.#lineLen + (nl - pos);
      const blank =
        len === 0 || (len === 1 && (this.#lineLen === 1 ? this.#lineStartsWithCR : chunk[pos] === CR));
      if (blank) return this.#finish(chunk, nl + 1);
      this.#lineLen = 0;
      this.#lineStartsWithCR = false;
      pos = nl + 1;
    }
    if (pos < chunk.length) {
      if (this.#lineLen === 0) this.#lineStartsWithCR = chunk[pos] === CR;
      this.#lineLen += chunk.length - pos;
    }
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes > this.#maxHeaderBytes) throw tooLarge(this.#maxHeaderBytes);
    this.#pending.push(chunk);
    return NOT_DONE;
  }

  #finish(chunk: Buffer, headEndInChunk: number): CgiParseResult {
    this.#done = true;
    const headBytes = this.#pendingBytes + headEndInChunk;
    if (headBytes > this.#maxHeaderBytes) throw tooLarge(this.#maxHeaderBytes);
    const head =
      this.#pending.length === 0
        ? chunk.toString('latin1', 0, headEndInChunk)
        : Buffer.concat([...this.#pending, chunk.subarray(0, headEndInChunk)], headBytes).toString('latin1');
    this.#pending = [];
    return parseHead(head, chunk.subarray(headEndInChunk));
  }
}

/** Parses the head text (latin1: one char per byte, as Node writes header values back). */
function parseHead(head: string, body: Buffer): CgiParseResult {
  const headers: OutgoingHttpHeaders = {};
  // lower-case name → the spelling used as key in `headers`
  const keys = new Map<string, string>();
  let status: number | undefined;
  let reason: string | undefined;
  let location = false;
  let contentLength: number | undefined;

  let start = 0;
  for (;;) {
    const nl = head.indexOf('\n', start);
    let end = nl;
    if (end > start && head.charCodeAt(end - 1) === CR) end--;
    if (end === start) break; // the blank line
    const line = head.slice(start, end);
    start = nl + 1;

    const colon = line.indexOf(':');
    if (colon <= 0) throw badHeader(`a header line has no name and colon: ${quote(line)}`);
    const name = line.slice(0, colon);
    if (!TOKEN_RE.test(name)) throw badHeader(`invalid header name ${quote(name)}`);
    const value = line.slice(colon + 1).trim();
    if (BAD_VALUE_RE.test(value)) throw badHeader(`header ${name} has a control character in its value`);
    const lower = name.toLowerCase();

    if (lower === 'status') {
      const m = STATUS_RE.exec(value);
      if (m === null || status !== undefined) {
        throw new GatewayError(
          GatewayErrorCode.CGI_BAD_STATUS,
          status !== undefined
            ? 'the backend sent Status twice'
            : `invalid Status ${quote(value)}: expected three digits from 200 to 599`,
        );
      }
      status = Number(m[1]);
      if (m[2] !== undefined && m[2].trim() !== '') reason = m[2].trim();
      continue;
    }
    if (NOT_FORWARDED.has(lower)) continue;
    if (lower === 'location') location = true;
    if (lower === 'content-length') {
      const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
      if (Number.isNaN(n) || (contentLength !== undefined && contentLength !== n)) {
        throw badHeader(`invalid or conflicting Content-Length ${quote(value)}`);
      }
      if (contentLength !== undefined) continue; // an identical repeat adds nothing
      contentLength = n;
    }

    const key = keys.get(lower);
    if (key === undefined) {
      keys.set(lower, name);
      headers[name] = value;
    } else {
      const prev = headers[key] as string | string[];
      if (Array.isArray(prev)) prev.push(value);
      else headers[key] = [prev, value];
    }
  }

  // every key always present: one object shape whatever PHP sent, so the code that reads it
  // stays monomorphic
  return { done: true, status: status ?? (location ? 302 : 200), reason, headers, contentLength, body };
}

function tooLarge(max: number): GatewayError {
  return new GatewayError(
    GatewayErrorCode.CGI_HEADER_TOO_LARGE,
    `the backend sent response headers larger than ${max} bytes (app.maxResponseHeaderBytes)`,
  );
}

function badHeader(message: string): GatewayError {
  return new GatewayError(GatewayErrorCode.CGI_BAD_HEADER, message);
}

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}
