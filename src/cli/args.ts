// The command line: `fcgi-pool serve | ctl | bench`. parseCli only parses: it never exits,
// never prints and never reads the environment, so main.ts decides what to do and tests
// can run it. Flag values are typed here; ranges are judged by the config schema, which
// names the field and the flag ("threads: must be ... (from --threads)").

import { Command, CommanderError, Option } from 'commander';
import type { ConfigFlags } from '../config/overrides.ts';
import { HTTP_FRONTS, LOG_LEVELS } from '../config/schema.ts';
import { REUSE_MODES } from '../config/server-schema.ts';
import { parseBoolean, parseByteSize, parseDecimal, splitList } from '../config/units.ts';
import { ConfigError } from '../errors.ts';

export type CliCommand =
  | { readonly command: 'serve'; readonly configFile?: string; readonly flags: ConfigFlags }
  | {
      readonly command: 'ctl';
      /** The control operation, e.g. "idle" or "purge"; the lead's ctl module interprets it. */
      readonly name: string;
      /** Its operands, including options ctl itself does not know (for the operation to parse). */
      readonly args: readonly string[];
      readonly address: string;
      readonly token?: string;
      readonly json: boolean;
    }
  | { readonly command: 'bench'; readonly args: readonly string[] }
  /** Help was asked for (exitCode 0) or no command was given (exitCode 1): print `text`. */
  | { readonly command: 'help'; readonly text: string; readonly exitCode: 0 | 1 }
  | { readonly command: 'version'; readonly text: string };

export interface ParseCliOptions {
  readonly version?: string;
}

const DEFAULT_CTL_ADDRESS = '127.0.0.1:50051';

/** `argv` holds the user's arguments only: process.argv.slice(2). Throws ConfigError naming the flag. */
export function parseCli(argv: readonly string[], options: ParseCliOptions = {}): CliCommand {
  let result: CliCommand | undefined;
  let out = '';
  const program = buildProgram(options.version ?? '0.0.0', (r) => {
    result = r;
  });
  for (const cmd of [program, ...program.commands]) {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => {
        out += s;
      },
      writeErr: (s) => {
        out += s;
      },
      // The error is rethrown as a ConfigError; commander must not print it as well.
      outputError: () => {},
    });
  }
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.helpDisplayed') return { command: 'help', text: out, exitCode: 0 };
    if (err.code === 'commander.help') return { command: 'help', text: out, exitCode: 1 };
    if (err.code === 'commander.version') return { command: 'version', text: out.trim() };
    throw toConfigError(err);
  }
  if (result === undefined) return { command: 'help', text: program.helpInformation(), exitCode: 1 };
  return result;
}

/** The commander program; `onParsed` receives the parsed command. Exported for help-text tooling. */
export function buildProgram(version: string, onParsed: (r: CliCommand) => void): Command {
  const program = new Command('fcgi-pool')
    .description('Multi-threaded FastCGI connection pool and HTTP gateway in front of php-fpm')
    .version(version, '-V, --version')
    .showSuggestionAfterError(true);

  const serve = program
    .command('serve')
    .description('run the HTTP gateway, the gRPC control plane and the admin (metrics) server')
    .option('-c, --config <file>', 'YAML configuration file (default: $FCGI_POOL_CONFIG)')
    .option(
      '-b, --backend <address>',
      'php-fpm server: host:port, [ipv6]:port or unix:/path; repeat or comma-separate for several (default: embedded responder)',
      collectList,
    )
    .option('--docroot <dir>', 'DOCUMENT_ROOT as php-fpm sees it (default: /srv/www)')
    .option('--index <file>', 'file appended to directory URIs (default: index.php)')
    .option('--server-name <name>', 'SERVER_NAME passed to PHP (default: the listen host)')
    .option('--threads <n>', 'worker threads (default: available CPUs)', intParser('--threads'))
    .option(
      '--max-connections <n>',
      'connections per backend, busy + idle: set to pm.max_children (default: 5)',
      intParser('--max-connections'),
    )
    .option(
      '--max-idle <n>',
      'idle connections kept per backend (default: --max-connections)',
      intParser('--max-idle'),
    )
    .addOption(
      new Option('--reuse <mode>', 'when idle connections are reused (default: always)').choices(REUSE_MODES),
    )
    .option('--fast-path <on|off>', 'USR1 lock-free wake-up path (default: on)', switchParser('--fast-path'))
    .addOption(
      new Option('--http-front <front>', 'HTTP parser for requests without a body (default: fast)').choices(
        HTTP_FRONTS,
      ),
    )
    .option(
      '--warm-up <requests>',
      'requests each worker runs against an in-process responder before it listens, 0: none (default: 10000)',
      intParser('--warm-up'),
    )
    .option(
      '--connect-timeout <ms>',
      'backend connect timeout (default: 3000)',
      intParser('--connect-timeout'),
    )
    .option(
      '--read-timeout <ms>',
      'longest backend silence during a request (default: 60000)',
      intParser('--read-timeout'),
    )
    .option(
      '--purge-delay <ms>',
      'close connections idle for this long (default: 5000)',
      intParser('--purge-delay'),
    )
    .option(
      '--queue-timeout <ms>',
      'longest wait for a free connection before 503 (default: 10000)',
      intParser('--queue-timeout'),
    )
    .option(
      '--keep-alive-timeout <ms>',
      'close an idle client connection after this long (default: 75000)',
      intParser('--keep-alive-timeout'),
    )
    .option(
      '--max-body <size>',
      'largest request body, e.g. 8m, 512k or bytes (default: 8m)',
      sizeParser('--max-body'),
    )
    .option('--http <host:port>', 'HTTP listen address (default: 0.0.0.0:8080)')
    .option('--grpc <host:port>', 'gRPC control listen address (default: 127.0.0.1:50051)')
    .option('--admin <host:port>', 'admin listen address for /metrics and probes (default: 0.0.0.0:8081)')
    .option('--static-files', 'serve non-PHP files from --docroot (needs the files on this machine)')
    .option(
      '--check-script-exists',
      'answer 404 for missing scripts before asking php-fpm (needs the files here)',
    )
    .option(
      '--trusted-proxy <ip|cidr>',
      'believe X-Forwarded-For/-Proto from this peer; repeat or comma-separate',
      collectList,
    )
    .addOption(new Option('--log-level <level>', 'log level (default: info)').choices(LOG_LEVELS))
    .option('--access-log <on|off>', 'one log line per request (default: on)', switchParser('--access-log'))
    .addHelpText(
      'after',
      '\nPrecedence: defaults < --config file < FCGI_POOL_* environment variables < flags.\n' +
        'Every flag has an environment variable (e.g. --max-connections: FCGI_POOL_MAX_CONNECTIONS);\n' +
        'docs/config.md lists them with every file setting.\n\n' +
        'Example:\n  fcgi-pool serve --backend 127.0.0.1:9000 --docroot /var/www/html --max-connections 8\n',
    )
    .action(() => {
      const { config, ...flags } = serve.opts<ConfigFlags & { config?: string }>();
      onParsed({ command: 'serve', configFile: config, flags: dropUndefined(flags) });
    });

  const ctl = program
    .command('ctl')
    .description('control a running fcgi-pool over gRPC')
    .argument('<command>', 'control operation')
    .argument('[args...]', 'its arguments')
    .option('--address <host:port>', 'gRPC address of the running server', DEFAULT_CTL_ADDRESS)
    .option('--token <token>', 'bearer token (prefer FCGI_POOL_GRPC_TOKEN: flags show up in ps)')
    .option('--json', 'print results as JSON')
    // The operations get their own options later; until then they reach `args` untouched.
    .allowUnknownOption()
    .action((name: string, args: string[]) => {
      const o = ctl.opts<{ address: string; token?: string; json?: boolean }>();
      onParsed({ command: 'ctl', name, args, address: o.address, token: o.token, json: o.json === true });
    });

  const bench = program
    .command('bench')
    .description('load-test a running gateway (placeholder)')
    .argument('[args...]')
    .allowUnknownOption()
    .action((args: string[]) => {
      onParsed({ command: 'bench', args });
    });
  void bench;

  return program;
}

// ---- value parsers: typed here, ranges judged by the schema ------------------------------

function intParser(flag: string) {
  return (value: string): number => {
    const n = parseDecimal(value);
    if (n === undefined) throw new ConfigError(flag, `must be a whole number, got "${value}"`);
    return n;
  };
}

function sizeParser(flag: string) {
  return (value: string): number => {
    const n = parseByteSize(value);
    if (n === undefined)
      throw new ConfigError(flag, `must be a size such as 8m, 512k or 1048576, got "${value}"`);
    return n;
  };
}

function switchParser(flag: string) {
  return (value: string): boolean => {
    const b = parseBoolean(value);
    if (b === undefined) throw new ConfigError(flag, `must be on or off, got "${value}"`);
    return b;
  };
}

function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...splitList(value)];
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Commander's messages name the flag inside quotes; the ConfigError names it as its field. */
function toConfigError(err: CommanderError): ConfigError {
  const text = err.message.replace(/^error: /, '').replace(/\n/g, ' ');
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  // '-b, --backend <host:port>': the long name, which the usage and the docs use
  const flag = /--[\w-]+/.exec(quoted)?.[0] ?? /^-\w/.exec(quoted)?.[0];
  switch (err.code) {
    case 'commander.unknownOption':
      return new ConfigError(
        flag ?? 'arguments',
        text.replace(/^unknown option '[^']+'/, 'unknown option').trim(),
      );
    case 'commander.optionMissingArgument':
      return new ConfigError(flag ?? 'arguments', 'needs a value');
    case 'commander.invalidArgument':
      return new ConfigError(flag ?? 'arguments', text.replace(/^option '[^']+' /, ''));
    case 'commander.unknownCommand':
      return new ConfigError('command', text);
    case 'commander.missingArgument':
      return new ConfigError(quoted === '' ? 'arguments' : `<${quoted}>`, text);
    default:
      return new ConfigError('arguments', text);
  }
}
