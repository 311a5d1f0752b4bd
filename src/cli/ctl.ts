// `fcgi-pool ctl <command> [options]`: the command-line client of every PoolControl RPC (and of
// the health service). Tables by default, --json for scripts. parseCli (args.ts) has already
// taken --address, --token and --json; each command parses the rest of its arguments here.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.ts';
import type { CliCommand } from './args.ts';
import { CtlClient, describeError, type TlsOptions } from './ctl-client.ts';
import { COMMANDS, type CommandSpec, usage } from './ctl-commands.ts';
import { intFlag, type ParsedArgs } from './ctl-flags.ts';

export type CtlCommand = Extract<CliCommand, { command: 'ctl' }>;

export interface CtlIo {
  stdout: { write(s: string | Uint8Array): unknown };
  stderr: { write(s: string | Uint8Array): unknown };
  env: NodeJS.ProcessEnv;
  /** `watch` registers how to stop on Ctrl-C (other commands keep the default: exit at once). */
  onInterrupt?: (stop: () => void) => void;
}

/** Options every command takes besides --address, --token and --json. */
const COMMON = {
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  tls: { type: 'boolean' },
  'server-name': { type: 'string' },
  'token-file': { type: 'string' },
  deadline: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs one ctl command and returns the process exit code: 0 done, 1 the call failed, 2 bad usage. */
export async function runCtl(cmd: CtlCommand, io: CtlIo): Promise<number> {
  const spec = COMMANDS.find((c) => c.names.includes(cmd.name));
  if (cmd.name === 'help' && cmd.args.length > 0) {
    // `fcgi-pool ctl help <command>` (`ctl <command> --help` is taken by the ctl command's own help)
    const about = COMMANDS.find((c) => c.names.includes(cmd.args[0]));
    (about ? io.stdout : io.stderr).write(
      about ? usage(about) : `unknown command "${cmd.args[0]}"\n\n${usage()}`,
    );
    return about ? 0 : 2;
  }
  if (spec === undefined) {
    const asked = cmd.name === 'help';
    (asked ? io.stdout : io.stderr).write(
      (asked ? '' : `fcgi-pool ctl: unknown command "${cmd.name}"\n\n`) + usage(),
    );
    return asked ? 0 : 2;
  }
  let parsed: ReturnType<typeof parse>;
  let client: CtlClient;
  try {
    parsed = parse(spec, cmd.args);
    if (parsed.values.help === true) {
      io.stdout.write(usage(spec));
      return 0;
    }
    client = new CtlClient({
      address: cmd.address,
      token: token(cmd, parsed.values, io.env),
      tls: tlsOptions(parsed.values),
    });
  } catch (err) {
    if (!(err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')))
      throw err;
    io.stderr.write(`fcgi-pool ctl ${spec.names[0]}: ${(err as Error).message}\n\n${usage(spec)}`);
    return 2;
  }
  try {
    const deadline = intFlag(parsed.values, 'deadline');
    await spec.run({ client, args: parsed, json: cmd.json, io, deadlineMs: deadline });
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`fcgi-pool ctl ${spec.names[0]}: ${err.message}\n\n${usage(spec)}`);
      return 2;
    }
    io.stderr.write(`fcgi-pool ctl ${spec.names[0]}: ${describeError(err, cmd.address)}\n`);
    return 1;
  } finally {
    client.close();
  }
}

function parse(spec: CommandSpec, args: readonly string[]): ParsedArgs {
  return parseArgs({
    args: [...args],
    options: { ...COMMON, ...spec.options },
    allowPositionals: true,
    strict: true,
  }) as ParsedArgs;
}

function token(cmd: CtlCommand, values: ParsedArgs['values'], env: NodeJS.ProcessEnv): string | undefined {
  if (cmd.token !== undefined) return cmd.token;
  const file = values['token-file'];
  if (typeof file === 'string') {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError('--token-file', `cannot read ${file}: ${(err as Error).message}`);
    }
  }
  return env.FCGI_POOL_GRPC_TOKEN || undefined;
}

function tlsOptions(values: ParsedArgs['values']): TlsOptions | null {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const tls = { ca: str('ca'), cert: str('cert'), key: str('key'), serverName: str('server-name') };
  const wanted = values.tls === true || Object.values(tls).some((v) => v !== undefined);
  return wanted ? tls : null;
}
