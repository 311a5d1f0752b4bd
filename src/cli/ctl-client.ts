// The gRPC side of `fcgi-pool ctl`: one channel to the control plane, plain text or TLS, the
// bearer token in every call's metadata, and promise-shaped unary calls.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import {
  type CallOptions,
  type ChannelCredentials,
  type ClientReadableStream,
  credentials,
  Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { healthClient, poolProto } from '../control/proto.ts';
import { ConfigError } from '../errors.ts';
import type { IdleListChange__Output } from '../generated/fcgipool/v1/IdleListChange.ts';
import type { PoolControlClient } from '../generated/fcgipool/v1/PoolControl.ts';
import type { WatchIdleRequest } from '../generated/fcgipool/v1/WatchIdleRequest.ts';

export interface TlsOptions {
  /** CA bundle that signed the server's certificate (default: the system's roots). */
  ca?: string;
  /** Client certificate and key, for mutual TLS. */
  cert?: string;
  key?: string;
  /** Expect this name in the server's certificate instead of the address's host. */
  serverName?: string;
}

export interface ConnectOptions {
  address: string;
  token?: string;
  /** null: plain text. */
  tls: TlsOptions | null;
}

export class CtlClient {
  readonly raw: PoolControlClient;
  readonly #token: string | undefined;
  readonly #address: string;
  readonly #creds: ChannelCredentials;
  readonly #options: Record<string, string>;

  constructor(opts: ConnectOptions) {
    if (opts.tls !== null && opts.tls.serverName === undefined && isIP(hostOf(opts.address)) !== 0) {
      // grpc-js sends the target's host as TLS server name and Node 26 refuses an IP address there
      throw new ConfigError(
        '--server-name',
        `is needed for TLS to an IP address (${opts.address}): give a DNS name of the server certificate, ` +
          'e.g. --server-name localhost, or use that name in --address',
      );
    }
    this.#token = opts.token;
    this.#address = opts.address;
    this.#creds = channelCredentials(opts.tls);
    this.#options = opts.tls?.serverName ? { 'grpc.ssl_target_name_override': opts.tls.serverName } : {};
    const { PoolControl } = poolProto().grpc.fcgipool.v1;
    this.raw = new PoolControl(opts.address, this.#creds, this.#options);
  }

  /** One unary PoolControl call by its RPC name; rejects with the ServiceError. */
  call<T>(method: string, request: object, deadlineMs: number | undefined): Promise<T> {
    const fn = (this.raw as unknown as Record<string, Function>)[method];
    return new Promise<T>((resolve, reject) => {
      fn.call(
        this.raw,
        request,
        this.#metadata(),
        this.#callOptions(deadlineMs),
        (err: Error | null, res: T) => (err ? reject(err) : resolve(res)),
      );
    });
  }

  watchIdle(request: WatchIdleRequest): ClientReadableStream<IdleListChange__Output> {
    return this.raw.WatchIdle(request, this.#metadata());
  }

  /** grpc.health.v1.Health/Check: "SERVING", "NOT_SERVING", ... (no token needed). */
  health(service: string, deadlineMs: number | undefined): Promise<string> {
    const Health = healthClient();
    const client = new Health(this.#address, this.#creds, this.#options);
    return new Promise<string>((resolve, reject) => {
      client.Check(
        { service },
        this.#callOptions(deadlineMs),
        (err: Error | null, res: { status: string }) => {
          client.close();
          if (err) reject(err);
          else resolve(res.status);
        },
      );
    });
  }

  close(): void {
    this.raw.close();
  }

  #metadata(): Metadata {
    const md = new Metadata();
    if (this.#token !== undefined) md.set('authorization', `Bearer ${this.#token}`);
    return md;
  }

  #callOptions(deadlineMs: number | undefined): CallOptions {
    return deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
  }
}

/** "10.0.0.5" of "10.0.0.5:50051", "::1" of "[::1]:50051". */
function hostOf(address: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (m) return m[1];
  const colon = address.lastIndexOf(':');
  return colon > 0 && address.indexOf(':') === colon ? address.slice(0, colon) : address;
}

function channelCredentials(tls: TlsOptions | null): ChannelCredentials {
  if (tls === null) return credentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ConfigError(
      tls.cert === undefined ? '--cert' : '--key',
      'is needed with --cert and --key together',
    );
  }
  const read = (flag: string, file: string | undefined) => {
    if (file === undefined) return null;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(flag, `cannot read ${file}: ${(err as Error).message}`);
    }
  };
  return credentials.createSsl(read('--ca', tls.ca), read('--key', tls.key), read('--cert', tls.cert));
}

/** "NOT_FOUND: server: no server named "x"", with a hint when the server cannot be reached. */
export function describeError(err: unknown, address: string): string {
  const e = err as Partial<ServiceError>;
  if (typeof e.code !== 'number') return (err as Error)?.message ?? String(err);
  const name = status[e.code] ?? String(e.code);
  const hint =
    e.code === status.UNAVAILABLE && (e.details ?? '').startsWith('No connection established')
      ? ` (is fcgi-pool serving gRPC on ${address}? set --address)`
      : '';
  return `${name}: ${e.details ?? e.message}${hint}`;
}
