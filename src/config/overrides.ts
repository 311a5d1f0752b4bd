// Environment variables and command-line flags that override the configuration file.
// One table serves both so an operator finds the same knobs under both names, and so an
// error can say which variable or flag a bad value came from. docs/config.md prints it.

import { splitList } from './units.ts';

/** Serve flags as the CLI hands them over (already typed by the flag parser). */
export interface ConfigFlags {
  threads?: number;
  fastPath?: boolean;
  httpFront?: string;
  warmUp?: number;
  http?: string;
  grpc?: string;
  admin?: string;
  backend?: string[];
  docroot?: string;
  index?: string;
  serverName?: string;
  staticFiles?: boolean;
  checkScriptExists?: boolean;
  trustedProxy?: string[];
  maxBody?: number;
  keepAliveTimeout?: number;
  maxConnections?: number;
  maxIdle?: number;
  reuse?: string;
  connectTimeout?: number;
  readTimeout?: number;
  purgeDelay?: number;
  queueTimeout?: number;
  logLevel?: string;
  accessLog?: boolean;
}

export interface Override {
  /** Where the value lands in the configuration. */
  readonly path: readonly string[];
  readonly env?: string;
  readonly flag?: keyof ConfigFlags;
  /** The flag as typed, for messages. */
  readonly option?: string;
  /** Environment form is comma-separated. */
  readonly list?: boolean;
}

/** The file path itself; read by loadConfig, not part of the configuration. */
export const CONFIG_FILE_ENV = 'FCGI_POOL_CONFIG';

export const OVERRIDES: readonly Override[] = [
  { path: ['threads'], env: 'FCGI_POOL_THREADS', flag: 'threads', option: '--threads' },
  { path: ['fastPath'], env: 'FCGI_POOL_FAST_PATH', flag: 'fastPath', option: '--fast-path' },
  { path: ['httpFront'], env: 'FCGI_POOL_HTTP_FRONT', flag: 'httpFront', option: '--http-front' },
  { path: ['warmUp', 'requests'], env: 'FCGI_POOL_WARM_UP', flag: 'warmUp', option: '--warm-up' },
  { path: ['warmUp', 'maxMs'], env: 'FCGI_POOL_WARM_UP_MAX' },
  { path: ['listen', 'http'], env: 'FCGI_POOL_HTTP', flag: 'http', option: '--http' },
  { path: ['listen', 'grpc'], env: 'FCGI_POOL_GRPC', flag: 'grpc', option: '--grpc' },
  { path: ['listen', 'admin'], env: 'FCGI_POOL_ADMIN', flag: 'admin', option: '--admin' },
  { path: ['servers'], env: 'FCGI_POOL_BACKENDS', flag: 'backend', option: '--backend', list: true },
  { path: ['app', 'docroot'], env: 'FCGI_POOL_DOCROOT', flag: 'docroot', option: '--docroot' },
  { path: ['app', 'index'], env: 'FCGI_POOL_INDEX', flag: 'index', option: '--index' },
  { path: ['app', 'serverName'], env: 'FCGI_POOL_SERVER_NAME', flag: 'serverName', option: '--server-name' },
  {
    path: ['app', 'staticFiles'],
    env: 'FCGI_POOL_STATIC_FILES',
    flag: 'staticFiles',
    option: '--static-files',
  },
  {
    path: ['app', 'checkScriptExists'],
    env: 'FCGI_POOL_CHECK_SCRIPT_EXISTS',
    flag: 'checkScriptExists',
    option: '--check-script-exists',
  },
  {
    path: ['app', 'trustedProxies'],
    env: 'FCGI_POOL_TRUSTED_PROXIES',
    flag: 'trustedProxy',
    option: '--trusted-proxy',
    list: true,
  },
  { path: ['app', 'maxBodyBytes'], env: 'FCGI_POOL_MAX_BODY', flag: 'maxBody', option: '--max-body' },
  {
    path: ['app', 'keepAliveTimeoutMs'],
    env: 'FCGI_POOL_KEEP_ALIVE_TIMEOUT',
    flag: 'keepAliveTimeout',
    option: '--keep-alive-timeout',
  },
  { path: ['app', 'headerTimeoutMs'], env: 'FCGI_POOL_HEADER_TIMEOUT' },
  { path: ['app', 'requestTimeoutMs'], env: 'FCGI_POOL_REQUEST_TIMEOUT' },
  {
    path: ['serverDefaults', 'maxConnections'],
    env: 'FCGI_POOL_MAX_CONNECTIONS',
    flag: 'maxConnections',
    option: '--max-connections',
  },
  { path: ['serverDefaults', 'maxIdle'], env: 'FCGI_POOL_MAX_IDLE', flag: 'maxIdle', option: '--max-idle' },
  { path: ['serverDefaults', 'reuse'], env: 'FCGI_POOL_REUSE', flag: 'reuse', option: '--reuse' },
  {
    path: ['serverDefaults', 'connectTimeoutMs'],
    env: 'FCGI_POOL_CONNECT_TIMEOUT',
    flag: 'connectTimeout',
    option: '--connect-timeout',
  },
  {
    path: ['serverDefaults', 'readTimeoutMs'],
    env: 'FCGI_POOL_READ_TIMEOUT',
    flag: 'readTimeout',
    option: '--read-timeout',
  },
  {
    path: ['serverDefaults', 'purgeDelayMs'],
    env: 'FCGI_POOL_PURGE_DELAY',
    flag: 'purgeDelay',
    option: '--purge-delay',
  },
  {
    path: ['pool', 'queueTimeoutMs'],
    env: 'FCGI_POOL_QUEUE_TIMEOUT',
    flag: 'queueTimeout',
    option: '--queue-timeout',
  },
  { path: ['grpc', 'tokens', 'readOnly'], env: 'FCGI_POOL_GRPC_TOKEN' },
  { path: ['grpc', 'tokens', 'admin'], env: 'FCGI_POOL_GRPC_ADMIN_TOKEN' },
  { path: ['grpc', 'tokens', 'readOnlyFile'], env: 'FCGI_POOL_GRPC_TOKEN_FILE' },
  { path: ['grpc', 'tokens', 'adminFile'], env: 'FCGI_POOL_GRPC_ADMIN_TOKEN_FILE' },
  { path: ['shutdown', 'graceMs'], env: 'FCGI_POOL_SHUTDOWN_GRACE' },
  { path: ['shutdown', 'delayMs'], env: 'FCGI_POOL_SHUTDOWN_DELAY' },
  { path: ['log', 'level'], env: 'FCGI_POOL_LOG_LEVEL', flag: 'logLevel', option: '--log-level' },
  { path: ['log', 'access'], env: 'FCGI_POOL_ACCESS_LOG', flag: 'accessLog', option: '--access-log' },
];

/** A value taken from the environment or a flag, with the name to quote when it is wrong. */
export interface OverrideValue {
  readonly override: Override;
  readonly value: unknown;
  readonly source: string;
}

/**
 * Values set in `env`. Strings are left as typed (the schema parses "8m", "on", "5000"), so a
 * bad value is reported once, by the schema, with the field and the variable name.
 * An empty variable counts as unset, as shells and Kubernetes manifests produce them.
 */
export function overridesFromEnv(env: NodeJS.ProcessEnv): OverrideValue[] {
  const out: OverrideValue[] = [];
  for (const override of OVERRIDES) {
    if (override.env === undefined) continue;
    const text = env[override.env];
    if (text === undefined || text.trim() === '') continue;
    out.push({ override, value: override.list ? splitList(text) : text, source: override.env });
  }
  return out;
}

export function overridesFromFlags(flags: ConfigFlags): OverrideValue[] {
  const out: OverrideValue[] = [];
  for (const override of OVERRIDES) {
    if (override.flag === undefined) continue;
    const value = flags[override.flag];
    if (value === undefined) continue;
    out.push({ override, value, source: override.option ?? override.flag });
  }
  return out;
}

/**
 * Writes the values into `raw` (a plain object from the file). Lists replace lists. A
 * serverDefaults value also clears that field on every server already listed, so a flag
 * like --max-connections applies to all backends, including those from the file.
 * Returns the source of each path written, for error messages.
 */
export function applyOverrides(
  raw: Record<string, unknown>,
  values: readonly OverrideValue[],
): Map<string, string> {
  const sources = new Map<string, string>();
  for (const { override, value, source } of values) {
    const { path } = override;
    let node = raw;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const leaf = path[path.length - 1];
    node[leaf] = Array.isArray(value) ? [...value] : value;
    sources.set(path.join('.'), source);
    if (path[0] === 'serverDefaults' && Array.isArray(raw.servers)) {
      for (const server of raw.servers) {
        if (server !== null && typeof server === 'object') delete (server as Record<string, unknown>)[leaf];
      }
    }
  }
  return sources;
}
