// Reads the YAML configuration file and remembers where each value sits, so a validation
// error can point at "fcgi-pool.yaml:12" instead of leaving the operator to search.

import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../errors.ts';

export interface ConfigFile {
  /** The document as plain data ({} for an empty file). */
  readonly raw: Record<string, unknown>;
  /** "file:line" of the value at `path` (or of its nearest ancestor present in the file). */
  locate(path: readonly PropertyKey[], asKey?: boolean): string | undefined;
}

export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `cannot read ${file}: ${(err as Error).message}`);
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): ConfigFile {
  const lineCounter = new LineCounter();
  // uniqueKeys: a key written twice is almost always a merge accident; YAML 1.2 forbids it.
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const pos = syntax.linePos?.[0];
    const where = pos === undefined ? file : `${file}:${pos.line}:${pos.col}`;
    // The first line of yaml's message is the reason (its position is already in `where`);
    // the rest is a source excerpt.
    const reason = syntax.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(where, `YAML syntax error: ${reason}`);
  }
  const data: unknown = doc.toJS();
  if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
    throw new ConfigError(file, 'the configuration file must hold a mapping of settings (key: value)');
  }
  const raw = (data ?? {}) as Record<string, unknown>;

  const lineOf = (offset: number | undefined): string | undefined =>
    offset === undefined ? undefined : `${file}:${lineCounter.linePos(offset).line}`;

  return {
    raw,
    locate(path, asKey = false) {
      if (asKey && path.length > 0) {
        const parent = doc.getIn(path.slice(0, -1), true);
        if (isMap(parent)) {
          const name = path[path.length - 1];
          const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === name);
          const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
          if (range !== undefined) return lineOf(range[0]);
        }
      }
      for (let n = path.length; n > 0; n--) {
        const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
        if (node?.range !== undefined) return lineOf(node.range[0]);
      }
      return undefined;
    },
  };
}
