// The pool's programmatic API in the main thread, for the gRPC control plane, the admin server,
// the CLI and tests: start the workers, list idle connections, take over, purge, read lock
// statistics, execute a FastCGI request on a chosen thread. Reads go straight to shared memory
// (no message per call); anything that touches a connection asks the thread that holds it.
import os from 'node:os';
import { ConfigError } from '../errors.ts';
import { LockSite } from '../shm/lock.ts';
import { SharedState } from '../shm/shared-state.ts';
import { ListKind } from '../shm/slots.ts';
import type { ExecuteResult, TakeoverResult } from '../worker/messages.ts';
import { Supervisor } from '../worker/supervisor.ts';
import type { PoolSettings, WorkerInit } from '../worker/worker-init.ts';
import { formatAddress } from './connector.ts';
import type { ServerSettings } from './server-pool.ts';

export interface RuntimeOptions {
  threads?: number;
  servers: ServerSettings[];
  pool: PoolSettings;
  /** Server capacity including headroom for servers added at run time. */
  maxServers?: number;
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

  private constructor(shm: SharedState, supervisor: Supervisor, servers: ServerSettings[]) {
    this.shm = shm;
    this.supervisor = supervisor;
    this.servers = servers;
    this.threads = shm.cfg.threads;
  }

  static async start(opts: RuntimeOptions): Promise<PoolRuntime> {
    const threads = opts.threads ?? os.availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new ConfigError('threads', 'must be an integer from 1 to 64');
    }
    const maxServers = Math.max(opts.maxServers ?? 16, opts.servers.length);
    const perServer = opts.servers.reduce((n, s) => n + s.maxConnections, 0);
    // slots for every configured connection plus room for servers added at run time
    const maxSlots = Math.max(256, perServer * 2);
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
    await supervisor.start();
    return new PoolRuntime(shm, supervisor, [...opts.servers]);
  }

  serverIndex(name: string): number {
    return this.servers.findIndex((s) => s?.name === name);
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
