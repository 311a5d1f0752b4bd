// Argument checks of the control RPCs. Each refusal is a ConfigError naming the proto field
// ("to_thread: must be a thread from 0 to 1"), which the handlers answer with INVALID_ARGUMENT;
// an unknown server name is a NotFoundError (NOT_FOUND).
import { ConfigError } from '../errors.ts';
import { NotFoundError, type PoolRuntime } from '../pool/pool-runtime.ts';

/** The part of PoolRuntime the checks read. */
export type RuntimeView = Pick<PoolRuntime, 'threads' | 'servers' | 'serverIndex'>;

/** An optional thread: undefined when unset, else a thread number that exists. */
export function optionalThread(
  rt: RuntimeView,
  field: string,
  value: number | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value >= rt.threads) {
    throw new ConfigError(field, `must be a thread from 0 to ${rt.threads - 1}`);
  }
  return value;
}

export function requiredThread(rt: RuntimeView, field: string, value: number | undefined): number {
  if (value === undefined) throw new ConfigError(field, `is required: a thread from 0 to ${rt.threads - 1}`);
  return optionalThread(rt, field, value) as number;
}

/** A server filter: undefined when unset, else the index of the named server. */
export function optionalServer(rt: RuntimeView, field: string, name: string | undefined): number | undefined {
  if (name === undefined) return undefined;
  return serverByName(rt, field, name);
}

/** A server the RPC acts on; it may be left out when the pool has exactly one server. */
export function targetServer(rt: RuntimeView, field: string, name: string | undefined): number {
  if (name !== undefined) return serverByName(rt, field, name);
  const live = rt.servers.flatMap((s, i) => (s ? [i] : []));
  if (live.length === 1) return live[0];
  throw new ConfigError(
    field,
    live.length === 0
      ? 'is required (the pool has no server)'
      : 'is required when the pool has several servers',
  );
}

export function serverByName(rt: RuntimeView, field: string, name: string): number {
  if (name === '') throw new ConfigError(field, 'must be a server name, got an empty string');
  const index = rt.serverIndex(name);
  if (index < 0) throw new NotFoundError(`${field}: no server named "${name}"`);
  return index;
}

/** A whole number from min to max, or `fallback` when unset. */
export function intInRange(
  field: string,
  value: number | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, `must be from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** A uint64 id (a string under longs: String) that fits a JavaScript number exactly. */
export function optionalId(field: string, value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ConfigError(field, `must be a connection id, got ${value}`);
  return n;
}

/** A non-empty string field. */
export function requiredText(field: string, value: string | undefined): string {
  if (value === undefined || value.trim() === '') throw new ConfigError(field, 'is required');
  return value;
}

/** FastCGI params: names are non-empty and neither names nor values hold a NUL byte. */
export function params(field: string, value: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, v] of Object.entries(value ?? {})) {
    if (name === '') throw new ConfigError(field, 'names must not be empty');
    if (name.includes('\0') || v.includes('\0')) {
      throw new ConfigError(`${field}[${name.replace(/\0/g, '\\0')}]`, 'must not contain a NUL byte');
    }
    out[name] = v;
  }
  return out;
}
