// The bodies of the gateway's own error responses, in one place: short text/plain that says
// why, so a curl user or a log reader knows whether to fix the request or page someone.
// Client errors (4xx) include the detail, which is about the client's own request. Server
// errors (5xx) do not: details name backends and addresses, and belong in the log, which
// the X-Request-Id response header lets an operator find.

import { type OutgoingHttpHeaders, STATUS_CODES } from 'node:http';

export interface ErrorReply {
  /** The status line's reason phrase, the one the body's first line names. */
  readonly reason: string;
  readonly body: Buffer;
  readonly headers: OutgoingHttpHeaders;
}

const EXPLANATIONS: Readonly<Record<number, string>> = {
  400: 'The request could not be understood.',
  403: 'The request path is not allowed.',
  404: 'There is no script or file at this path.',
  405: 'This method is not allowed here.',
  408: 'The request took too long to arrive.',
  411: 'The request body needs a length.',
  413: 'The request body is larger than this server accepts.',
  414: 'The request URI is too long.',
  416: 'The requested range is not inside the file.',
  431: 'The request headers are too large to pass to the application.',
  500: 'The gateway failed while handling the request.',
  501: 'The request body uses a transfer coding other than chunked.',
  502: 'The PHP backend failed or sent an invalid response.',
  503: 'No PHP backend worker is free right now; try again shortly.',
  504: 'The PHP backend did not answer in time.',
  505: 'Only HTTP/1.0 and HTTP/1.1 are served here.',
};

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  411: 'Length Required',
  413: 'Content Too Large',
  414: 'URI Too Long',
  416: 'Range Not Satisfiable',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** 5xx bodies are the same every time; under overload (a 503 storm) they cost no allocation. */
const fixedBodies = new Map<number, Buffer>();

/**
 * `detail` is shown for 4xx only (and only its first line, at most 200 characters, so a
 * reflected value cannot grow the page or add lines).
 */
export function errorReply(status: number, detail?: string): ErrorReply {
  let body: Buffer;
  if (status >= 500 || detail === undefined || detail === '') {
    body = fixedBodies.get(status) ?? makeFixed(status);
  } else {
    const line = detail.split(/[\r\n]/, 1)[0].slice(0, 200);
    body = Buffer.from(`${head(status)}${line}\n`, 'utf8');
  }
  const headers: OutgoingHttpHeaders = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
  };
  // A queue that is full now drains within a second or so at php-fpm speeds.
  if (status === 503) headers['Retry-After'] = '1';
  return { reason: reasonPhrase(status), body, headers };
}

/**
 * A whole HTTP/1.1 error response that closes the connection, for a socket no response object
 * serves (a CONNECT request, which node:http hands over raw).
 */
export function errorMessage(status: number, detail?: string, extra: OutgoingHttpHeaders = {}): Buffer {
  const { reason, body, headers } = errorReply(status, detail);
  Object.assign(headers, extra);
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  return Buffer.concat([Buffer.from(`${head}Connection: close\r\n\r\n`, 'latin1'), body]);
}

function head(status: number): string {
  const explanation = EXPLANATIONS[status] ?? (status >= 500 ? EXPLANATIONS[500] : EXPLANATIONS[400]);
  return `${status} ${reasonPhrase(status)}\n${explanation}\n`;
}

/** RFC 9110's names (413 is "Content Too Large", where node:http still says "Payload"). */
function reasonPhrase(status: number): string {
  return REASONS[status] ?? STATUS_CODES[status] ?? 'Error';
}

function makeFixed(status: number): Buffer {
  const body = Buffer.from(head(status), 'utf8');
  fixedBodies.set(status, body);
  return body;
}
