// The status page's data (/status.json): one shared-memory snapshot plus the idle lists, shaped
// for a person — totals per thread and server; the page derives rates from two polls. Reading it
// costs no message to the workers: the idle lists are read under a try-lock (PoolRuntime.listIdle).
import type { IdleConnectionInfo, PoolRuntime } from '../pool/pool-runtime.ts';
import { LOCK_SITE_NAMES, ServerState } from '../shm/offsets.ts';
import type { TakeoverOutcomeName } from '../shm/stats-reader.ts';

export interface ThreadStatus {
  thread: number;
  restarts: number;
  eventLoopUtilization: number;
  /** Backend I/O wake-ups that skipped the lock (USR1 clear) / took it. */
  usr1Fast: number;
  locked: number;
  requests: number;
  handoffs: number;
  handoffMeanMs: number;
  lock: {
    /** Holder's thread id now, -1 when free. */
    holder: number;
    acquisitions: number;
    bySite: Record<string, number>;
    contended: number;
    tryFailed: number;
    waitMs: number;
  };
}

export interface ServerStatus {
  index: number;
  name: string;
  address: string;
  state: 'READY' | 'DRAIN' | 'MAINT';
  open: number;
  maxConnections: number;
  idle: number;
  safe: number;
  used: number;
  queue: number;
  opened: number;
  reuses: number;
  purged: number;
  pushed: number;
  takeovers: Record<TakeoverOutcomeName, number>;
  /** Requests answered through this server (all codes). */
  requests: number;
  perThread: Array<{
    thread: number;
    idle: number;
    safe: number;
    used: number;
    queue: number;
    oldestWaitMs: number;
  }>;
}

export interface StatusReport {
  /** Wall-clock ms of the snapshot. */
  time: number;
  uptimeSeconds: number;
  ready: boolean;
  draining: boolean;
  threads: ThreadStatus[];
  servers: ServerStatus[];
  idle: { total: number; shown: IdleConnectionInfo[] };
  slots: { total: number; free: number; attached: number; idle: number; safe: number; stolen: number };
}

/** At most this many idle connections are listed one by one (the counts cover them all). */
export const IDLE_SHOWN = 50;
const STATE_NAMES: Record<number, ServerStatus['state']> = {
  [ServerState.READY]: 'READY',
  [ServerState.DRAIN]: 'DRAIN',
  [ServerState.MAINT]: 'MAINT',
};

export async function buildStatus(runtime: PoolRuntime, draining: boolean): Promise<StatusReport> {
  const idle = await runtime.listIdle();
  idle.sort((a, b) => b.idleMs - a.idleMs);
  const snap = runtime.stats.snapshot();
  const threads: ThreadStatus[] = snap.threads.map((t) => {
    const bySite: Record<string, number> = {};
    let acquisitions = 0;
    for (const site of LOCK_SITE_NAMES) {
      bySite[site] = t.lock.acquisitions[site];
      acquisitions += t.lock.acquisitions[site];
    }
    return {
      thread: t.thread,
      restarts: runtime.supervisor.restarts(t.thread),
      eventLoopUtilization: t.eventLoopUtilization,
      usr1Fast: t.usr1Fast,
      locked: t.locked,
      requests: t.requests,
      handoffs: t.handoffs,
      handoffMeanMs: t.handoff.count > 0 ? (t.handoff.sumSeconds * 1000) / t.handoff.count : 0,
      lock: {
        holder: t.lock.holder,
        acquisitions,
        bySite,
        contended: t.lock.contended,
        tryFailed: t.lock.tryFailed,
        waitMs: t.lock.waitNs / 1e6,
      },
    };
  });
  const servers: ServerStatus[] = snap.servers.flatMap((s, k) => {
    const d = runtime.describeServer(s.server);
    if (d === undefined) return [];
    return [
      {
        index: s.server,
        name: d.name,
        address: d.address,
        state: STATE_NAMES[s.state] ?? 'MAINT',
        open: s.curConns,
        maxConnections: s.maxConnections,
        idle: s.idle,
        safe: s.safe,
        used: s.used,
        queue: s.queue,
        opened: s.opened,
        reuses: s.reuses,
        purged: s.purged,
        pushed: s.pushed,
        takeovers: { ...s.takeovers },
        requests: Object.values(s.requests).reduce((n, v) => n + v, 0),
        perThread: snap.threads.map((t) => {
          const ts = t.servers[k];
          return {
            thread: t.thread,
            idle: ts.idle,
            safe: ts.safe,
            used: ts.used,
            queue: ts.queue,
            oldestWaitMs: ts.oldestWaitMs,
          };
        }),
      },
    ];
  });
  return {
    time: Date.now(),
    uptimeSeconds: Math.round(process.uptime()),
    ready: runtime.ready && !draining,
    draining,
    threads,
    servers,
    idle: { total: idle.length, shown: idle.slice(0, IDLE_SHOWN) },
    slots: { ...snap.slots },
  };
}
