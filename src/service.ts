// The service in the main thread: configuration → backends (the embedded responder when none is
// configured) → worker threads with their pools and HTTP gateways. Control plane (gRPC) and
// admin server attach to the PoolRuntime this returns. The main thread does no request I/O,
// except for the embedded demo backend of `npm start`.
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildAdmin } from './admin/admin-server.ts';
import type { Config } from './config/schema.ts';
import { type ControlServer, startControlServer } from './control/grpc-server.ts';
import { DnsDiscovery, dnsResolveAll } from './discovery/dns-discovery.ts';
import { ReplicaCap } from './discovery/replica-cap.ts';
import { FcgiResponder } from './fcgi/responder.ts';
import type { GatewayOptions } from './gateway/gateway-options.ts';
import { PoolRuntime } from './pool/pool-runtime.ts';
import type { ServerSettings } from './pool/server-pool.ts';

export interface Service {
  runtime: PoolRuntime;
  config: Config;
  /** The embedded responder's address when it serves as the backend. */
  embedded: string | null;
  /** The gRPC control plane; control.setServing(false) turns its health NOT_SERVING at once. */
  control: ControlServer;
  /** The admin HTTP server (/metrics, /healthz, /readyz, status page), listening on listen.admin. */
  admin: FastifyInstance;
  /** True from the start of stop(): /readyz answers 503 so load balancers move traffic away. */
  readonly draining: boolean;
  stop(): Promise<void>;
}

const DATA_PLANE = fileURLToPath(new URL('./gateway/data-plane.ts', import.meta.url));

export async function startService(config: Config, log: Logger): Promise<Service> {
  let responder: FcgiResponder | null = null;
  // a backend named by a DNS host (a headless Service) is discovered: one server per record
  const named = config.servers.filter((s) => s.address.kind === 'tcp' && isIP(s.address.host) === 0);
  let servers: ServerSettings[] = config.servers.filter((s) => !named.includes(s)).map((s) => ({ ...s }));
  if (config.servers.length === 0) {
    responder = new FcgiResponder({});
    const { host, port } = await responder.listen(0, '127.0.0.1');
    const d = config.serverDefaults;
    servers = [
      {
        name: 'embedded',
        address: { kind: 'tcp', host, port },
        maxConnections: d.maxConnections,
        maxIdle: Math.min(d.maxIdle ?? d.maxConnections, d.maxConnections),
        reuse: d.reuse,
        purgeDelayMs: d.purgeDelayMs,
        maxRequestsPerConnection: d.maxRequestsPerConnection,
        connectTimeoutMs: d.connectTimeoutMs,
        readTimeoutMs: d.readTimeoutMs,
      },
    ];
    log.info({ backend: `${host}:${port}` }, 'no backend configured: serving the embedded FastCGI responder');
  }
  const gateway: GatewayOptions = {
    listen: { host: config.listen.http.host, port: config.listen.http.port },
    // the embedded responder routes by REQUEST_URI (/echo, /sleep, /bytes): every path goes to it
    app: responder ? { ...config.app, routeAll: true } : config.app,
    // no fixed server list: servers discovered or added at run time take traffic too
    maxBodyBytes: config.app.maxBodyBytes,
    maxResponseHeaderBytes: config.app.maxResponseHeaderBytes,
    retryNonIdempotent: config.app.retryNonIdempotent,
    accessLog: config.log.access,
    logLevel: config.log.level,
    keepAliveTimeoutMs: config.app.keepAliveTimeoutMs,
    requestTimeoutMs: config.app.requestTimeoutMs,
    headersTimeoutMs: config.app.headerTimeoutMs,
    fastFront: config.httpFront === 'fast',
    warmUp: config.warmUp,
  };
  let runtime: PoolRuntime;
  try {
    runtime = await PoolRuntime.start({
      threads: config.threads,
      servers,
      maxServers: config.pool.maxServers,
      // discovered servers need slots too: room for every server entry at the largest cap
      maxSlots: Math.max(
        256,
        2 * servers.reduce((n, s) => n + s.maxConnections, 0),
        config.pool.maxServers *
          Math.max(config.serverDefaults.maxConnections, ...config.servers.map((s) => s.maxConnections)),
      ),
      pool: {
        fastPath: config.fastPath,
        starvationBoundMs: config.pool.starvationBoundMs,
        lowIdleNoSteal: config.pool.lowIdleNoSteal,
        handoffTimeoutMs: config.pool.handoffTimeoutMs,
        queueTimeoutMs: config.pool.queueTimeoutMs,
        maxQueue: config.pool.maxQueue,
        purgeIntervalMs: Math.max(100, Math.min(1000, ...servers.map((s) => s.purgeDelayMs / 2))),
      },
      gateway: { module: DATA_PLANE, options: gateway },
    });
  } catch (err) {
    await responder?.close();
    throw err;
  }
  let control: ControlServer;
  try {
    control = await startControlServer({
      runtime,
      listen: config.listen.grpc,
      grpc: config.grpc,
      serverDefaults: config.serverDefaults,
      log,
    });
  } catch (err) {
    await runtime.stop(0);
    await responder?.close();
    throw err;
  }
  // each replica's share of the backends' children follows the replica count (discovery.peers)
  const shared = new Map(
    config.servers.flatMap((s) =>
      s.sharedMaxConnections ? [[s.name, s.sharedMaxConnections] as const] : [],
    ),
  );
  const replicaCap =
    config.discovery.peers !== undefined && shared.size > 0
      ? new ReplicaCap(runtime, {
          peers: config.discovery.peers,
          shared,
          intervalMs: config.discovery.intervalMs,
          resolve: dnsResolveAll(),
          log,
        })
      : null;
  await replicaCap?.start();
  const discoveries = named.map(
    (s) =>
      new DnsDiscovery(runtime, {
        template: { ...s, address: s.address as { kind: 'tcp'; host: string; port: number } },
        intervalMs: config.discovery.intervalMs,
        resolve: dnsResolveAll(),
        log,
        drainMs: config.shutdown.graceMs,
        // a pod that joins gets this replica's share at once, not at the next peer lookup
        onJoined: () => replicaCap?.apply(),
      }),
  );
  await Promise.all(discoveries.map((d) => d.start()));
  let draining = false;
  const admin = buildAdmin({ runtime, isDraining: () => draining, log });
  try {
    await admin.listen({ host: config.listen.admin.host, port: config.listen.admin.port });
  } catch (err) {
    replicaCap?.stop();
    await Promise.all(discoveries.map((d) => d.stop()));
    await control.stop(0);
    await runtime.stop(0);
    await responder?.close();
    throw err;
  }
  let stopping = false;
  runtime.supervisor.on('exit', (thread: number, code: number, reclaimed: unknown) => {
    if (!stopping) log.warn({ worker: thread, code, reclaimed }, 'worker exited: restarting it');
  });
  return {
    runtime,
    config,
    embedded: responder ? servers[0].name : null,
    control,
    admin,
    get draining() {
      return draining;
    },
    async stop() {
      stopping = true;
      draining = true;
      control.setServing(false);
      // keep serving while load balancers notice /readyz failing (shutdown.delayMs)
      if (config.shutdown.delayMs > 0) await new Promise((r) => setTimeout(r, config.shutdown.delayMs));
      replicaCap?.stop();
      await Promise.all(discoveries.map((d) => d.stop()));
      // control plane and data plane drain side by side: the bound is delay + grace
      await Promise.all([
        control.stop(Math.min(5000, config.shutdown.graceMs)),
        runtime.stop(config.shutdown.graceMs),
      ]);
      // last: probes and scrapes see the drain through to the end
      await admin.close();
      await responder?.close();
    },
  };
}
