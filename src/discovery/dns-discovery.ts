// Backend discovery by DNS: a server entry that names a host (a Kubernetes headless Service)
// instead of an address becomes one pool server per A/AAAA record. The name is re-resolved on an
// interval: a new record joins as a READY server, a record that is gone is removed — its idle
// connections close, its in-flight requests finish — without a restart.
import { Resolver } from 'node:dns/promises';
import type { Logger } from 'pino';
import type { PoolRuntime } from '../pool/pool-runtime.ts';
import type { ServerSettings } from '../pool/server-pool.ts';
import { RefreshLoop } from './refresh-loop.ts';

export type ResolveAll = (host: string) => Promise<string[]>;

/** A and AAAA records of `host` through `resolver` (the system's, or a test's DNS server). */
export function dnsResolveAll(resolver: Resolver = new Resolver()): ResolveAll {
  return async (host) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const out = [
      ...(v4.status === 'fulfilled' ? v4.value : []),
      ...(v6.status === 'fulfilled' ? v6.value : []),
    ];
    if (out.length === 0 && v4.status === 'rejected') throw v4.reason;
    return out;
  };
}

export interface DnsDiscoveryOptions {
  /** The entry's settings; `address` names the DNS host and port. */
  template: ServerSettings & { address: { kind: 'tcp'; host: string; port: number } };
  intervalMs: number;
  resolve?: ResolveAll;
  log?: Logger;
  /** How long a removed backend's in-flight requests may take before its entry is freed. */
  drainMs?: number;
  /** Called after servers joined (the replica cap gives them their share). */
  onJoined?: () => void;
}

export class DnsDiscovery {
  readonly #runtime: PoolRuntime;
  readonly #opts: DnsDiscoveryOptions;
  readonly #resolve: ResolveAll;
  /** IP → server index of the servers this discovery added. */
  readonly #members = new Map<string, number>();
  #running: Promise<void> | null = null;
  readonly #loop: RefreshLoop;

  constructor(runtime: PoolRuntime, opts: DnsDiscoveryOptions) {
    this.#runtime = runtime;
    this.#opts = opts;
    this.#loop = new RefreshLoop(() => this.refresh(), opts.intervalMs);
    this.#resolve = opts.resolve ?? dnsResolveAll();
  }

  /** Server name of one record: the entry's name and the pod address. */
  nameOf(ip: string): string {
    return `${this.#opts.template.name}/${ip}`;
  }

  get members(): ReadonlyMap<string, number> {
    return this.#members;
  }

  /** Resolves once now, then on the interval. */
  async start(): Promise<void> {
    await this.refresh();
    this.#loop.start();
  }

  async stop(): Promise<void> {
    this.#loop.stop();
    await this.#running;
  }

  /** One round: add the new records, drain and remove the ones that are gone. */
  refresh(): Promise<void> {
    this.#running ??= this.#refresh().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #refresh(): Promise<void> {
    const { template, log } = this.#opts;
    let ips: string[];
    try {
      ips = [...new Set(await this.#resolve(template.address.host))];
    } catch (err) {
      // keep the current members: a resolver hiccup must not empty the pool
      log?.warn({ host: template.address.host, err: (err as Error).message }, 'DNS discovery: lookup failed');
      return;
    }
    for (const ip of ips) {
      if (this.#members.has(ip) || this.#loop.stopped) continue;
      const index = await this.#runtime.addServer({
        ...template,
        name: this.nameOf(ip),
        address: { kind: 'tcp', host: ip, port: template.address.port },
      });
      this.#members.set(ip, index);
      this.#opts.onJoined?.();
      log?.info({ server: this.nameOf(ip) }, 'DNS discovery: backend joined');
    }
    const gone = [...this.#members].filter(([ip]) => !ips.includes(ip));
    await Promise.all(
      gone.map(async ([ip, index]) => {
        this.#members.delete(ip);
        log?.info({ server: this.nameOf(ip) }, 'DNS discovery: backend left, draining it');
        await this.#runtime.removeServer(index, this.#opts.drainMs ?? 30_000);
      }),
    );
  }
}
