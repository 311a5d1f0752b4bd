// app.checkScriptExists: when the docroot is on this machine, a script is looked up before
// php-fpm is asked. A missing script is a 404 here, so php-fpm's cgi.fix_pathinfo fallback
// never gets the chance to walk back from "/upload/evil.jpg/x.php" to "evil.jpg". The file
// must be a regular file whose real path (symlinks resolved) stays inside the real docroot.
// Lookups are cached briefly, like nginx's open_file_cache: deployments change files
// seconds apart, requests arrive microseconds apart.

import { realpath, stat } from 'node:fs/promises';

export type ScriptCheck = 'ok' | 'missing' | 'outside';

export interface ScriptCheckerOptions {
  /** How long an answer is reused (default 1000 ms; 0 disables the cache). */
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export function createScriptChecker(
  docroot: string,
  options: ScriptCheckerOptions = {},
): (scriptFilename: string) => Promise<ScriptCheck> {
  const ttl = options.ttlMs ?? 1000;
  const maxEntries = options.maxEntries ?? 4096;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; result: ScriptCheck }>();
  let root: Promise<string> | undefined;

  const check = async (file: string): Promise<ScriptCheck> => {
    root ??= realpath(docroot).catch((err) => {
      root = undefined; // the docroot may appear later (a volume mounted after start)
      throw err;
    });
    let realRoot: string;
    let real: string;
    try {
      realRoot = await root;
      real = await realpath(file);
    } catch {
      return 'missing';
    }
    if (real !== realRoot && !real.startsWith(realRoot === '/' ? '/' : `${realRoot}/`)) return 'outside';
    try {
      return (await stat(real)).isFile() ? 'ok' : 'missing';
    } catch {
      return 'missing';
    }
  };

  return async (file) => {
    if (ttl <= 0) return check(file);
    const t = now();
    const hit = cache.get(file);
    if (hit !== undefined && t - hit.at < ttl) return hit.result;
    const result = await check(file);
    if (cache.size >= maxEntries) cache.clear();
    cache.set(file, { at: t, result });
    return result;
  };
}
