// The head of one HTTP/1.1 request, parsed by the gateway's own front (http1-front.ts) for the
// requests that make up nearly all PHP traffic: a known method, an origin-form target, no
// body. Anything else — a body, Expect, Upgrade, HTTP/1.0, an obs-fold, a bare LF, a byte
// Node's parser would refuse, a head over the size limit — is not parsed here but handed to
// node:http with the bytes untouched, so every rule and error of node:http (400, 431, chunked
// bodies, 100-continue, request smuggling checks) still applies to it. This parser only has
// to be right about saying "simple"; it never has to produce an error itself.

/** The head is not all here yet. */
export const INCOMPLETE = 0;
/** Not a simple request: node:http takes the connection from here on. */
export const HANDOVER = 1;

export interface RequestHead {
  readonly method: string;
  /** The request-target as sent (latin1, still percent-encoded). */
  readonly url: string;
  /** [name, value, name, value, ...] in arrival order, as Node's req.rawHeaders. */
  readonly rawHeaders: string[];
  /** Bytes of the head, blank line included: where the next request starts. */
  readonly length: number;
  /** False when the client said `Connection: close`. */
  readonly keepAlive: boolean;
  /** The client's X-Request-Id, when it sent exactly one. */
  readonly requestId: string | undefined;
}

/** Methods taken on the fast path (llhttp knows more; those go to node:http). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);
/** Past this many headers node:http decides (its own limit is 2000). */
const MAX_HEADERS = 200;
const NAME_CACHE_LIMIT = 1024;

// What a header name means to the front; names repeat from request to request, so this map is
// also the cache that spares a token check per header.
const ORDINARY = 0;
const CONTENT_LENGTH = 1;
const CONNECTION = 2;
const HOST = 3;
const REQUEST_ID = 4;
/** Transfer-Encoding, Expect, Upgrade, HTTP2-Settings: node:http's business. */
const NOT_SIMPLE = 5;

const SPECIAL: ReadonlyMap<string, number> = new Map([
  ['content-length', CONTENT_LENGTH],
  ['connection', CONNECTION],
  ['host', HOST],
  ['x-request-id', REQUEST_ID],
  ['transfer-encoding', NOT_SIMPLE],
  ['expect', NOT_SIMPLE],
  ['upgrade', NOT_SIMPLE],
  ['http2-settings', NOT_SIMPLE],
]);

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A target Node would take as is: visible ASCII or bytes from 0x80 (decoded later as UTF-8). */
const TARGET_RE = /^[\x21-\x7e\x80-\xff]+$/;
/** Control characters other than HTAB; a value with one is node:http's to refuse. */
const BAD_VALUE_RE = /[\x00-\x08\x0a-\x1f\x7f]/;

const names = new Map<string, number>();

function kindOf(name: string): number {
  let kind = names.get(name);
  if (kind === undefined) {
    if (!TOKEN_RE.test(name)) return -1;
    kind = SPECIAL.get(name.toLowerCase()) ?? ORDINARY;
    if (names.size >= NAME_CACHE_LIMIT) names.clear();
    names.set(name, kind);
  }
  return kind;
}

/** Parses the head at the start of `buf` (nothing before it), within `maxBytes`. */
export function parseRequestHead(
  buf: Buffer,
  maxBytes: number,
): RequestHead | typeof INCOMPLETE | typeof HANDOVER {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) {
    // too big for us, or lines ending in a bare LF (which we never parse): node:http decides
    return buf.length > maxBytes || buf.includes('\n\n') ? HANDOVER : INCOMPLETE;
  }
  if (end + 4 > maxBytes) return HANDOVER;
  const head = buf.toString('latin1', 0, end);
  const lineEnd = head.indexOf('\r\n');
  const requestLine = lineEnd < 0 ? head : head.slice(0, lineEnd);
  if (!requestLine.endsWith(' HTTP/1.1')) return HANDOVER;
  const sp = requestLine.indexOf(' ');
  const method = requestLine.slice(0, sp);
  if (!METHODS.has(method)) return HANDOVER;
  const url = requestLine.slice(sp + 1, requestLine.length - 9);
  if (!TARGET_RE.test(url)) return HANDOVER;

  const rawHeaders: string[] = [];
  let keepAlive = true;
  let hosts = 0;
  let requestId: string | undefined;
  let requestIds = 0;
  let pos = lineEnd < 0 ? head.length : lineEnd + 2;
  while (pos < head.length) {
    let next = head.indexOf('\r\n', pos);
    if (next < 0) next = head.length;
    const line = head.slice(pos, next);
    pos = next + 2;
    const colon = line.indexOf(':');
    if (colon <= 0) return HANDOVER; // also an obs-fold line, which starts with a space
    const name = line.slice(0, colon);
    const kind = kindOf(name);
    if (kind < 0 || kind === NOT_SIMPLE) return HANDOVER;
    const value = trimOws(line, colon + 1);
    if (BAD_VALUE_RE.test(value)) return HANDOVER; // a lone CR or LF inside a line, or a NUL
    switch (kind) {
      case CONTENT_LENGTH:
        if (value !== '0') return HANDOVER; // a body: node:http reads it
        break;
      case CONNECTION:
        if (!keepAliveAfter(value)) keepAlive = false;
        break;
      case HOST:
        hosts++;
        break;
      case REQUEST_ID:
        requestId = value;
        requestIds++;
        break;
    }
    rawHeaders.push(name, value);
    if (rawHeaders.length > 2 * MAX_HEADERS) return HANDOVER;
  }
  // HTTP/1.1 needs exactly one Host: node:http answers 400 to none, the params builder to two
  if (hosts !== 1) return HANDOVER;
  return {
    method,
    url,
    rawHeaders,
    length: end + 4,
    keepAlive,
    requestId: requestIds === 1 ? requestId : undefined,
  };
}

/** `value` of a Connection header: false when it lists `close`. */
function keepAliveAfter(value: string): boolean {
  if (value.length === 10 && value.toLowerCase() === 'keep-alive') return true;
  for (const token of value.split(',')) if (token.trim().toLowerCase() === 'close') return false;
  return true;
}

function trimOws(line: string, from: number): string {
  let start = from;
  let end = line.length;
  while (start < end && (line.charCodeAt(start) === 0x20 || line.charCodeAt(start) === 0x09)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 0x20 || line.charCodeAt(end - 1) === 0x09)) end--;
  return line.slice(start, end);
}
