// Field builders of the configuration schema: each accepts the human forms an operator types
// (YAML, environment, flags) and fails with a message that says what the field must be; the
// loader prefixes the field's path.

import { isIP } from 'node:net';
import { z } from 'zod';
import {
  type BackendAddress,
  type ListenAddress,
  parseBackendAddress,
  parseListenAddress,
} from './address.ts';
import { formatByteSize, parseBoolean, parseByteSize, parseDecimal } from './units.ts';

export function intField(min: number, max?: number) {
  const message =
    max !== undefined
      ? `must be an integer from ${min} to ${max}`
      : min === 1
        ? 'must be a positive integer'
        : min === 0
          ? 'must be a non-negative integer'
          : `must be an integer of at least ${min}`;
  const base = z.int({ error: message }).min(min, { error: message });
  return z.preprocess(
    (v) => (typeof v === 'string' ? (parseDecimal(v) ?? v) : v),
    max === undefined ? base : base.max(max, { error: message }),
  );
}

export function bytesField(min: number, max: number) {
  const message = `must be a size from ${formatByteSize(min)} to ${formatByteSize(max)}, such as 65536, 512k or 8m`;
  return z.preprocess(
    (v) => (typeof v === 'string' ? (parseByteSize(v) ?? v) : v),
    z.int({ error: message }).min(min, { error: message }).max(max, { error: message }),
  );
}

export function boolField() {
  return z.preprocess(
    (v) => (typeof v === 'string' ? (parseBoolean(v) ?? v) : v),
    z.boolean({ error: 'must be true or false (on/off)' }),
  );
}

export function textField(what = 'a non-empty string') {
  return z
    .string({ error: `must be ${what}` })
    .min(1, { error: `must be ${what}` })
    .refine((s) => !s.includes('\0'), { error: 'must not contain a NUL byte' });
}

export function enumField<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(', ')}` });
}

export function listenField(fallback: string) {
  return z
    .string({ error: 'must be an address such as 0.0.0.0:8080' })
    .transform((s, ctx): ListenAddress => {
      try {
        return parseListenAddress(s);
      } catch (err) {
        ctx.issues.push({ code: 'custom', message: (err as Error).message, input: s });
        return z.NEVER;
      }
    })
    .prefault(fallback);
}

export const backendAddressField = z
  .string({ error: 'must be host:port or unix:/path' })
  .transform((s, ctx): BackendAddress => {
    try {
      return parseBackendAddress(s);
    } catch (err) {
      ctx.issues.push({ code: 'custom', message: (err as Error).message, input: s });
      return z.NEVER;
    }
  });

/** An absolute path, normalised: single slashes, no trailing slash, no "." or ".." segment. */
export function absolutePathField(what: string) {
  return textField(`an absolute path (${what})`).transform((s, ctx) => {
    if (!s.startsWith('/')) {
      ctx.issues.push({ code: 'custom', message: `must be an absolute path, got "${s}"`, input: s });
      return z.NEVER;
    }
    const segments = s.split('/').filter((seg) => seg !== '' && seg !== '.');
    if (segments.includes('..')) {
      ctx.issues.push({ code: 'custom', message: 'must not contain ".." segments', input: s });
      return z.NEVER;
    }
    return `/${segments.join('/')}`;
  });
}

export function ipOrCidr(text: string): boolean {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(ip);
  if (family === 0) return false;
  if (slash < 0) return true;
  const bits = text.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

export const PARAM_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function pathInfoRegexProblem(source: string): string | undefined {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (err) {
    return `is not a valid regular expression: ${(err as Error).message}`;
  }
  // Matching the empty alternative reveals the group count without knowing any input.
  const groups = new RegExp(`${re.source}|`).exec('')!.length - 1;
  if (groups < 1) return 'needs a capture group for SCRIPT_NAME, e.g. ^(.+?\\.php)(/.*)?$';
  return undefined;
}
