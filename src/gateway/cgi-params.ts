// The FastCGI params of one HTTP request, as nginx's fastcgi_params and HAProxy's fcgi-app
// build them, with the protections of shared/reference/fastcgi-peers.md §5:
// - httpoxy: a `Proxy` header is never passed (it would become HTTP_PROXY);
// - header names with "_" or "." (or anything but letters, digits and "-") are dropped, so
//   `X_Foo` cannot pose as `X-Foo`: both would become HTTP_X_FOO;
// - generated params win: a header never produces a name we generate, and HTTP_* names set
//   in app.params are not taken from headers;
// - client input only ever produces HTTP_* names, so it cannot reach PHP_VALUE or
//   PHP_ADMIN_VALUE (which persist on the php-fpm worker); only app.params may set them;
// - CONTENT_LENGTH is the exact body size the caller will send, never the header;
// - SERVER_NAME comes from the configuration, never from the Host header;
// - a request whose params exceed app.maxParamsBytes is a 431, never truncated.
// Budget (DESIGN.md §8): the per-app part is built once; per request there is one pass over
// rawHeaders with a cache of header-name translations and no regex per header name.

import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { ListenAddress } from '../config/address.ts';
import { MAX_NV_PAIR_LENGTH } from '../fcgi/constants.ts';
import { utf8Length } from '../fcgi/name-value.ts';
import { resolveClient, TrustedProxies, unmapIPv4 } from './forwarded.ts';
import { ParamList, StaticParams } from './param-list.ts';
import type { ScriptPath } from './script-path.ts';
import { splitRequestTarget } from './script-path.ts';

/** The parts of an http.IncomingMessage the params need; an IncomingMessage fits as is. */
export interface CgiRequest {
  readonly method?: string;
  /** The raw request-target, still percent-encoded. */
  readonly url?: string;
  readonly httpVersion: string;
  /** Node's req.rawHeaders: [name, value, name, value, ...] in arrival order. */
  readonly rawHeaders: readonly string[];
  readonly socket: {
    readonly remoteAddress?: string;
    readonly remotePort?: number;
    readonly localAddress?: string;
    readonly localPort?: number;
    /** Set on TLS sockets. */
    readonly encrypted?: boolean;
  };
}

export interface ParamsAppConfig {
  readonly docroot: string;
  readonly params: Readonly<Record<string, string>>;
  readonly serverName?: string;
  readonly trustedProxies: readonly string[];
  readonly maxParamsBytes: number;
}

export interface ParamsServerInfo {
  /** The HTTP listen address: SERVER_NAME's fallback. */
  readonly listen: ListenAddress;
  /** SERVER_SOFTWARE; default fcgi-pool/<package version>. */
  readonly software?: string;
}

export type ParamsResult =
  | {
      readonly ok: true;
      /** Fresh per request; the caller may patch it (see contentLengthIndex). */
      readonly params: ParamList;
      /** CONTENT_LENGTH's index among params' own pairs, or -1 when app.params sets it. */
      readonly contentLengthIndex: number;
    }
  | { readonly ok: false; readonly status: 400 | 431; readonly reason: string };

export type ParamsBuilder = (req: CgiRequest, script: ScriptPath, contentLength: number) => ParamsResult;

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
export const SERVER_SOFTWARE = `fcgi-pool/${version}`;

/** Request headers that describe our hop, or that PHP must not see (httpoxy). Lower case. */
const DROPPED_HEADERS = new Set([
  'proxy',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'upgrade',
  'proxy-connection',
  'proxy-authorization',
  'http2-settings',
]);

const CONTENT_TYPE = 'CONTENT_TYPE';
const HTTP_COOKIE = 'HTTP_COOKIE';
const HTTP_HOST = 'HTTP_HOST';
const HTTP_X_FORWARDED_FOR = 'HTTP_X_FORWARDED_FOR';
const HTTP_X_FORWARDED_PROTO = 'HTTP_X_FORWARDED_PROTO';
const NON_ASCII = /[^\x00-\x7f]/;
const NAME_CACHE_LIMIT = 1024;

/** A header's CGI name, and where the request being built put it (`seenIn` its number). */
interface CgiName {
  readonly name: string;
  seenIn: number;
  at: number;
}

export function createParamsBuilder(app: ParamsAppConfig, server: ParamsServerInfo): ParamsBuilder {
  const configured = new Set(Object.keys(app.params));
  const serverName = app.serverName ?? defaultServerName(server.listen);
  const documentRoot = app.docroot;
  const docrootPrefix = documentRoot === '/' ? '' : documentRoot;
  const trusted = new TrustedProxies(app.trustedProxies);
  const maxBytes = app.maxParamsBytes;

  // The per-app part, encoded once: generated constants, then app.params (which win).
  const generated: Array<[string, string]> = [
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_SOFTWARE', server.software ?? SERVER_SOFTWARE],
    ['DOCUMENT_ROOT', documentRoot],
    ['SERVER_NAME', serverName],
    // php-cgi (and php-fpm built with force-cgi-redirect) refuses to run without it.
    ['REDIRECT_STATUS', '200'],
  ];
  const statics = new StaticParams([
    ...generated.filter(([name]) => !configured.has(name)),
    ...Object.entries(app.params),
  ]);

  // Header name → its CGI name, or null when the header is dropped. Names repeat from request
  // to request (and in different spellings), so the translation is cached, bounded: one entry
  // per CGI name, which also marks where this request put it (a repeated header joins it).
  const names = new Map<string, CgiName | null>();
  const byCgiName = new Map<string, CgiName>();
  let requestSeq = 0;
  const cgiName = (raw: string): CgiName | null => {
    let entry = names.get(raw);
    if (entry === undefined) {
      const name = translateHeaderName(raw);
      // HTTP_* set in app.params win over the client's header of that name.
      entry = null;
      if (name !== null && !configured.has(name)) {
        entry = byCgiName.get(name) ?? { name, seenIn: 0, at: 0 };
        byCgiName.set(name, entry);
      }
      names.set(raw, entry);
    }
    return entry;
  };

  return (req, script, contentLength) => {
    const params = new ParamList(statics);
    const add = (name: string, value: string, valueBytes: number) => {
      if (configured.size !== 0 && configured.has(name)) return;
      params.push(name, value, valueBytes);
    };

    // CONTENT_LENGTH first, at a known index, so it can be patched once the body is known.
    const contentLengthIndex = configured.has('CONTENT_LENGTH') ? -1 : params.length;
    const cl = String(contentLength);
    add('CONTENT_LENGTH', cl, cl.length);

    // ---- headers: one pass -------------------------------------------------------------
    const raw = req.rawHeaders;
    // between requests only: entries of this request must stay until it is built
    if (names.size >= NAME_CACHE_LIMIT) {
      names.clear();
      byCgiName.clear();
    }
    const seq = ++requestSeq;
    let contentType: string | undefined;
    let forwardedFor: string | undefined;
    let forwardedProto: string | undefined;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const entry = cgiName(raw[i]);
      if (entry === null) continue;
      const name = entry.name;
      let value = raw[i + 1];
      let valueBytes = value.length;
      if (NON_ASCII.test(value)) {
        const utf8 = latin1AsUtf8(value);
        if (utf8 === undefined)
          return { ok: false, status: 400, reason: `header ${raw[i]} is not valid UTF-8` };
        value = utf8;
        valueBytes = utf8Length(value);
      }
      if (name === CONTENT_TYPE) {
        contentType ??= value; // as Node does: a repeated Content-Type is ignored
        continue;
      }
      if (name === HTTP_X_FORWARDED_FOR)
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      else if (name === HTTP_X_FORWARDED_PROTO) {
        forwardedProto = forwardedProto === undefined ? value : `${forwardedProto}, ${value}`;
      }
      if (entry.seenIn !== seq) {
        entry.seenIn = seq;
        entry.at = params.length;
        add(name, value, valueBytes);
      } else {
        // Two Hosts: which one names the site is anyone's guess, so no one guesses (RFC 9112
        // §3.2: a 400, as nginx answers; node:http would keep the first)
        if (name === HTTP_HOST)
          return { ok: false, status: 400, reason: 'the request has more than one Host header' };
        // Repeated header: one param, joined as a single header line would be (RFC 9110
        // §5.3), except Cookie, whose own separator is "; " (RFC 6265 §5.4).
        const sep = name === HTTP_COOKIE ? '; ' : ', ';
        const joinedBytes = params.valueBytes(entry.at) + sep.length + valueBytes;
        params.set(entry.at, params.value(entry.at) + sep + value, joinedBytes);
      }
    }
    if (contentType !== undefined) add(CONTENT_TYPE, contentType, utf8Length(contentType));

    // ---- the request line and the connection ------------------------------------------
    let url = req.url ?? '/';
    if (NON_ASCII.test(url)) {
      const utf8 = latin1AsUtf8(url);
      if (utf8 === undefined)
        return { ok: false, status: 400, reason: 'the request target is not valid UTF-8' };
      url = utf8;
    }
    let requestUri = url;
    let query = '';
    const q = url.indexOf('?');
    if (url.charCodeAt(0) !== 0x2f) {
      // absolute-form: REQUEST_URI is the origin-form part, as PHP apps expect
      const target = splitRequestTarget(url);
      if (target !== undefined) {
        query = target.query;
        requestUri = query === '' ? target.path : `${target.path}?${query}`;
      }
    } else if (q >= 0) query = url.slice(q + 1);

    const method = req.method ?? 'GET';
    add('REQUEST_METHOD', method, method.length);
    add('REQUEST_URI', requestUri, utf8Length(requestUri));
    add('QUERY_STRING', query, utf8Length(query));
    add('SCRIPT_NAME', script.scriptName, utf8Length(script.scriptName));
    add('SCRIPT_FILENAME', script.scriptFilename, utf8Length(script.scriptFilename));
    add('DOCUMENT_URI', script.documentUri, utf8Length(script.documentUri));
    if (script.pathInfo !== '') {
      const translated = docrootPrefix + script.pathInfo;
      add('PATH_INFO', script.pathInfo, utf8Length(script.pathInfo));
      add('PATH_TRANSLATED', translated, utf8Length(translated));
    }
    const protocol = `HTTP/${req.httpVersion}`;
    add('SERVER_PROTOCOL', protocol, protocol.length);

    const socket = req.socket;
    const client = resolveClient(
      {
        address: socket.remoteAddress ?? '',
        port: socket.remotePort ?? 0,
        encrypted: socket.encrypted === true,
      },
      forwardedFor,
      forwardedProto,
      trusted,
    );
    add('REMOTE_ADDR', client.remoteAddr, client.remoteAddr.length);
    add('REMOTE_PORT', client.remotePort, client.remotePort.length);
    const serverAddr = unmapIPv4(socket.localAddress ?? server.listen.host);
    const serverPort = String(socket.localPort ?? server.listen.port);
    add('SERVER_ADDR', serverAddr, serverAddr.length);
    add('SERVER_PORT', serverPort, serverPort.length);
    if (client.https) {
      add('REQUEST_SCHEME', 'https', 5);
      add('HTTPS', 'on', 2);
    } else add('REQUEST_SCHEME', 'http', 4);

    if (params.bytes > maxBytes) {
      return {
        ok: false,
        status: 431,
        reason: `the request needs ${params.bytes} bytes of FastCGI params, more than app.maxParamsBytes (${maxBytes})`,
      };
    }
    if (params.largest > MAX_NV_PAIR_LENGTH) {
      // php-fpm parses each PARAMS record on its own: a pair must fit one record.
      return {
        ok: false,
        status: 431,
        reason: `a header or the URI is larger than one FastCGI record (${params.largest} bytes)`,
      };
    }
    return { ok: true, params, contentLengthIndex };
  };
}

/** SERVER_NAME without app.serverName: the listen host, or this machine's name for a wildcard. */
export function defaultServerName(listen: ListenAddress): string {
  const h = listen.host;
  return h === '0.0.0.0' || h === '::' || h === '' ? hostname() : h;
}

/**
 * "X-Forwarded-For" → "HTTP_X_FORWARDED_FOR"; "Content-Type" → "CONTENT_TYPE"; null for
 * names PHP must not see and names that are not letters, digits and "-" (nginx's
 * ignore_invalid_headers + underscores_in_headers off).
 */
export function translateHeaderName(raw: string): string | null {
  const lower = raw.toLowerCase();
  if (DROPPED_HEADERS.has(lower)) return null;
  if (lower === 'content-type') return CONTENT_TYPE;
  let out = 'HTTP_';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) out += String.fromCharCode(c - 0x20);
    else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) out += raw[i];
    else if (c === 0x2d) out += '_';
    else return null;
  }
  return raw.length === 0 ? null : out;
}

/**
 * Node hands header bytes over one char per byte (latin1). The FastCGI encoder writes
 * UTF-8, so bytes that form UTF-8 are read back as such and reach PHP unchanged; other
 * bytes cannot be carried faithfully and the request is refused.
 */
function latin1AsUtf8(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0xff) return undefined; // not from the wire
  }
  const bytes = Buffer.from(value, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : undefined;
}
