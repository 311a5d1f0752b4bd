// The Prometheus registry of the admin server: built once, filled at scrape time from one
// shared-memory snapshot (metric-families.ts). Names and labels are a contract with dashboards
// and alerts: docs/metrics.md lists every family, and the admin tests check them.
//
// Label values are bounded: thread ids, configured server names, the fixed sets of lock sites,
// takeover results, connection states and status codes. Series known at start exist from the
// first scrape at 0, so rate() and increase() see the first events.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { PoolRuntime } from '../pool/pool-runtime.ts';
import { LOCK_SITE_NAMES, ServerState, STATUS_CODE_NAMES, TAKEOVER_OUTCOME_NAMES } from '../shm/offsets.ts';
import type { ServerSnapshot, ShmSnapshot, ThreadSnapshot } from '../shm/stats-reader.ts';
import { Families, ScrapeSnapshot } from './metric-families.ts';

const EVENT_LOOP_PRECISION_MS = 100;

export interface AdminMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** The exposition text of one scrape. */
  render(): Promise<string>;
}

export interface MetricsOptions {
  runtime: PoolRuntime;
  /** True while the service drains (SIGTERM): fcgipool_ready drops to 0. */
  isDraining?: () => boolean;
  /** Node process metrics (process_*, nodejs_*) of the main thread; default true. */
  defaultMetrics?: boolean;
}

const CONNECTION_STATES = ['idle', 'safe', 'used'] as const;
const SERVER_STATES: ReadonlyArray<[number, string]> = [
  [ServerState.READY, 'ready'],
  [ServerState.DRAIN, 'drain'],
  [ServerState.MAINT, 'maint'],
];

export function buildMetrics(opts: MetricsOptions): AdminMetrics {
  const { runtime } = opts;
  const isDraining = opts.isDraining ?? (() => false);
  const registry = new Registry();
  const f = new Families(registry, new ScrapeSnapshot(runtime.stats));
  const thread = (t: number) => String(t);
  /** A family with one series per worker thread. */
  const perThread = (
    type: 'counter' | 'gauge',
    name: string,
    help: string,
    value: (t: ThreadSnapshot) => number,
  ) =>
    f[type](name, help, ['thread'], (put, snap) => {
      for (const t of snap.threads) put({ thread: thread(t.thread) }, value(t));
    });
  /** Configured servers of the snapshot with their names (an entry being added has none yet). */
  const named = (snap: ShmSnapshot): Array<[string, ServerSnapshot, number]> =>
    snap.servers.flatMap((s, k) => {
      const name = runtime.servers[s.server]?.name;
      return name === undefined ? [] : [[name, s, k] as [string, ServerSnapshot, number]];
    });

  // ---- the USR1 fast path and the takeover lock ----
  f.counter(
    'fcgipool_lock_acquisitions_total',
    'Backend I/O wake-ups (socket data, end, error, close, drain) by path: usr1_fast found USR1 clear and skipped the takeover lock, locked acquired the owner thread lock.',
    ['thread', 'path'],
    (put, snap) => {
      for (const t of snap.threads) {
        put({ thread: thread(t.thread), path: 'usr1_fast' }, t.usr1Fast);
        put({ thread: thread(t.thread), path: 'locked' }, t.locked);
      }
    },
  );
  f.counter(
    'fcgipool_takeover_lock_acquired_total',
    "Acquisitions of a thread's takeover lock (thread = the lock's owner) by site: wake, attach, detach, takeover, handoff, purge, control.",
    ['thread', 'site'],
    (put, snap) => {
      for (const t of snap.threads) {
        for (const site of LOCK_SITE_NAMES)
          put({ thread: thread(t.thread), site }, t.lock.acquisitions[site]);
      }
    },
  );
  perThread(
    'counter',
    'fcgipool_takeover_lock_contended_total',
    "Acquisitions of a thread's takeover lock that found it held and had to spin or wait.",
    (t) => t.lock.contended,
  );
  perThread(
    'counter',
    'fcgipool_takeover_lock_wait_seconds_total',
    "Time spent spinning or waiting for a thread's takeover lock on contended acquisitions.",
    (t) => t.lock.waitNs / 1e9,
  );
  perThread(
    'counter',
    'fcgipool_takeover_lock_try_failed_total',
    "Try-locks of a thread's takeover lock that found it held (a takeover scan skipped that thread).",
    (t) => t.lock.tryFailed,
  );

  // ---- connections per server ----
  f.gauge(
    'fcgipool_server_connections',
    'Backend connections by server, thread and state: idle and safe are in that thread idle lists, used are attached to a request.',
    ['server', 'thread', 'state'],
    (put, snap) => {
      for (const [server, , k] of named(snap)) {
        for (const t of snap.threads) {
          const ts = t.servers[k];
          for (const state of CONNECTION_STATES) put({ server, thread: thread(t.thread), state }, ts[state]);
        }
      }
    },
  );
  f.gauge(
    'fcgipool_server_open_connections',
    'Connections open to a server, all threads together (idle, used, opening or moving between threads).',
    ['server'],
    (put, snap) => {
      for (const [server, s] of named(snap)) put({ server }, s.curConns);
    },
  );
  f.gauge(
    'fcgipool_server_max_connections',
    "The cap on a server's connections (its pm.max_children).",
    ['server'],
    (put, snap) => {
      for (const [server, s] of named(snap)) put({ server }, s.maxConnections);
    },
  );
  f.gauge(
    'fcgipool_server_state',
    'Administrative state of a server: 1 for its current state (ready, drain, maint), 0 for the others.',
    ['server', 'state'],
    (put, snap) => {
      for (const [server, s] of named(snap)) {
        for (const [value, state] of SERVER_STATES) put({ server, state }, s.state === value ? 1 : 0);
      }
    },
  );
  f.counter(
    'fcgipool_server_connections_opened_total',
    'Connections opened to a server.',
    ['server'],
    (put, snap) => {
      for (const [server, s] of named(snap)) put({ server }, s.opened);
    },
  );
  f.counter(
    'fcgipool_server_connection_reuses_total',
    'Requests sent on a connection that had already served one (keep-alive reuse).',
    ['server'],
    (put, snap) => {
      for (const [server, s] of named(snap)) put({ server }, s.reuses);
    },
  );
  f.counter(
    'fcgipool_server_connections_purged_total',
    'Idle connections closed by the purge after their idle delay.',
    ['server'],
    (put, snap) => {
      for (const [server, s] of named(snap)) put({ server }, s.purged);
    },
  );
  f.gauge(
    'fcgipool_server_queue_length',
    'Requests waiting for a connection to a server, all threads together.',
    ['server'],
    (put, snap) => {
      for (const [server, s] of named(snap)) put({ server }, s.queue);
    },
  );

  // ---- takeovers ----
  f.counter(
    'fcgipool_takeovers_total',
    'Moves of a connection between threads, pulled (stolen) or pushed to a waiting thread, by result: success (adopted), empty (nothing to take), busy (skipped a locked thread), failed (hand-off lost: connection closed or timed out).',
    ['server', 'result'],
    (put, snap) => {
      for (const [server, s] of named(snap)) {
        for (const result of TAKEOVER_OUTCOME_NAMES) put({ server, result }, s.takeovers[result]);
      }
    },
  );
  f.counter(
    'fcgipool_takeover_pushes_total',
    'Connections handed straight to a thread with a waiting request when they went idle (push; counted as success once adopted).',
    ['server'],
    (put, snap) => {
      for (const [server, s] of named(snap)) put({ server }, s.pushed);
    },
  );
  f.histogram(
    'fcgipool_takeover_handoff_seconds',
    'Successful moves of a connection between threads, from the steal or push decision to the adoption of the socket (1 ms resolution).',
    [],
    (put, snap) => {
      const first = snap.threads[0].handoff;
      const sum = { ...first, buckets: first.buckets.map(() => 0), count: 0, sumSeconds: 0 };
      for (const t of snap.threads) {
        t.handoff.buckets.forEach((n, i) => {
          sum.buckets[i] += n;
        });
        sum.count += t.handoff.count;
        sum.sumSeconds += t.handoff.sumSeconds;
      }
      put({}, sum);
    },
  );

  // ---- requests ----
  f.counter(
    'fcgipool_requests_total',
    'Requests answered through a server by HTTP status: common codes as themselves, others by class (4xx, 5xx).',
    ['server', 'code'],
    (put, snap) => {
      for (const [server, s] of named(snap)) {
        for (const code of STATUS_CODE_NAMES) put({ server, code }, s.requests[code]);
      }
    },
  );
  f.histogram(
    'fcgipool_request_duration_seconds',
    'Time from receiving a request to the end of its response, by server.',
    ['server'],
    (put, snap) => {
      for (const [server, s] of named(snap)) put({ server }, s.duration);
    },
  );
  f.counter(
    'fcgipool_gateway_answers_total',
    'Requests the gateway answered itself, no backend asked, by HTTP status: refusals (400, 403, 404, 413, 431 ...), static files, requests that did not parse, 503 with no server up.',
    ['code'],
    (put, snap) => {
      for (const code of STATUS_CODE_NAMES) {
        put(
          { code },
          snap.threads.reduce((n, t) => n + t.answered[code], 0),
        );
      }
    },
  );
  perThread(
    'counter',
    'fcgipool_thread_requests_total',
    'Requests attached to a backend connection on each worker thread (a retried request counts again).',
    (t) => t.requests,
  );

  // ---- client connections ----
  perThread(
    'gauge',
    'fcgipool_http_connections',
    'Client (HTTP) connections open on each worker thread.',
    (t) => t.clients,
  );
  perThread(
    'counter',
    'fcgipool_http_connections_accepted_total',
    "Client connections each worker thread's listener accepted.",
    (t) => t.clientsAccepted,
  );
  perThread(
    'counter',
    'fcgipool_http_connections_moved_total',
    'Client connections a worker thread accepted and moved to a thread holding fewer (the kernel spreads them unevenly).',
    (t) => t.clientsMoved,
  );

  // ---- threads and process ----
  perThread(
    'gauge',
    'fcgipool_event_loop_utilization_ratio',
    "Share of the last second a worker thread's event loop spent running (performance.eventLoopUtilization).",
    (t) => t.eventLoopUtilization,
  );
  perThread('counter', 'fcgipool_worker_restarts_total', 'Worker threads restarted after they died.', (t) =>
    runtime.supervisor.restarts(t.thread),
  );
  f.gauge(
    'fcgipool_connection_slots',
    'Shared-memory connection slots by state: free, attached (held, in no list), idle, safe, stolen (hand-off under way).',
    ['state'],
    (put, snap) => {
      const { free, attached, idle, safe, stolen } = snap.slots;
      for (const [state, n] of Object.entries({ free, attached, idle, safe, stolen })) put({ state }, n);
    },
  );
  f.gauge(
    'fcgipool_ready',
    '1 when every worker is up, a server is ready and the service is not draining (what /readyz answers).',
    [],
    (put) => {
      put({}, runtime.ready && !isDraining() ? 1 : 0);
    },
  );

  // The event-loop delay of the main thread (no request I/O runs there) sampled every 100 ms,
  // not prom-client's 10: its timer woke an idle service 200 times a second.
  if (opts.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS });
  }
  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}
