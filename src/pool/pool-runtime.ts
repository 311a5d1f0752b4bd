// The pool's programmatic API in the main thread, for the gRPC control plane, the admin server,
// the CLI and tests: start the workers, list idle connections, take over, purge, read lock
// statistics, execute a FastCGI request on a chosen thread. Reads go straight to shared memory
// (no message per call); anything that touches a connection asks the thread that holds it.
import os from 'node:os';
import { ConfigError, FcgiPoolError } from '../errors.ts';
import { LockSite } from '../shm/lock.ts';
import { type LockStats, readLockStats } from '../shm/lock-stats.ts';
import { ServerState } from '../shm/server-counters.ts';
import { SharedState } from '../shm/shared-state.ts';
import { ListKind } from '../shm/slots.ts';
import { StatsReader } from '../shm/stats-reader.ts';
import type { ExecuteResult, TakeoverResult } from '../worker/messages.ts';
import { Supervisor } from '../worker/supervisor.ts';
import type { WorkerInit } from '../worker/worker-init.ts';
import { formatAddress } from './connector.ts';
import type { PoolSettings } from './pool-thread.ts';
import type { ServerSettings } from './server-pool.ts';

export interface RuntimeOptions {
  threads?: number;
  servers: ServerSettings[];
  pool: PoolSettings;
  /** Server capacity including headroom for servers added at run time. */
  maxServers?: number;
  /** Connection slots; default: twice the configured connections, at least 256. */
  maxSlots?: number;
  gateway?: WorkerInit['gateway'];
  /** Restart a worker that dies (default true). */
  restart?: boolean;
}

export interface IdleConnectionInfo {
  id: number;
  server: string;
  serverIndex: number;
  thread: number;
  list: 'IDLE' | 'SAFE';
  idleMs: number;
  requestsServed: number;
  /** The connection's local socket address ("ip:port"; ":port" for IPv6). */
  localAddress: string;
  /** The backend's address. */
  remoteAddress: string;
}

export type ServerStateName = 'READY' | 'DRAIN' | 'MAINT';
const STATE_NAMES = ['READY', 'DRAIN', 'MAINT'] as const;

export interface ServerInfo {
  index: number;
  name: string;
  address: string;
  state: ServerStateName;
  maxConnections: number;
  maxIdle: number;
  reuse: string;
  /** Open connections, all threads together. */
  connections: number;
  idle: number;
  used: number;
  queued: number;
  opened: number;
  reuses: number;
}

export interface ThreadLockStats extends LockStats {
  thread: number;
  /** Backend I/O wake-ups that skipped the lock (USR1 clear) / took it. */
  usr1Fast: number;
  locked: number;
}

/** Not found: an unknown server name or index (gRPC NOT_FOUND). */
export class NotFoundError extends FcgiPoolError {
  constructor(what: string) {
    super('FCGI_ERR_NOT_FOUND', what);
  }
}

export interface TakeoverRequest {
  server: number;
  fromThread: number;
  toThread: number;
  count: number;
  connectionId?: number;
}

const CONTROL_LOCK_TRIES = 64;

export class PoolRuntime {
  readonly shm: SharedState;
  readonly supervisor: Supervisor;
  readonly servers: Array<ServerSettings | undefined>;
  readonly threads: number;
  /** Counters read from shared memory, extended to 64 bits (one reader for the whole process). */
  readonly stats: StatsReader;

  private constructor(shm: SharedState, supervisor: Supervisor, servers: ServerSettings[]) {
    this.shm = shm;
    this.supervisor = supervisor;
    this.servers = servers;
    this.threads = shm.cfg.threads;
    this.stats = new StatsReader(shm);
  }

  static async start(opts: RuntimeOptions): Promise<PoolRuntime> {
    const threads = opts.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new ConfigError('threads', 'must be an integer from 1 to 64');
    }
    const maxServers = Math.max(opts.maxServers ?? 16, opts.servers.length);
    const perServer = opts.servers.reduce((n, s) => n + s.maxConnections, 0);
    // slots for every configured connection plus room for servers added at run time
    const maxSlots = opts.maxSlots ?? Math.max(256, perServer * 2);
    const shm = SharedState.create({ threads, maxServers, maxSlots });
    opts.servers.forEach((s, i) => {
      shm.counters.configure(i, s.maxConnections);
    });
    const supervisor = new Supervisor({
      shm,
      restart: opts.restart,
      init: {
        shmCfg: shm.cfg,
        pool: opts.pool,
        servers: opts.servers.map((settings, index) => ({ index, settings })),
        gateway: opts.gateway ?? null,
      },
    });
    try {
      await supervisor.start();
    } catch (err) {
      await supervisor.stop(0); // the workers that did start must not keep the process alive
      throw err;
    }
    return new PoolRuntime(shm, supervisor, [...opts.servers]);
  }

  serverIndex(name: string): number {
    return this.servers.findIndex((s) => s?.name === name);
  }

  /** The index of a server by name; NotFoundError when there is none. */
  requireServer(name: string): number {
    const i = this.serverIndex(name);
    if (i < 0) throw new NotFoundError(`no server named "${name}"`);
    return i;
  }

  /** Every worker up and at least one server READY: the pool can serve. */
  get ready(): boolean {
    return (
      this.supervisor.allReady &&
      this.servers.some((s, i) => s !== undefined && this.shm.counters.state(i) === ServerState.READY)
    );
  }

  listServers(): ServerInfo[] {
    const snap = this.stats.snapshot();
    const out: ServerInfo[] = [];
    this.servers.forEach((s, index) => {
      if (!s) return;
      const c = snap.servers.find((x) => x.server === index);
      out.push({
        index,
        name: s.name,
        address: formatAddress(s.address),
        state: (STATE_NAMES as readonly ServerStateName[])[this.shm.counters.state(index)] ?? 'MAINT',
        maxConnections: this.shm.counters.maxConnections(index),
        maxIdle: s.maxIdle,
        reuse: s.reuse,
        connections: c?.curConns ?? 0,
        idle: (c?.idle ?? 0) + (c?.safe ?? 0),
        used: c?.used ?? 0,
        queued: c?.queue ?? 0,
        opened: c?.opened ?? 0,
        reuses: c?.reuses ?? 0,
      });
    });
    return out;
  }

  /** Adds a server at run time (not written back to the configuration file). */
  async addServer(settings: ServerSettings): Promise<number> {
    if (this.serverIndex(settings.name) >= 0) {
      throw new ConfigError('name', `a server named "${settings.name}" exists already`);
    }
    const index = this.shm.counters.claimServer();
    if (index < 0) {
      throw new ConfigError(
        'server',
        `no room for another server (pool.maxServers = ${this.shm.cfg.maxServers})`,
      );
    }
    this.shm.counters.setMaxConnections(index, settings.maxConnections);
    this.servers[index] = settings;
    this.#syncSupervisor();
    await this.supervisor.broadcast({ op: 'addServer', index, settings });
    this.shm.counters.setState(index, ServerState.READY);
    return index;
  }

  async setServerState(index: number, state: ServerStateName): Promise<void> {
    if (!this.servers[index]) throw new NotFoundError(`no server with index ${index}`);
    this.shm.counters.setState(index, ServerState[state]);
    if (state !== 'READY') await this.supervisor.broadcast({ op: 'serverDown', index });
  }

  /**
   * Removes a server: no new requests, idle connections closed, in-flight requests finish
   * (within `graceMs`), then its entry is freed for reuse.
   */
  async removeServer(index: number, graceMs = 30_000): Promise<void> {
    await this.setServerState(index, 'MAINT');
    const deadline = Date.now() + graceMs;
    while (this.shm.counters.curConns(index) > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.supervisor.broadcast({ op: 'forgetServer', index });
    this.servers[index] = undefined;
    this.#syncSupervisor();
    this.shm.counters.setState(index, ServerState.FREE);
  }

  lockStats(): ThreadLockStats[] {
    const snap = this.stats.snapshot();
    return snap.threads.map((t) => ({
      thread: t.thread,
      usr1Fast: t.usr1Fast,
      locked: t.locked,
      ...readLockStats(this.shm, t.thread, (w) => this.stats.counter(w)),
    }));
  }

  #syncSupervisor(): void {
    this.supervisor.setServers(
      this.servers.flatMap((settings, index) => (settings ? [{ index, settings }] : [])),
    );
  }

  describeServer(index: number): { name: string; address: string } | undefined {
    const s = this.servers[index];
    return s ? { name: s.name, address: formatAddress(s.address) } : undefined;
  }

  /**
   * Idle connections from shared memory. The main thread never blocks: it try-locks each list
   * owner's lock with a short spin and reads that thread's lists consistently under it.
   */
  async listIdle(filter: { server?: number; thread?: number } = {}): Promise<IdleConnectionInfo[]> {
    const out: IdleConnectionInfo[] = [];
    const { lists, lock, slots } = this.shm;
    const now = this.shm.nowMs();
    for (let th = 0; th < this.threads; th++) {
      if (filter.thread !== undefined && filter.thread !== th) continue;
      let tries = 0;
      while (!lock.tryLock(th, LockSite.control)) {
        if (++tries > CONTROL_LOCK_TRIES) break;
        await new Promise((r) => setImmediate(r));
      }
      if (tries > CONTROL_LOCK_TRIES) continue;
      try {
        this.servers.forEach((s, index) => {
          if (!s || (filter.server !== undefined && filter.server !== index)) return;
          for (const kind of [ListKind.SAFE, ListKind.IDLE]) {
            lists.forEach(th, index, kind, (slot) => {
              out.push({
                id: slots.connId(slot),
                server: s.name,
                serverIndex: index,
                thread: th,
                list: kind === ListKind.SAFE ? 'SAFE' : 'IDLE',
                idleMs: Math.max(0, now - slots.idleSince(slot)),
                requestsServed: slots.requests(slot),
                localAddress: slots.localAddress(slot),
                remoteAddress: formatAddress(s.address),
              });
              return true;
            });
          }
        });
      } finally {
        lock.unlock(th);
      }
    }
    return out;
  }

  /** Moves idle connections; resolves once they are adopted and listed on the destination. */
  takeover(req: TakeoverRequest): Promise<TakeoverResult> {
    this.#checkThread('to_thread', req.toThread);
    this.#checkThread('from_thread', req.fromThread);
    return this.supervisor.call<TakeoverResult>(req.toThread, {
      op: 'takeover',
      server: req.server,
      from: req.fromThread,
      count: req.count,
      connId: req.connectionId,
    });
  }

  async purge(req: { server?: number; thread?: number; minIdleMs: number }): Promise<number> {
    const threads = req.thread !== undefined ? [req.thread] : [...Array(this.threads).keys()];
    const results = await Promise.all(
      threads.map((th) =>
        this.supervisor.call<{ closed: number }>(th, {
          op: 'purge',
          server: req.server,
          minIdleMs: req.minIdleMs,
        }),
      ),
    );
    return results.reduce((n, r) => n + r.closed, 0);
  }

  execute(req: {
    thread: number;
    server: number;
    params: Record<string, string>;
    stdin: Uint8Array;
    timeoutMs: number;
  }): Promise<ExecuteResult> {
    this.#checkThread('thread', req.thread);
    return this.supervisor.call<ExecuteResult>(
      req.thread,
      { op: 'execute', server: req.server, params: req.params, stdin: req.stdin, timeoutMs: req.timeoutMs },
      req.timeoutMs + 5000,
    );
  }

  stop(graceMs = 10_000): Promise<void> {
    return this.supervisor.stop(graceMs);
  }

  #checkThread(field: string, th: number): void {
    if (!Number.isInteger(th) || th < 0 || th >= this.threads) {
      throw new ConfigError(field, `must be a thread from 0 to ${this.threads - 1}`);
    }
  }
}
