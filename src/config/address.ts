// Address forms of the configuration: backends ("host:port", "[v6]:port", "unix:/path") and
// listeners ("host:port", ":port"). Parsing is strict so that a typo fails at start with the
// reason, not later as a connect error against a surprising host.

import { isIP } from 'node:net';

export type BackendAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Linux sun_path holds 108 bytes including the terminating NUL; a longer path fails at
 * connect time with a confusing ENAMETOOLONG or, worse, silently truncated on some systems.
 */
const MAX_UNIX_PATH_BYTES = 107;

// RFC 1123 host names; "_" is tolerated because service-discovery names (SRV targets,
// some Kubernetes setups) carry it.
const HOST_NAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** Throws an Error whose message says what is wrong; the caller adds the field name. */
export function parseBackendAddress(text: string): BackendAddress {
  const t = text.trim();
  if (t.startsWith('unix:')) {
    const path = t.slice('unix:'.length);
    if (path.length === 0) throw new Error('"unix:" needs a socket path, e.g. unix:/run/php/php-fpm.sock');
    if (!path.startsWith('/')) throw new Error(`unix socket path must be absolute, got "${path}"`);
    if (Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES) {
      throw new Error(`unix socket path is longer than ${MAX_UNIX_PATH_BYTES} bytes`);
    }
    if (path.includes('\0')) throw new Error('unix socket path contains a NUL byte');
    return { kind: 'unix', path };
  }
  const { host, port } = splitHostPort(t, 'backend');
  if (port === 0) throw new Error(`port must be from 1 to 65535 in "${t}"`);
  return { kind: 'tcp', host, port };
}

/** "0.0.0.0:8080", "[::]:8080", "localhost:0" (port 0: any free port), ":8080" (all IPv4 interfaces). */
export function parseListenAddress(text: string): ListenAddress {
  const t = text.trim();
  if (t.startsWith(':')) return { host: '0.0.0.0', port: parsePort(t.slice(1), t) };
  return splitHostPort(t, 'listen');
}

export function formatAddress(a: BackendAddress | ListenAddress): string {
  if ('kind' in a && a.kind === 'unix') return `unix:${a.path}`;
  const { host, port } = a as { host: string; port: number };
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Whether a listen address is reachable only from this host (gRPC without TLS is refused elsewhere). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function splitHostPort(t: string, what: 'backend' | 'listen'): { host: string; port: number } {
  if (t.length === 0) throw new Error('address is empty');
  let host: string;
  let portText: string;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0) throw new Error(`missing "]" in "${t}"`);
    host = t.slice(1, close);
    if (isIP(host) !== 6) throw new Error(`"${host}" in brackets is not an IPv6 address`);
    if (t[close + 1] !== ':') throw new Error(`"${t}" needs a port, e.g. [${host}]:9000`);
    portText = t.slice(close + 2);
  } else {
    const colon = t.lastIndexOf(':');
    if (colon < 0) {
      const hint = what === 'backend' ? 'host:9000 or unix:/path/to.sock' : 'host:8080';
      throw new Error(`"${t}" needs a port, e.g. ${hint}`);
    }
    host = t.slice(0, colon);
    portText = t.slice(colon + 1);
    if (host.includes(':')) throw new Error(`put IPv6 addresses in brackets, e.g. [${host}]:${portText}`);
    if (isIP(host) === 0 && !HOST_NAME_RE.test(host))
      throw new Error(`"${host}" is not a valid host name or IP address`);
  }
  return { host, port: parsePort(portText, t) };
}

function parsePort(text: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new Error(`port must be a number in "${whole}"`);
  const port = Number(text);
  if (port > 65535) throw new Error(`port must be from 1 to 65535 in "${whole}"`);
  return port;
}
