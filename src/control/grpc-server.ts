// The gRPC control plane: PoolControl, grpc.health.v1.Health and server reflection on one
// listener, plain text on loopback or TLS / mutual TLS. Built, started and stopped here; the
// handlers live in pool-control.ts.
//
// Exposure policy: the schema refuses plain text on a non-loopback address unless
// grpc.allowInsecureRemote; this file also refuses a non-loopback listener without
// authentication (no token and no required client certificate) unless allowInsecureRemote.
import { readFileSync } from 'node:fs';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from 'pino';
import { formatAddress, isLoopbackHost, type ListenAddress } from '../config/address.ts';
import type { GrpcConfig } from '../config/schema.ts';
import type { ServerDefaults } from '../config/server-schema.ts';
import { ConfigError } from '../errors.ts';
import type { PoolRuntime } from '../pool/pool-runtime.ts';
import { TokenAuth } from './auth.ts';
import { ControlHealth } from './health.ts';
import { poolControlHandlers } from './pool-control.ts';
import { poolProto, reflectedDefinition } from './proto.ts';
import { IdleWatchHub } from './watch-idle.ts';

export interface ControlServerOptions {
  runtime: PoolRuntime;
  listen: ListenAddress;
  grpc: GrpcConfig;
  /** Unset AddServer fields come from here. */
  serverDefaults: ServerDefaults;
  log?: Logger;
}

export interface ControlServer {
  /** The bound address, "host:port" (the real port when 0 was asked). */
  readonly address: string;
  readonly port: number;
  readonly tls: boolean;
  readonly health: ControlHealth;
  readonly watch: IdleWatchHub;
  /** false: health turns NOT_SERVING at once (shutdown); true: health follows readiness. */
  setServing(serving: boolean): void;
  /** Health NOT_SERVING, watch streams ended, then calls get `graceMs` to finish. */
  stop(graceMs?: number): Promise<void>;
}

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const { runtime, listen, grpc: cfg, log } = opts;
  const auth = new TokenAuth(cfg.tokens);
  const mtls = cfg.tls?.requireClientCert === true;
  if (!isLoopbackHost(listen.host) && !auth.enabled && !mtls && !cfg.allowInsecureRemote) {
    throw new ConfigError(
      'grpc.tokens',
      `${formatAddress(listen)} is reachable from other hosts and nothing authenticates callers: ` +
        'set grpc.tokens.admin (and readOnly), or grpc.tls.requireClientCert, ' +
        'or set grpc.allowInsecureRemote to accept anyone who can connect',
    );
  }
  const credentials = serverCredentials(cfg);
  const health = new ControlHealth(() => runtime.ready);
  const watch = new IdleWatchHub(runtime);
  const server = new Server();
  server.addService(
    poolProto().grpc.fcgipool.v1.PoolControl.service,
    poolControlHandlers({ runtime, auth, health, watch, serverDefaults: opts.serverDefaults, log }),
  );
  health.addToServer(server);
  new ReflectionService(reflectedDefinition()).addToServer(server);

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(formatAddress(listen), credentials, (err, p) => (err ? reject(err) : resolve(p)));
    });
  } catch (err) {
    health.close();
    server.forceShutdown();
    throw new ConfigError(
      'listen.grpc',
      `cannot listen on ${formatAddress(listen)}: ${(err as Error).message}`,
    );
  }
  const address = formatAddress({ host: listen.host, port });
  log?.info(
    { grpc: address, tls: cfg.tls !== undefined, mtls, auth: auth.enabled ? 'tokens' : 'off' },
    'gRPC control plane listening',
  );

  let stopped: Promise<void> | null = null;
  return {
    address,
    port,
    tls: cfg.tls !== undefined,
    health,
    watch,
    setServing: (serving) => health.setServing(serving),
    stop(graceMs = 5000) {
      stopped ??= new Promise<void>((resolve) => {
        health.setServing(false);
        watch.closeAll();
        health.close();
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return stopped;
    },
  };
}

function serverCredentials(cfg: GrpcConfig): ServerCredentials {
  const tls = cfg.tls;
  if (tls === undefined) return ServerCredentials.createInsecure();
  const read = (field: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(field, `cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const cert = read('grpc.tls.cert', tls.cert);
  const key = read('grpc.tls.key', tls.key);
  const ca = tls.ca !== undefined ? read('grpc.tls.ca', tls.ca) : null;
  return ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], tls.requireClientCert);
}
