// The whole configuration of fcgi-pool, with defaults chosen for php-fpm's stock www.conf.
// Every field accepts the human forms an operator types in YAML or the environment
// ("8m", "on", "5000"), and every error message says what the field must be, because the
// loader prefixes it with the field's path (servers[0].maxConnections: must be ...).
// docs/config.md lists the fields, defaults, environment variables and flags.

import os from 'node:os';
import { z } from 'zod';
import { formatAddress, isLoopbackHost } from './address.ts';
import {
  absolutePathField,
  boolField,
  bytesField,
  enumField,
  intField,
  ipOrCidr,
  listenField,
  PARAM_NAME_RE,
  pathInfoRegexProblem,
  textField,
} from './fields.ts';
import { resolveServer, ServerDefaultsSchema, ServerEntrySchema } from './server-schema.ts';

/**
 * Upper bound of worker threads: past a few dozen, threads only add lock contention and
 * cross-thread hand-offs, and a bound keeps the shared-memory layout small.
 */
export const MAX_THREADS = 64;

export const HTTP_FRONTS = ['fast', 'node'] as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const MiB = 1024 * 1024;

// ---- sections ----------------------------------------------------------------------------

const ListenSchema = z
  .strictObject({
    http: listenField('0.0.0.0:8080'),
    /** Loopback by default: the control plane can purge and drain, so it is not exposed unasked. */
    grpc: listenField('127.0.0.1:50051'),
    admin: listenField('0.0.0.0:8081'),
  })
  .prefault({});

const AppSchema = z
  .strictObject({
    /** DOCUMENT_ROOT as php-fpm sees it (php-fpm may run in another pod: nothing here is read locally). */
    docroot: absolutePathField('the document root as php-fpm sees it').prefault('/srv/www'),
    /** Appended to directory URIs (those ending in "/"), like nginx fastcgi_index. */
    index: textField('a file name')
      .refine((s) => !s.includes('/'), { error: 'must be a file name without "/"' })
      .default('index.php'),
    /**
     * Splits the decoded, normalised path: group 1 is SCRIPT_NAME, the rest of the path is
     * PATH_INFO (nginx fastcgi_split_path_info). No flags: matching is case-sensitive ASCII.
     */
    pathInfoRegex: z
      .string({ error: 'must be a regular expression' })
      .superRefine((s, ctx) => {
        const problem = pathInfoRegexProblem(s);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .default('^(.+?\\.php)(/.*)?$'),
    /** Only script names ending in one of these reach php-fpm (matched case-sensitively). */
    scriptExtensions: z
      .array(
        z.string().regex(/^\.[A-Za-z0-9_-]+$/, { error: 'must be an extension with its dot, e.g. ".php"' }),
        { error: 'must be a list of extensions such as [".php"]' },
      )
      .min(1, { error: 'must list at least one extension' })
      .default(() => ['.php']),
    /**
     * Send every path to the backend, whatever its extension (apps that route by REQUEST_URI:
     * the embedded responder, a non-PHP FastCGI app). Static files are then never served.
     */
    routeAll: boolField().default(false),
    /** Extra FastCGI params; they win over generated ones and may set PHP_VALUE/PHP_ADMIN_VALUE. */
    params: z
      .record(
        z.string().regex(PARAM_NAME_RE, { error: 'param names must look like NAME_1' }),
        z.string({ error: 'must be a string' }).refine((s) => !s.includes('\0'), {
          error: 'must not contain a NUL byte',
        }),
        { error: 'must be a map of NAME: value' },
      )
      .default(() => ({})),
    /** SERVER_NAME; default: the HTTP listen host, or the machine's host name when that is a wildcard. */
    serverName: textField('a host name').optional(),
    /** Serve non-script files from docroot (needs docroot on this machine). */
    staticFiles: boolField().default(false),
    /** Answer 404 for scripts missing under docroot before asking php-fpm (needs docroot on this machine). */
    checkScriptExists: boolField().default(false),
    /** Peers whose X-Forwarded-For / X-Forwarded-Proto are believed: IPs or CIDRs, v4 or v6. */
    trustedProxies: z
      .array(z.string().refine(ipOrCidr, { error: 'must be an IP address or CIDR such as 10.0.0.0/8' }), {
        error: 'must be a list of IP addresses or CIDRs',
      })
      .default(() => []),
    /** Largest request body; matches PHP's default post_max_size of 8M. */
    maxBodyBytes: bytesField(0, 64 * 1024 * MiB).default(8 * MiB),
    /** Largest request head (Node's http maxHeaderSize; 16 KiB is Node's default). */
    maxHeaderBytes: bytesField(1024, 1 * MiB).default(16 * 1024),
    /** Largest encoded PARAMS set; a request that needs more gets 431 (never truncated). */
    maxParamsBytes: bytesField(1024, 16 * MiB).default(64 * 1024),
    /** Largest CGI response head from php-fpm; more is a 502 ("upstream sent too big header"). */
    maxResponseHeaderBytes: bytesField(1024, 1 * MiB).default(32 * 1024),
    /** Where request bodies of unknown length are spooled to learn CONTENT_LENGTH. */
    spoolDir: absolutePathField('a directory for request bodies').prefault(os.tmpdir()),
    /** Retry POST/PATCH/... on a fresh connection when a reused one failed before any response byte. */
    retryNonIdempotent: boolField().default(false),
    /**
     * An idle client connection closes after this long. nginx's keepalive_timeout (75 s): above
     * the 60 s that load balancers (AWS ALB, ingress-nginx) keep an idle upstream connection, so
     * they never send a request on a connection this side is closing.
     */
    keepAliveTimeoutMs: intField(1).default(75_000),
    /** A request head must arrive within this long, or it is a 408 (nginx client_header_timeout). */
    headerTimeoutMs: intField(1).default(60_000),
    /** A request, head and body, must arrive within this long, or it is a 408 (node:http's default). */
    requestTimeoutMs: intField(1).default(300_000),
  })
  .prefault({});

const PoolSchema = z
  .strictObject({
    /** Longest wait for a connection before 503 (HAProxy timeout queue). 0: never queue. */
    queueTimeoutMs: intField(0).default(10_000),
    /** Waiting requests per worker thread before 503. */
    maxQueue: intField(0).default(1024),
    /** A waiter older than this elsewhere gets a freed connection before the local queue. */
    starvationBoundMs: intField(0).default(5),
    /** Never steal from a thread left with this many idle connections or fewer (HAProxy pool-low-conn). */
    lowIdleNoSteal: intField(0).default(0),
    /** Give up on a cross-thread hand-off after this long and open or queue instead. */
    handoffTimeoutMs: intField(1).default(200),
    /** Server slots in shared memory, including room for servers added at run time. */
    maxServers: intField(1, 4096).default(16),
  })
  .prefault({});

const GrpcSchema = z
  .strictObject({
    tokens: z
      .strictObject({
        readOnly: textField('a token').optional(),
        admin: textField('a token').optional(),
        readOnlyFile: absolutePathField('a file holding the token').optional(),
        adminFile: absolutePathField('a file holding the token').optional(),
      })
      .prefault({}),
    /** Serve gRPC without TLS on a non-loopback address (tokens then cross the network in clear). */
    allowInsecureRemote: boolField().default(false),
    tls: z
      .strictObject({
        cert: absolutePathField('the certificate file'),
        key: absolutePathField('the private key file'),
        ca: absolutePathField('the CA bundle for client certificates').optional(),
        requireClientCert: boolField().default(false),
      })
      .optional(),
  })
  .prefault({});

const ShutdownSchema = z
  .strictObject({
    /** Time given to in-flight requests after SIGTERM before sockets are closed. */
    graceMs: intField(0).default(30_000),
    /** Keep serving this long after SIGTERM so load balancers notice /readyz failing first. */
    delayMs: intField(0).default(0),
  })
  .prefault({});

const DiscoverySchema = z
  .strictObject({
    /** How often DNS names of backends (headless Services) and of peers are resolved again. */
    intervalMs: intField(100).default(5000),
    /** DNS name of fcgi-pool's own headless Service: its records count the replicas. */
    peers: textField('a DNS name').optional(),
  })
  .prefault({});

const WarmUpSchema = z
  .strictObject({
    /**
     * Requests each worker runs through its own gateway, against an in-process FastCGI responder,
     * before its listener opens, so the JIT has compiled the request path when clients arrive.
     * 0: none.
     */
    requests: intField(0, 1_000_000).default(10_000),
    /** Stop the warm-up after this long even if fewer requests ran (it delays readiness). */
    maxMs: intField(0, 60_000).default(3000),
  })
  .prefault({});

const LogSchema = z
  .strictObject({
    level: enumField(LOG_LEVELS).default('info'),
    access: boolField().default(true),
  })
  .prefault({});

// ---- root -------------------------------------------------------------------------------

const RawConfigSchema = z.strictObject({
  threads: intField(1, MAX_THREADS).default(() => Math.min(os.availableParallelism(), MAX_THREADS)),
  /** The USR1 fast path (DESIGN.md §2); false makes every wake-up take the lock, for comparison. */
  fastPath: boolField().default(true),
  /**
   * `fast`: requests without a body are parsed and answered by the gateway's own HTTP/1.1 front,
   * everything else by node:http; `node`: every request through node:http, for comparison.
   */
  httpFront: enumField(HTTP_FRONTS).default('fast'),
  warmUp: WarmUpSchema,
  listen: ListenSchema,
  app: AppSchema,
  serverDefaults: ServerDefaultsSchema,
  /** php-fpm backends; empty: requests go to the embedded responder. */
  servers: z.array(ServerEntrySchema, { error: 'must be a list of servers' }).default(() => []),
  pool: PoolSchema,
  grpc: GrpcSchema,
  shutdown: ShutdownSchema,
  discovery: DiscoverySchema,
  log: LogSchema,
});

export const ConfigSchema = RawConfigSchema.transform((raw, ctx) => {
  const servers = raw.servers.map((entry) => resolveServer(entry, raw.serverDefaults));
  const seen = new Map<string, number>();
  servers.forEach((s, i) => {
    if (s.maxIdle > s.maxConnections) {
      ctx.issues.push({
        code: 'custom',
        path: ['servers', i, 'maxIdle'],
        message: `must not exceed maxConnections (${s.maxIdle} > ${s.maxConnections})`,
        input: s.maxIdle,
      });
    }
    const first = seen.get(s.name);
    if (first !== undefined) {
      ctx.issues.push({
        code: 'custom',
        path: ['servers', i, 'name'],
        message: `"${s.name}" is already the name of servers[${first}]; give each server a distinct name`,
        input: s.name,
      });
    } else seen.set(s.name, i);
  });
  if (raw.app.headerTimeoutMs > raw.app.requestTimeoutMs) {
    ctx.issues.push({
      code: 'custom',
      path: ['app', 'headerTimeoutMs'],
      message: `must not exceed app.requestTimeoutMs (${raw.app.headerTimeoutMs} > ${raw.app.requestTimeoutMs}): the head is part of the request`,
      input: raw.app.headerTimeoutMs,
    });
  }
  if (servers.length > raw.pool.maxServers) {
    ctx.issues.push({
      code: 'custom',
      path: ['pool', 'maxServers'],
      message: `must be at least the number of configured servers (${servers.length})`,
      input: raw.pool.maxServers,
    });
  }
  const { tokens, tls, allowInsecureRemote } = raw.grpc;
  for (const role of ['readOnly', 'admin'] as const) {
    if (tokens[role] !== undefined && tokens[`${role}File`] !== undefined) {
      ctx.issues.push({
        code: 'custom',
        path: ['grpc', 'tokens', `${role}File`],
        message: `set either ${role} or ${role}File, not both`,
        input: tokens[`${role}File`],
      });
    }
  }
  if (tls?.requireClientCert && tls.ca === undefined) {
    ctx.issues.push({
      code: 'custom',
      path: ['grpc', 'tls', 'ca'],
      message: 'is needed to verify client certificates when requireClientCert is true',
      input: undefined,
    });
  }
  if (tls === undefined && !allowInsecureRemote && !isLoopbackHost(raw.listen.grpc.host)) {
    ctx.issues.push({
      code: 'custom',
      path: ['listen', 'grpc'],
      message:
        `${formatAddress(raw.listen.grpc)} is reachable from other hosts: configure grpc.tls, ` +
        'or set grpc.allowInsecureRemote to accept plain-text control traffic',
      input: formatAddress(raw.listen.grpc),
    });
  }
  return { ...raw, servers };
});

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
export type AppConfig = Config['app'];
export type PoolConfig = Config['pool'];
export type GrpcConfig = Config['grpc'];

/** The configuration with nothing set (threads depend on the machine). */
export const DEFAULTS: Config = ConfigSchema.parse({});
