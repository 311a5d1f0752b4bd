// Builds the configuration: defaults < YAML file < environment variables < CLI flags.
// Everything is validated once, by the schema, after merging, so a value is judged by the
// same rule wherever it came from, and the error names the field and its source.

import { ConfigError } from '../errors.ts';
import { closestKey, formatPath, knownKeysAt } from './issues.ts';
import {
  applyOverrides,
  CONFIG_FILE_ENV,
  type ConfigFlags,
  overridesFromEnv,
  overridesFromFlags,
} from './overrides.ts';
import { type Config, ConfigSchema } from './schema.ts';
import { resolveServer, type ServerConfig, type ServerDefaults, ServerEntrySchema } from './server-schema.ts';
import { type ConfigFile, readConfigFile } from './yaml-file.ts';

export type { ConfigFlags } from './overrides.ts';

export interface LoadConfigOptions {
  /** YAML file; default: $FCGI_POOL_CONFIG, else none. */
  readonly file?: string;
  /** Default: none (pass process.env explicitly so tests stay hermetic). */
  readonly env?: NodeJS.ProcessEnv;
  readonly flags?: ConfigFlags;
}

/** Throws ConfigError naming the first bad field, e.g. "servers[0].maxConnections: must be ...". */
export function loadConfig(options: LoadConfigOptions): Config {
  const env = options.env ?? {};
  const fileName = options.file ?? (env[CONFIG_FILE_ENV]?.trim() || undefined);
  const file = fileName === undefined ? undefined : readConfigFile(fileName);
  // structuredClone: applyOverrides edits in place and the file's data is kept for locate().
  const raw = structuredClone(file?.raw ?? {});
  const sources = applyOverrides(raw, [...overridesFromEnv(env), ...overridesFromFlags(options.flags ?? {})]);

  const result = ConfigSchema.safeParse(raw);
  if (result.success) return result.data;

  // An unknown key first: it is usually a misspelling that also explains the other problems.
  // Every problem is named, so one fix of the file settles them all.
  const problems = [...result.error.issues]
    .sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'))
    .flatMap((issue): Array<{ field: string; message: string }> => {
      if (issue.code !== 'unrecognized_keys') {
        return [
          {
            field: formatPath(issue.path),
            message: `${issue.message}${describeSource(issue.path, sources, file)}`,
          },
        ];
      }
      return issue.keys.map((key) => {
        const path = [...issue.path, key];
        const hint = closestKey(key, knownKeysAt(ConfigSchema, issue.path));
        const where = describeSource(path, sources, file, true);
        return {
          field: formatPath(path),
          message: `unknown setting${hint === undefined ? '' : ` (did you mean "${hint}"?)`}${where}`,
        };
      });
    });
  const [first, ...rest] = problems;
  const also = rest.map((p) => `\n  and ${p.field}: ${p.message}`).join('');
  throw new ConfigError(first.field, `${first.message}${also}`);
}

/** " (from --threads)", " (from FCGI_POOL_THREADS)", " (fcgi-pool.yaml:7)" or "". */
function describeSource(
  path: readonly PropertyKey[],
  sources: ReadonlyMap<string, string>,
  file: ConfigFile | undefined,
  asKey = false,
): string {
  for (let n = path.length; n > 0; n--) {
    const source = sources.get(path.slice(0, n).map(String).join('.'));
    if (source !== undefined) return ` (from ${source})`;
  }
  const location = file?.locate(path, asKey);
  return location === undefined ? '' : ` (${location})`;
}

/**
 * One server added at run time (gRPC AddServer, DNS discovery), judged by the same rules as
 * the file's `servers` entries; unset fields come from `defaults` (config.serverDefaults).
 * Throws ConfigError naming `${field}.<key>`.
 */
export function parseServer(input: unknown, defaults: ServerDefaults, field = 'server'): ServerConfig {
  const result = ServerEntrySchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
    const message = issue.code === 'unrecognized_keys' ? 'unknown setting' : issue.message;
    throw new ConfigError(path.length === 0 ? field : `${field}.${formatPath(path)}`, message);
  }
  const server = resolveServer(result.data, defaults);
  if (server.maxIdle > server.maxConnections) {
    throw new ConfigError(
      `${field}.maxIdle`,
      `must not exceed maxConnections (${server.maxIdle} > ${server.maxConnections})`,
    );
  }
  return server;
}
