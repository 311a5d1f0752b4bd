// Turns schema issues into the words an operator needs: the field path as it is written in
// the file ("servers[0].maxConnections") and, for a misspelt key, the key that was meant.

import type { z } from 'zod';

/** ["servers", 0, "maxIdle"] → "servers[0].maxIdle". */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

type AnyDef = {
  type: string;
  shape?: Record<string, { _zod: { def: AnyDef } }>;
  element?: { _zod: { def: AnyDef } };
  innerType?: { _zod: { def: AnyDef } };
  in?: { _zod: { def: AnyDef } };
  out?: { _zod: { def: AnyDef } };
};

/**
 * The keys an object accepts at `path`, found by walking the schema through its wrappers
 * (default, optional, preprocess, transform). Empty when the path is not an object.
 */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let def = (schema as unknown as { _zod: { def: AnyDef } })._zod.def;
  let i = 0;
  for (let guard = 0; guard < 64; guard++) {
    switch (def.type) {
      case 'object': {
        if (i === path.length) return Object.keys(def.shape ?? {});
        const next = def.shape?.[String(path[i++])];
        if (next === undefined) return [];
        def = next._zod.def;
        break;
      }
      case 'array':
        if (i === path.length) return [];
        i++;
        def = def.element!._zod.def;
        break;
      case 'pipe':
        // preprocess = pipe(transform, schema); .transform() = pipe(schema, transform).
        def = def.in!._zod.def.type === 'transform' ? def.out!._zod.def : def.in!._zod.def;
        break;
      case 'default':
      case 'prefault':
      case 'optional':
      case 'nullable':
        def = def.innerType!._zod.def;
        break;
      default:
        return [];
    }
  }
  return [];
}

/** The known key closest to `key` (case slips, up to two edits), if any. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    if (candidate.toLowerCase() === lower) return candidate;
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
