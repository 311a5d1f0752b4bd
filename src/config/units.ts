// Parsers for the human forms a value can take in YAML, environment variables and flags
// ("8m", "on", "5000"). Each returns undefined when the text is not of its form, so the
// schema can report the field with one consistent message instead of a parser-specific one.

const SIZE_RE = /^(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i;

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * "8m", "8M", "8MiB", "512k", "1048576" → bytes. Units are powers of 1024 whatever the
 * spelling, as in php.ini (post_max_size=8M) and nginx (client_max_body_size 8m), because
 * those are the limits these values are set against.
 */
export function parseByteSize(text: string): number | undefined {
  const m = SIZE_RE.exec(text.trim());
  if (m === null) return undefined;
  const n = Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()];
  return Number.isSafeInteger(n) ? n : undefined;
}

/** 8388608 → "8m", 1000 → "1000": the shortest form parseByteSize reads back exactly. */
export function formatByteSize(n: number): string {
  for (const [unit, size] of [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

const TRUE_WORDS = new Set(['true', 'on', 'yes', '1']);
const FALSE_WORDS = new Set(['false', 'off', 'no', '0']);

/** "on"/"off", "true"/"false", "yes"/"no", "1"/"0" (any case) → boolean. */
export function parseBoolean(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (TRUE_WORDS.has(t)) return true;
  if (FALSE_WORDS.has(t)) return false;
  return undefined;
}

/** Decimal digits only (no sign, no exponent, no "0x"): "5000" → 5000. */
export function parseDecimal(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** "a, b,,c" → ["a", "b", "c"]: the list form of environment variables. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
