// The service in the main thread: configuration → backends (the embedded responder when none is
// configured) → worker threads with their pools and HTTP gateways. Control plane (gRPC) and
// admin server attach to the PoolRuntime this returns. The main thread does no request I/O,
// except for the embedded demo backend of `npm start`.
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Config } from './config/schema.ts';
import { FcgiResponder } from './fcgi/responder.ts';
import type { GatewayOptions } from './gateway/gateway-options.ts';
import { PoolRuntime } from './pool/pool-runtime.ts';
import type { ServerSettings } from './pool/server-pool.ts';

export interface Service {
  runtime: PoolRuntime;
  config: Config;
  /** The embedded responder's address when it serves as the backend. */
  embedded: string | null;
  stop(): Promise<void>;
}

const DATA_PLANE = fileURLToPath(new URL('./gateway/data-plane.ts', import.meta.url));

export async function startService(config: Config, log: Logger): Promise<Service> {
  let responder: FcgiResponder | null = null;
  let servers: ServerSettings[] = config.servers.map((s) => ({ ...s }));
  if (servers.length === 0) {
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
    app: config.app,
    servers: servers.map((_, i) => i),
    maxBodyBytes: config.app.maxBodyBytes,
    maxResponseHeaderBytes: config.app.maxResponseHeaderBytes,
    retryNonIdempotent: config.app.retryNonIdempotent,
    accessLog: config.log.access,
    logLevel: config.log.level,
    keepAliveTimeoutMs: 5000,
    requestTimeoutMs: 300_000,
    headersTimeoutMs: 60_000,
  };
  let runtime: PoolRuntime;
  try {
    runtime = await PoolRuntime.start({
      threads: config.threads,
      servers,
      maxServers: config.pool.maxServers,
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
  let stopping = false;
  runtime.supervisor.on('exit', (thread: number, code: number, reclaimed: unknown) => {
    if (!stopping) log.warn({ worker: thread, code, reclaimed }, 'worker exited: restarting it');
  });
  return {
    runtime,
    config,
    embedded: responder ? servers[0].name : null,
    async stop() {
      stopping = true;
      await runtime.stop(config.shutdown.graceMs);
      await responder?.close();
    },
  };
}
