// The PoolControl handlers: argument checks (validate.ts), auth per call (auth.ts), then one call
// into the PoolRuntime, whose errors become gRPC statuses by their codes (status.ts). Which RPC
// needs which token is decided here, in ROLES, and nowhere else.
import { type handleUnaryCall, type ServerUnaryCall, type ServerWritableStream, status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { parseServer } from '../config/load.ts';
import type { ServerDefaults } from '../config/server-schema.ts';
import { ConfigError } from '../errors.ts';
import type { IdleListChange } from '../generated/fcgipool/v1/IdleListChange.ts';
import type { PoolControlHandlers } from '../generated/fcgipool/v1/PoolControl.ts';
import type { WatchIdleRequest__Output } from '../generated/fcgipool/v1/WatchIdleRequest.ts';
import { NotFoundError, type PoolRuntime, type ServerStateName } from '../pool/pool-runtime.ts';
import type { Role, TokenAuth } from './auth.ts';
import type { ControlHealth } from './health.ts';
import { ControlError, toStatus } from './status.ts';
import { executeMessage, idleMessage, lockStatsMessage, serverMessage } from './to-proto.ts';
import {
  intInRange,
  optionalId,
  optionalServer,
  optionalThread,
  params,
  requiredText,
  requiredThread,
  serverByName,
  targetServer,
} from './validate.ts';
import type { IdleWatchHub } from './watch-idle.ts';

export interface ControlContext {
  runtime: PoolRuntime;
  auth: TokenAuth;
  health: ControlHealth;
  watch: IdleWatchHub;
  /** Unset AddServer fields come from here (config.serverDefaults). */
  serverDefaults: ServerDefaults;
  log?: Logger;
}

export const ROLES = {
  ListServers: 'read',
  ListIdle: 'read',
  GetLockStats: 'read',
  WatchIdle: 'read',
  AddServer: 'admin',
  RemoveServer: 'admin',
  SetServerState: 'admin',
  Takeover: 'admin',
  PurgeIdle: 'admin',
  Execute: 'admin',
} as const satisfies Record<string, Role>;

type Method = keyof typeof ROLES;

const STATES: readonly ServerStateName[] = ['READY', 'DRAIN', 'MAINT'];
const DEFAULT_EXECUTE_TIMEOUT_MS = 30_000;
const MAX_EXECUTE_TIMEOUT_MS = 3_600_000;
const UINT32_MAX = 0xffff_ffff;

export function poolControlHandlers(ctx: ControlContext): PoolControlHandlers {
  const { runtime: rt } = ctx;
  let nextThread = 0;

  function unary<Req, Res>(
    method: Method,
    fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
  ): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const refused = ctx.auth.check(call.metadata, ROLES[method], method);
      if (refused) {
        callback(refused);
        return;
      }
      Promise.resolve()
        .then(() => fn(call.request, call))
        .then(
          (res) => {
            if (ROLES[method] === 'admin')
              ctx.log?.info({ rpc: method, peer: call.getPeer() }, 'control call');
            callback(null, res);
          },
          (err: unknown) => {
            const st = toStatus(err);
            if (st.code === status.INTERNAL) ctx.log?.warn({ rpc: method, err }, 'control call failed');
            callback(st);
          },
        );
    };
  }

  const serverReply = (index: number) => {
    const info = rt.listServers().find((s) => s.index === index);
    if (!info) throw new NotFoundError(`no server with index ${index}`);
    return serverMessage(info, rt.servers[index]);
  };

  const WatchIdle: PoolControlHandlers['WatchIdle'] = (call) => watchIdle(ctx, call);

  return {
    ListServers: unary('ListServers', () => ({
      servers: rt.listServers().map((s) => serverMessage(s, rt.servers[s.index])),
      threads: rt.threads,
      ready: rt.ready,
    })),

    AddServer: unary('AddServer', async (req) => {
      const input = {
        name: req.name === '' ? undefined : req.name,
        address: requiredText('address', req.address),
        maxConnections: req.max_connections,
        maxIdle: req.max_idle,
        reuse: req.reuse,
        purgeDelayMs: req.purge_delay_ms,
        maxRequestsPerConnection: req.max_requests_per_connection,
        connectTimeoutMs: req.connect_timeout_ms,
        readTimeoutMs: req.read_timeout_ms,
      };
      let server: ReturnType<typeof parseServer>;
      try {
        server = parseServer(
          Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
          ctx.serverDefaults,
          'server',
        );
      } catch (err) {
        throw err instanceof ConfigError ? protoFieldError(err) : err;
      }
      if (rt.serverIndex(server.name) >= 0) {
        throw new ControlError(status.ALREADY_EXISTS, `name: a server named "${server.name}" exists already`);
      }
      const { weight: _weight, ...settings } = server;
      let index: number;
      try {
        index = await rt.addServer(settings);
      } catch (err) {
        // the only ConfigError left is a full server table
        if (err instanceof ConfigError && err.field === 'server') {
          throw new ControlError(status.RESOURCE_EXHAUSTED, err.message);
        }
        throw err;
      }
      ctx.health.refresh();
      return { server: serverReply(index) };
    }),

    RemoveServer: unary('RemoveServer', async (req) => {
      const index = serverByName(rt, 'name', requiredText('name', req.name));
      const graceMs = intInRange('grace_ms', req.grace_ms, 0, 600_000, 30_000);
      await rt.removeServer(index, graceMs);
      ctx.health.refresh();
      return {};
    }),

    SetServerState: unary('SetServerState', async (req) => {
      const index = serverByName(rt, 'name', requiredText('name', req.name));
      const state = STATES.find((s) => s === req.state);
      if (state === undefined) throw new ConfigError('state', 'must be READY, DRAIN or MAINT');
      await rt.setServerState(index, state);
      ctx.health.refresh();
      return { server: serverReply(index) };
    }),

    ListIdle: unary('ListIdle', async (req) => {
      const server = optionalServer(rt, 'server', req.server);
      const thread = optionalThread(rt, 'thread', req.thread);
      const idle = await rt.listIdle({ server, thread });
      return { connections: idle.map(idleMessage) };
    }),

    Takeover: unary('Takeover', async (req) => {
      const connectionId = optionalId('connection_id', req.connection_id);
      let serverName = req.server;
      let from = req.from_thread;
      if (connectionId !== undefined && (serverName === undefined || from === undefined)) {
        // a connection named by id: where it is idle tells the server and the source thread
        const found = (await rt.listIdle()).find((c) => c.id === connectionId);
        if (!found) throw new NotFoundError(`connection_id: no idle connection with id ${connectionId}`);
        serverName ??= found.server;
        from ??= found.thread;
      }
      const server = targetServer(rt, 'server', serverName);
      const fromThread = requiredThread(rt, 'from_thread', from);
      const toThread = requiredThread(rt, 'to_thread', req.to_thread);
      if (toThread === fromThread) throw new ConfigError('to_thread', 'must differ from from_thread');
      const count = intInRange('count', req.count, 1, 65_535, 1);
      const result = await rt.takeover({ server, fromThread, toThread, count, connectionId });
      // the hand-off is complete: the moved connections are listed on the destination now
      const listed = new Map((await rt.listIdle({ server, thread: toThread })).map((c) => [c.id, c]));
      const name = rt.servers[server]?.name ?? '';
      return {
        moved: result.moved.map((m) =>
          idleMessage(
            listed.get(m.connId) ?? {
              id: m.connId,
              server: name,
              serverIndex: server,
              thread: m.thread,
              list: 'IDLE',
              idleMs: 0,
              requestsServed: 0,
              localAddress: '',
              remoteAddress: '',
            },
          ),
        ),
        reason: result.reason ?? '',
      };
    }),

    PurgeIdle: unary('PurgeIdle', async (req) => {
      const server = optionalServer(rt, 'server', req.server);
      const thread = optionalThread(rt, 'thread', req.thread);
      const minIdleMs = intInRange('min_idle_ms', req.min_idle_ms, 0, UINT32_MAX, 0);
      return { closed: await rt.purge({ server, thread, minIdleMs }) };
    }),

    GetLockStats: unary('GetLockStats', (req) => {
      const thread = optionalThread(rt, 'thread', req.thread);
      const stats = rt.lockStats().filter((s) => thread === undefined || s.thread === thread);
      return { threads: stats.map(lockStatsMessage) };
    }),

    Execute: unary('Execute', async (req, call) => {
      const server = targetServer(rt, 'server', req.server);
      const fcgiParams = params('params', req.params);
      let timeoutMs = intInRange(
        'timeout_ms',
        req.timeout_ms,
        1,
        MAX_EXECUTE_TIMEOUT_MS,
        DEFAULT_EXECUTE_TIMEOUT_MS,
      );
      const deadline = Number(call.getDeadline());
      if (Number.isFinite(deadline)) {
        const left = Math.floor(deadline - Date.now());
        if (left <= 0)
          throw new ControlError(status.DEADLINE_EXCEEDED, 'the deadline passed before the request ran');
        timeoutMs = Math.min(timeoutMs, left);
      }
      let thread = optionalThread(rt, 'thread', req.thread);
      if (thread === undefined) {
        thread = nextThread % rt.threads;
        nextThread = (thread + 1) % rt.threads;
      }
      const result = await rt.execute({ thread, server, params: fcgiParams, stdin: req.stdin, timeoutMs });
      return executeMessage(result);
    }),

    WatchIdle,
  };
}

function watchIdle(
  ctx: ControlContext,
  call: ServerWritableStream<WatchIdleRequest__Output, IdleListChange>,
): void {
  const refused = ctx.auth.check(call.metadata, ROLES.WatchIdle, 'WatchIdle');
  if (refused) {
    call.emit('error', refused);
    return;
  }
  const rt = ctx.runtime;
  let filter: { server?: number; thread?: number };
  let intervalMs: number;
  try {
    filter = {
      server: optionalServer(rt, 'server', call.request.server),
      thread: optionalThread(rt, 'thread', call.request.thread),
    };
    intervalMs = intInRange('interval_ms', call.request.interval_ms, 20, 60_000, 100);
  } catch (err) {
    call.emit('error', toStatus(err));
    return;
  }
  const stream = call;
  const handle = ctx.watch.watch(filter, intervalMs, {
    emit: (change) =>
      stream.write({
        initial: change.initial,
        added: change.added.map(idleMessage),
        removed: change.removed.map(idleMessage),
        total: change.total,
        sequence: change.sequence,
      } satisfies IdleListChange),
    end: () => stream.end(),
    fail: (err) => stream.emit('error', toStatus(err)),
  });
  stream.on('drain', () => handle.resume());
  stream.on('cancelled', () => handle.cancel());
  stream.on('close', () => handle.cancel());
}

/** parseServer names `server.maxIdle`; the proto field is `max_idle`. */
function protoFieldError(err: ConfigError): ConfigError {
  const message = err.message.slice(err.field.length + 2);
  const key = err.field.replace(/^server\.?/, '');
  const field = key === '' ? 'server' : key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return new ConfigError(field, message);
}
