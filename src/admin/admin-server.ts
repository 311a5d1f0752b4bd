// The admin HTTP server of the main thread (DESIGN §3, §6): Prometheus metrics, probes for
// Kubernetes and a status page. Built by a factory and tested with inject(); the caller listens.
// Everything it shows is read from shared memory at request time: no message to the workers.
//
//   GET /metrics       Prometheus text format (prom-client)
//   GET /healthz       200 while the process answers (liveness)
//   GET /readyz        200 when every worker is up and a server is READY; 503 otherwise or while draining
//   GET /              status page (HTML), polling
//   GET /status.json   the page's data
import Fastify, { type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { PoolRuntime } from '../pool/pool-runtime.ts';
import { ServerState } from '../shm/offsets.ts';
import { type AdminMetrics, buildMetrics } from './metrics.ts';
import { buildStatus } from './status.ts';
import { STATUS_CSP, STATUS_CSS, STATUS_HTML, STATUS_JS } from './status-page.ts';

export interface AdminOptions {
  runtime: PoolRuntime;
  /** True once the service drains (SIGTERM): /readyz answers 503 so traffic moves away. */
  isDraining?: () => boolean;
  log?: Logger;
  /** A registry built elsewhere; by default one is built for this server. */
  metrics?: AdminMetrics;
}

export interface Readiness {
  ready: boolean;
  draining: boolean;
  workersReady: boolean;
  /** Names of the servers in state READY. */
  readyServers: string[];
}

export function readiness(runtime: PoolRuntime, draining: boolean): Readiness {
  const readyServers = runtime.servers.flatMap((s, i) =>
    s !== undefined && runtime.shm.counters.state(i) === ServerState.READY ? [s.name] : [],
  );
  const workersReady = runtime.supervisor.allReady;
  return {
    ready: !draining && workersReady && readyServers.length > 0,
    draining,
    workersReady,
    readyServers,
  };
}

export function buildAdmin(opts: AdminOptions): FastifyInstance {
  const { runtime } = opts;
  const isDraining = opts.isDraining ?? (() => false);
  const metrics = opts.metrics ?? buildMetrics({ runtime, isDraining });
  const app = Fastify({
    ...(opts.log ? { loggerInstance: opts.log.child({ component: 'admin' }) } : { logger: false }),
    // a scrape and two probes every few seconds would drown the log
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.contentType).header('cache-control', 'no-store');
    return metrics.render();
  });

  app.get('/healthz', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  app.get('/readyz', async (_req, reply) => {
    const r = readiness(runtime, isDraining());
    reply.code(r.ready ? 200 : 503).header('cache-control', 'no-store');
    return { status: r.ready ? 'ready' : r.draining ? 'draining' : 'not ready', ...r };
  });

  app.get('/status.json', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return buildStatus(runtime, isDraining());
  });

  const page = (body: string, type: string) => async (_req: unknown, reply: FastifyReply) => {
    reply.header('content-type', type).header('content-security-policy', STATUS_CSP);
    return body;
  };
  app.get('/', page(STATUS_HTML, 'text/html; charset=utf-8'));
  app.get('/status.js', page(STATUS_JS, 'text/javascript; charset=utf-8'));
  app.get('/status.css', page(STATUS_CSS, 'text/css; charset=utf-8'));
  // browsers ask for it with every page load: no icon, and no 404 in their console
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());

  return app;
}
