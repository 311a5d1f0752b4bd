// A running control plane for the tests: a PoolRuntime (real worker threads) in front of the
// embedded FastCGI responder or a real php-fpm, the gRPC server on 127.0.0.1:<port 0>, and real
// @grpc/grpc-js clients with promise wrappers.
import {
  type CallOptions,
  type ChannelCredentials,
  type ClientReadableStream,
  credentials,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { DEFAULTS, type GrpcConfig } from '../../src/config/schema.ts';
import { type ControlServer, startControlServer } from '../../src/control/grpc-server.ts';
import { poolProto } from '../../src/control/proto.ts';
import { FcgiResponder } from '../../src/fcgi/responder.ts';
import type {
  PoolControlClient,
  PoolControlDefinition,
} from '../../src/generated/fcgipool/v1/PoolControl.ts';
import type { PoolRuntime } from '../../src/pool/pool-runtime.ts';
import { startTestPool, type TestPoolOptions } from '../helpers/pool.ts';

export interface ControlFixture {
  runtime: PoolRuntime;
  control: ControlServer;
  responder: FcgiResponder | null;
  /** A client; `token` goes in every call's metadata. */
  client(opts?: ClientOptions): Client;
  close(): Promise<void>;
}

export interface ControlFixtureOptions {
  threads?: number;
  grpc?: Partial<GrpcConfig>;
  /** The backend: default the embedded responder on a free port. */
  address?: TestPoolOptions['address'];
  pool?: Partial<TestPoolOptions>;
  listenHost?: string;
}

export async function startControlFixture(opts: ControlFixtureOptions = {}): Promise<ControlFixture> {
  let responder: FcgiResponder | null = null;
  let address = opts.address;
  if (address === undefined) {
    responder = new FcgiResponder();
    const a = await responder.listen(0, '127.0.0.1');
    address = { kind: 'tcp', host: a.host, port: a.port };
  }
  const runtime = await startTestPool({ threads: opts.threads ?? 2, address, ...opts.pool });
  let control: ControlServer;
  try {
    control = await startControlServer({
      runtime,
      listen: { host: opts.listenHost ?? '127.0.0.1', port: 0 },
      grpc: { ...DEFAULTS.grpc, ...opts.grpc },
      serverDefaults: DEFAULTS.serverDefaults,
    });
  } catch (err) {
    await runtime.stop(2000);
    await responder?.close();
    throw err;
  }
  const clients: PoolControlClient[] = [];
  return {
    runtime,
    control,
    responder,
    client(o = {}) {
      const c = connectClient(control.port, o);
      clients.push(c.raw);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await control.stop(1000);
      await runtime.stop(2000);
      await responder?.close();
    },
  };
}

export interface ClientOptions {
  token?: string;
  creds?: ChannelCredentials;
  /** TLS: the name expected in the server's certificate. */
  serverName?: string;
}

/** A PoolControl client of the server on 127.0.0.1:`port`; close it with client.raw.close(). */
export function connectClient(port: number, o: ClientOptions = {}): Client {
  const { PoolControl } = poolProto().grpc.fcgipool.v1;
  const raw = new PoolControl(
    `127.0.0.1:${port}`,
    o.creds ?? credentials.createInsecure(),
    o.serverName ? { 'grpc.ssl_target_name_override': o.serverName } : {},
  );
  return wrap(raw, o.token);
}

type Unary<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: CallOptions,
  cb: (e: ServiceError | null, r?: Res) => void,
) => unknown;
/** The unary RPCs of PoolControl (WatchIdle is the one stream). */
export const UNARY = [
  'ListServers',
  'AddServer',
  'RemoveServer',
  'SetServerState',
  'ListIdle',
  'Takeover',
  'PurgeIdle',
  'GetLockStats',
  'Execute',
] as const;
type UnaryName = (typeof UNARY)[number];
type ReqOf<K extends UnaryName> = Parameters<PoolControlDefinition[K]['requestSerialize']>[0];
type ResOf<K extends UnaryName> = ReturnType<PoolControlDefinition[K]['responseDeserialize']>;

export type Client = {
  [K in UnaryName]: (req: ReqOf<K>, opts?: CallOptions) => Promise<ResOf<K>>;
} & {
  WatchIdle: PoolControlClient['WatchIdle'] extends (req: infer Q, md: Metadata) => infer S
    ? (req: Q) => S
    : never;
  raw: PoolControlClient;
};

function wrap(raw: PoolControlClient, token: string | undefined): Client {
  const metadata = () => {
    const md = new Metadata();
    if (token !== undefined) md.set('authorization', `Bearer ${token}`);
    return md;
  };
  const unary =
    (name: string) =>
    (req: unknown, opts: CallOptions = {}) =>
      new Promise((resolve, reject) => {
        (raw as unknown as Record<string, Unary<unknown, unknown>>)[name].call(
          raw,
          req,
          metadata(),
          opts,
          (err, res) => (err ? reject(err) : resolve(res)),
        );
      });
  const client = Object.fromEntries(UNARY.map((n) => [n, unary(n)])) as unknown as Client;
  client.WatchIdle = ((req: Parameters<PoolControlClient['WatchIdle']>[0]) =>
    raw.WatchIdle(req, metadata())) as Client['WatchIdle'];
  client.raw = raw;
  return client;
}

/** The next `n` messages of a stream. */
export function take<T>(stream: ClientReadableStream<T>, n: number): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    const onData = (m: T) => {
      got.push(m);
      if (got.length === n) {
        stream.off('data', onData);
        stream.off('error', reject);
        resolve(got);
      }
    };
    stream.on('data', onData);
    stream.on('error', reject);
  });
}

/** Rejects with the gRPC error of `p`; fails if `p` resolves. */
export async function grpcError(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('the call succeeded; an error was expected');
}

/** Cancels a stream the test is done with (its CANCELLED error is expected, not a failure). */
export function cancel(stream: ClientReadableStream<unknown>): void {
  stream.on('error', () => {});
  stream.cancel();
}

/** Every message of a stream from now on, and a way to wait for one that matches. */
export function collect<T>(stream: ClientReadableStream<T>): {
  messages: T[];
  until(match: (m: T) => boolean): Promise<T>;
} {
  const messages: T[] = [];
  const waiters: Array<{ match: (m: T) => boolean; resolve: (m: T) => void }> = [];
  stream.on('data', (m: T) => {
    messages.push(m);
    for (const w of [...waiters]) {
      if (w.match(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  return {
    messages,
    until(match) {
      const seen = messages.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        stream.once('error', reject);
      });
    },
  };
}
