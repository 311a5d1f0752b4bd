// Flag helpers of `fcgi-pool ctl` commands: typed reads of util.parseArgs values, each error a
// ConfigError naming the flag.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';

export type FlagValue = string | boolean | (string | boolean)[] | undefined;

export interface ParsedArgs {
  values: Record<string, FlagValue>;
  positionals: string[];
}

/** A whole number flag, or undefined when absent; ConfigError naming the flag otherwise. */
export function intFlag(values: ParsedArgs['values'], name: string, min = 0): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
    throw new ConfigError(`--${name}`, `must be a whole number${min > 0 ? ` from ${min}` : ''}, got "${v}"`);
  }
  return Number(v);
}

/** A string flag, or undefined. */
export function strFlag(values: ParsedArgs['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Request body for `execute`: --data text or --data-file path ("-": standard input). */
export function readBody(values: ParsedArgs['values']): Buffer {
  const data = strFlag(values, 'data');
  const file = strFlag(values, 'data-file');
  if (data !== undefined && file !== undefined)
    throw new ConfigError('--data', 'give --data or --data-file, not both');
  if (data !== undefined) return Buffer.from(data, 'utf8');
  if (file === undefined) return Buffer.alloc(0);
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    throw new ConfigError('--data-file', `cannot read ${file}: ${(err as Error).message}`);
  }
}

/** SCRIPT_FILENAME for a URI: --script, else --docroot joined with the path, else the path. */
export function scriptFilename(values: ParsedArgs['values'], path: string): string {
  const script = strFlag(values, 'script');
  if (script !== undefined) return script;
  const docroot = strFlag(values, 'docroot');
  return docroot !== undefined ? join(docroot, path) : path;
}
