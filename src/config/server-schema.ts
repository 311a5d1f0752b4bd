// One php-fpm backend in the configuration: the tuning fields shared by `serverDefaults` and
// each `servers` entry, and how an entry inherits what it leaves unset. parseServer (load.ts)
// uses the same schema for servers added at run time (gRPC AddServer).

import { z } from 'zod';
import { type BackendAddress, formatAddress } from './address.ts';
import { backendAddressField, enumField, intField, textField } from './fields.ts';

export const REUSE_MODES = ['never', 'safe', 'always'] as const;
export type ReuseMode = (typeof REUSE_MODES)[number];

/**
 * Per-backend tuning, shared by `serverDefaults` (like HAProxy default-server) and each entry
 * of `servers`. maxConnections defaults to 5, php-fpm's stock pm.max_children: more
 * connections than children only queue in php-fpm's listen backlog and end as 504s.
 */
const serverTuning = {
  maxConnections: intField(1, 65535),
  /** Idle connections kept for reuse; default and upper bound: maxConnections. */
  maxIdle: intField(0, 65535),
  reuse: enumField(REUSE_MODES),
  /** Idle connections older than this are closed; keep it below php-fpm's request_terminate_timeout. */
  purgeDelayMs: intField(0),
  /** Close a connection after this many requests (0: unlimited), like HAProxy max-reuse. */
  maxRequestsPerConnection: intField(0),
  connectTimeoutMs: intField(1),
  /** Longest silence from php-fpm during a request (nginx fastcgi_read_timeout). */
  readTimeoutMs: intField(1),
  weight: intField(1, 256),
};

export const ServerDefaultsSchema = z
  .strictObject({
    maxConnections: serverTuning.maxConnections.default(5),
    maxIdle: serverTuning.maxIdle.optional(),
    reuse: serverTuning.reuse.default('always'),
    purgeDelayMs: serverTuning.purgeDelayMs.default(5000),
    maxRequestsPerConnection: serverTuning.maxRequestsPerConnection.default(0),
    connectTimeoutMs: serverTuning.connectTimeoutMs.default(3000),
    readTimeoutMs: serverTuning.readTimeoutMs.default(60_000),
    weight: serverTuning.weight.default(1),
  })
  .prefault({});

/** One `servers` entry: an address string, or an object whose unset fields come from serverDefaults. */
export const ServerEntrySchema = z.preprocess(
  (v) => (typeof v === 'string' ? { address: v } : v),
  z.strictObject(
    {
      /** Label in metrics, logs and gRPC; default: the address as written. */
      name: textField('a server name').max(128, { error: 'must be at most 128 characters' }).optional(),
      address: backendAddressField,
      maxConnections: serverTuning.maxConnections.optional(),
      maxIdle: serverTuning.maxIdle.optional(),
      reuse: serverTuning.reuse.optional(),
      purgeDelayMs: serverTuning.purgeDelayMs.optional(),
      maxRequestsPerConnection: serverTuning.maxRequestsPerConnection.optional(),
      connectTimeoutMs: serverTuning.connectTimeoutMs.optional(),
      readTimeoutMs: serverTuning.readTimeoutMs.optional(),
      weight: serverTuning.weight.optional(),
      /**
       * Children behind each address of this entry (one pod's pm.max_children for a DNS entry),
       * shared by every fcgi-pool replica: with discovery.peers set, maxConnections becomes
       * this ÷ live replicas.
       */
      sharedMaxConnections: intField(1, 1_000_000).optional(),
    },
    { error: 'must be an address string or a server object' },
  ),
);

export type ServerDefaults = z.output<typeof ServerDefaultsSchema>;
export type ServerEntry = z.output<typeof ServerEntrySchema>;

export interface ServerConfig {
  readonly name: string;
  readonly address: BackendAddress;
  readonly maxConnections: number;
  readonly maxIdle: number;
  readonly reuse: ReuseMode;
  readonly purgeDelayMs: number;
  readonly maxRequestsPerConnection: number;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly weight: number;
  readonly sharedMaxConnections?: number;
}

/**
 * Fills an entry's unset fields from the defaults. An inherited maxIdle is capped at the
 * server's maxConnections; an explicit one above it is the caller's error to report.
 */
export function resolveServer(entry: ServerEntry, defaults: ServerDefaults): ServerConfig {
  const maxConnections = entry.maxConnections ?? defaults.maxConnections;
  return {
    name: entry.name ?? formatAddress(entry.address),
    address: entry.address,
    maxConnections,
    maxIdle: entry.maxIdle ?? Math.min(defaults.maxIdle ?? maxConnections, maxConnections),
    reuse: entry.reuse ?? defaults.reuse,
    purgeDelayMs: entry.purgeDelayMs ?? defaults.purgeDelayMs,
    maxRequestsPerConnection: entry.maxRequestsPerConnection ?? defaults.maxRequestsPerConnection,
    connectTimeoutMs: entry.connectTimeoutMs ?? defaults.connectTimeoutMs,
    readTimeoutMs: entry.readTimeoutMs ?? defaults.readTimeoutMs,
    weight: entry.weight ?? defaults.weight,
    ...(entry.sharedMaxConnections !== undefined ? { sharedMaxConnections: entry.sharedMaxConnections } : {}),
  };
}
