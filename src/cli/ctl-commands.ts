// The commands of `fcgi-pool ctl`, one per PoolControl RPC (plus `health`): their flags, the
// request each builds and how its answer is printed.
import { ConfigError } from '../errors.ts';
import type { AddServerResponse__Output } from '../generated/fcgipool/v1/AddServerResponse.ts';
import type { ExecuteResponse__Output } from '../generated/fcgipool/v1/ExecuteResponse.ts';
import type { GetLockStatsResponse__Output } from '../generated/fcgipool/v1/GetLockStatsResponse.ts';
import type { ListIdleResponse__Output } from '../generated/fcgipool/v1/ListIdleResponse.ts';
import type { ListServersResponse__Output } from '../generated/fcgipool/v1/ListServersResponse.ts';
import type { PurgeIdleResponse__Output } from '../generated/fcgipool/v1/PurgeIdleResponse.ts';
import type { SetServerStateResponse__Output } from '../generated/fcgipool/v1/SetServerStateResponse.ts';
import type { TakeoverResponse__Output } from '../generated/fcgipool/v1/TakeoverResponse.ts';
import type { CtlIo } from './ctl.ts';
import type { CtlClient } from './ctl-client.ts';
import { intFlag, type ParsedArgs, readBody, scriptFilename, strFlag } from './ctl-flags.ts';
import {
  changeLines,
  executeSummary,
  idleTable,
  locksTable,
  serversReport,
  serversTable,
  takeoverReport,
  toJson,
} from './ctl-format.ts';

export interface RunContext {
  client: CtlClient;
  args: ParsedArgs;
  json: boolean;
  io: CtlIo;
  /** --deadline in ms, when given. */
  deadlineMs: number | undefined;
}

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };

export interface CommandSpec {
  /** The first name is the command's; the others are aliases. */
  names: readonly string[];
  synopsis: string;
  summary: string;
  options: Record<string, OptionSpec>;
  run(ctx: RunContext): Promise<void>;
}

const DEFAULT_DEADLINE_MS = 30_000;
const str = { type: 'string' } as const;

/** Exactly `names.length` positionals, named in the error. */
function positionals(ctx: RunContext, names: readonly string[]): string[] {
  const got = ctx.args.positionals;
  if (got.length < names.length) throw new ConfigError(`<${names[got.length]}>`, 'is required');
  if (got.length > names.length) throw new ConfigError('arguments', `unexpected "${got[names.length]}"`);
  return got;
}

async function unary<T>(ctx: RunContext, rpc: string, request: object, print: (res: T) => string) {
  const res = await ctx.client.call<T>(rpc, request, ctx.deadlineMs ?? DEFAULT_DEADLINE_MS);
  ctx.io.stdout.write(ctx.json ? `${toJson(res)}\n` : print(res));
}

const filters = (ctx: RunContext) => ({
  server: strFlag(ctx.args.values, 'server'),
  thread: intFlag(ctx.args.values, 'thread'),
});

function setState(ctx: RunContext, name: string, state: 'READY' | 'DRAIN' | 'MAINT'): Promise<void> {
  return unary<SetServerStateResponse__Output>(ctx, 'SetServerState', { name, state }, (r) =>
    r.server ? serversTable([r.server]) : '',
  );
}

/** `drain <name>`, `maint <name>`, `ready <name>`. */
function stateShortcut(state: 'READY' | 'DRAIN' | 'MAINT'): CommandSpec {
  return {
    names: [state.toLowerCase()],
    synopsis: `${state.toLowerCase()} <name>`,
    summary: `set-state <name> ${state}`,
    options: {},
    run: (ctx) => setState(ctx, positionals(ctx, ['name'])[0], state),
  };
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    names: ['servers', 'list-servers'],
    synopsis: 'servers',
    summary: 'backend servers with their state, limits and live counts (ListServers)',
    options: {},
    run: (ctx) => {
      positionals(ctx, []);
      return unary<ListServersResponse__Output>(ctx, 'ListServers', {}, serversReport);
    },
  },
  {
    names: ['add-server'],
    synopsis:
      'add-server <name> <address> [--max-connections n] [--max-idle n] [--reuse never|safe|always]\n' +
      '           [--purge-delay ms] [--max-requests n] [--connect-timeout ms] [--read-timeout ms]',
    summary: 'add a backend at run time; not written to the configuration file (AddServer)',
    options: {
      'max-connections': str,
      'max-idle': str,
      reuse: str,
      'purge-delay': str,
      'max-requests': str,
      'connect-timeout': str,
      'read-timeout': str,
    },
    run: (ctx) => {
      const [name, address] = positionals(ctx, ['name', 'address']);
      const v = ctx.args.values;
      return unary<AddServerResponse__Output>(
        ctx,
        'AddServer',
        {
          name,
          address,
          max_connections: intFlag(v, 'max-connections'),
          max_idle: intFlag(v, 'max-idle'),
          reuse: strFlag(v, 'reuse'),
          purge_delay_ms: intFlag(v, 'purge-delay'),
          max_requests_per_connection: intFlag(v, 'max-requests'),
          connect_timeout_ms: intFlag(v, 'connect-timeout'),
          read_timeout_ms: intFlag(v, 'read-timeout'),
        },
        (r) => (r.server ? serversTable([r.server]) : ''),
      );
    },
  },
  {
    names: ['remove-server'],
    synopsis: 'remove-server <name> [--grace ms]',
    summary: 'drain a server, wait for its requests (default 30 s), forget it (RemoveServer)',
    options: { grace: str },
    run: (ctx) => {
      const [name] = positionals(ctx, ['name']);
      const grace = intFlag(ctx.args.values, 'grace');
      const deadline = ctx.deadlineMs ?? (grace ?? 30_000) + DEFAULT_DEADLINE_MS;
      return unary(
        { ...ctx, deadlineMs: deadline },
        'RemoveServer',
        { name, grace_ms: grace },
        () => `removed ${name}\n`,
      );
    },
  },
  {
    names: ['set-state'],
    synopsis: 'set-state <name> READY|DRAIN|MAINT',
    summary:
      'change a server state; DRAIN closes idle connections, in-flight requests finish (SetServerState)',
    options: {},
    run: (ctx) => {
      const [name, state] = positionals(ctx, ['name', 'state']);
      const s = state.toUpperCase();
      if (s !== 'READY' && s !== 'DRAIN' && s !== 'MAINT') {
        throw new ConfigError('<state>', `must be READY, DRAIN or MAINT, got "${state}"`);
      }
      return setState(ctx, name, s);
    },
  },
  stateShortcut('DRAIN'),
  stateShortcut('MAINT'),
  stateShortcut('READY'),
  {
    names: ['idle', 'list-idle'],
    synopsis: 'idle [--server name] [--thread n]',
    summary: 'idle connections per thread (ListIdle)',
    options: { server: str, thread: str },
    run: (ctx) => {
      positionals(ctx, []);
      return unary<ListIdleResponse__Output>(ctx, 'ListIdle', filters(ctx), (r) => idleTable(r.connections));
    },
  },
  {
    names: ['takeover'],
    synopsis: 'takeover --from n --to n [--server name] [--count n] [--connection id]',
    summary: 'move idle connections to another thread; returns once they are listed there (Takeover)',
    options: { server: str, from: str, to: str, count: str, connection: str },
    run: (ctx) => {
      positionals(ctx, []);
      const v = ctx.args.values;
      const request = {
        server: strFlag(v, 'server'),
        from_thread: intFlag(v, 'from'),
        to_thread: intFlag(v, 'to'),
        count: intFlag(v, 'count'),
        connection_id: strFlag(v, 'connection'),
      };
      return unary<TakeoverResponse__Output>(ctx, 'Takeover', request, takeoverReport);
    },
  },
  {
    names: ['purge', 'purge-idle'],
    synopsis: 'purge [--server name] [--thread n] [--min-idle ms]',
    summary: 'close idle connections (idle at least --min-idle ms) (PurgeIdle)',
    options: { server: str, thread: str, 'min-idle': str },
    run: (ctx) => {
      positionals(ctx, []);
      const request = { ...filters(ctx), min_idle_ms: intFlag(ctx.args.values, 'min-idle') };
      return unary<PurgeIdleResponse__Output>(
        ctx,
        'PurgeIdle',
        request,
        (r) => `closed ${r.closed} idle connection(s)\n`,
      );
    },
  },
  {
    names: ['locks', 'lock-stats'],
    synopsis: 'locks [--thread n]',
    summary: 'per-thread takeover lock statistics and wake-ups by path (GetLockStats)',
    options: { thread: str },
    run: (ctx) => {
      positionals(ctx, []);
      return unary<GetLockStatsResponse__Output>(
        ctx,
        'GetLockStats',
        { thread: intFlag(ctx.args.values, 'thread') },
        (r) => locksTable(r.threads),
      );
    },
  },
  {
    names: ['execute', 'exec'],
    synopsis:
      'execute <uri> [--server name] [--thread n] [--method M] [--script file | --docroot dir]\n' +
      '           [--param NAME=value]... [--data text | --data-file file|-] [--content-type type] [--timeout ms]',
    summary: 'run one FastCGI request through the pool and print the CGI response (Execute)',
    options: {
      server: str,
      thread: str,
      method: str,
      script: str,
      docroot: str,
      param: { type: 'string', multiple: true, short: 'p' },
      data: str,
      'data-file': str,
      'content-type': str,
      timeout: str,
    },
    run: (ctx) => execute(ctx),
  },
  {
    names: ['watch', 'watch-idle'],
    synopsis: 'watch [--server name] [--thread n] [--interval ms] [--count n]',
    summary: 'stream idle-list changes until interrupted or --count changes (WatchIdle)',
    options: { server: str, thread: str, interval: str, count: str },
    run: (ctx) => watch(ctx),
  },
  {
    names: ['health'],
    synopsis: 'health [--service name]',
    summary: 'grpc.health.v1 status: SERVING or NOT_SERVING (exit code 1 unless SERVING)',
    options: { service: str },
    run: async (ctx) => {
      positionals(ctx, []);
      const service = strFlag(ctx.args.values, 'service') ?? '';
      const s = await ctx.client.health(service, ctx.deadlineMs ?? DEFAULT_DEADLINE_MS);
      ctx.io.stdout.write(ctx.json ? `${toJson({ service, status: s })}\n` : `${s}\n`);
      if (s !== 'SERVING') throw new NotServing(s);
    },
  },
];

/** `health` answered, but not SERVING: exit code 1. */
class NotServing extends Error {}

async function execute(ctx: RunContext): Promise<void> {
  const [uri] = positionals(ctx, ['uri']);
  const v = ctx.args.values;
  const body = readBody(v);
  const url = new URL(uri, 'http://localhost');
  const path = decodeURIComponent(url.pathname);
  const params: Record<string, string> = {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_SOFTWARE: 'fcgi-pool-ctl',
    REQUEST_METHOD: (strFlag(v, 'method') ?? (body.length > 0 ? 'POST' : 'GET')).toUpperCase(),
    REQUEST_URI: url.pathname + url.search,
    DOCUMENT_URI: path,
    SCRIPT_NAME: path,
    SCRIPT_FILENAME: scriptFilename(v, path),
    QUERY_STRING: url.search.slice(1),
  };
  if (body.length > 0) {
    params.CONTENT_LENGTH = String(body.length);
    params.CONTENT_TYPE = strFlag(v, 'content-type') ?? 'application/x-www-form-urlencoded';
  }
  for (const p of (v.param as string[] | undefined) ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new ConfigError('--param', `must be NAME=value, got "${p}"`);
    params[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const timeout = intFlag(v, 'timeout', 1);
  const request = {
    server: strFlag(v, 'server'),
    thread: intFlag(v, 'thread'),
    params,
    stdin: body,
    timeout_ms: timeout,
  };
  const deadline = ctx.deadlineMs ?? (timeout ?? 30_000) + 5000;
  const res = await ctx.client.call<ExecuteResponse__Output>('Execute', request, deadline);
  if (ctx.json) {
    ctx.io.stdout.write(`${toJson(res)}\n`);
    return;
  }
  ctx.io.stdout.write(`${executeSummary(res)}\n`);
  ctx.io.stdout.write(res.stdout);
  if (res.stderr.length > 0) ctx.io.stderr.write(res.stderr);
}

async function watch(ctx: RunContext): Promise<void> {
  positionals(ctx, []);
  const count = intFlag(ctx.args.values, 'count', 1);
  const stream = ctx.client.watchIdle({ ...filters(ctx), interval_ms: intFlag(ctx.args.values, 'interval') });
  let seen = 0;
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (change) => {
      ctx.io.stdout.write(ctx.json ? `${toJson(change, false)}\n` : changeLines(change));
      if (count !== undefined && ++seen >= count) {
        stream.cancel();
        resolve();
      }
    });
    stream.on('error', (err: { code?: number }) =>
      err.code === 1 /* CANCELLED */ ? resolve() : reject(err),
    );
    stream.on('end', () => resolve());
  });
  ctx.io.onInterrupt?.(() => stream.cancel());
  await done;
}

export function usage(spec?: CommandSpec): string {
  const common =
    'Options of every command:\n' +
    '  --address host:port   gRPC address of fcgi-pool (default 127.0.0.1:50051)\n' +
    '  --token token         bearer token (default: $FCGI_POOL_GRPC_TOKEN); --token-file file\n' +
    '  --json                JSON output for scripts\n' +
    '  --tls, --ca file, --cert file, --key file, --server-name name   TLS and mutual TLS\n' +
    '  --deadline ms         give up on the call after this long\n';
  if (spec) return `Usage: fcgi-pool ctl ${spec.synopsis}\n\n${spec.summary}\n\n${common}`;
  const width = Math.max(...COMMANDS.map((c) => c.names[0].length));
  const lines = COMMANDS.map((c) => `  ${c.names[0].padEnd(width)}  ${c.summary}`);
  return (
    'Usage: fcgi-pool ctl <command> [options]\n\nCommands:\n' +
    `${lines.join('\n')}\n\n${common}\n` +
    'fcgi-pool ctl help <command> shows the options of one command.\n'
  );
}
