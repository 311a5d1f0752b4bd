// Capacity shared across replicas: several fcgi-pool replicas in front of one php-fpm pool must
// not together exceed its children, also while a HorizontalPodAutoscaler changes the replica
// count. Each replica counts its peers through fcgi-pool's own headless Service (one A record per
// ready pod) and caps each shared server at floor(total children ÷ replicas), at least 1.
// A lowered cap takes effect as connections are released (the pool closes those over the cap);
// a raised one at once. Between a scale-up and the next lookup the sum may exceed the children
// for one interval: keep the interval short (a few seconds) where that matters.
import type { Logger } from 'pino';
import type { PoolRuntime } from '../pool/pool-runtime.ts';
import type { ResolveAll } from './dns-discovery.ts';
import { RefreshLoop } from './refresh-loop.ts';

export interface ReplicaCapOptions {
  /** DNS name of fcgi-pool's own headless Service. */
  peers: string;
  /** Server name → the backend's total children (php-fpm pm.max_children) shared by all replicas. */
  shared: ReadonlyMap<string, number>;
  intervalMs: number;
  resolve: ResolveAll;
  log?: Logger;
}

export function capFor(totalChildren: number, replicas: number): number {
  return Math.max(1, Math.floor(totalChildren / Math.max(1, replicas)));
}

export class ReplicaCap {
  readonly #runtime: PoolRuntime;
  readonly #opts: ReplicaCapOptions;
  #replicas = 1;
  readonly #loop: RefreshLoop;

  constructor(runtime: PoolRuntime, opts: ReplicaCapOptions) {
    this.#runtime = runtime;
    this.#opts = opts;
    this.#loop = new RefreshLoop(() => this.refresh(), opts.intervalMs);
  }

  get replicas(): number {
    return this.#replicas;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.#loop.start();
  }

  stop(): void {
    this.#loop.stop();
  }

  async refresh(): Promise<void> {
    try {
      // this replica is one of them even before its own record is published (not ready yet)
      this.#replicas = Math.max(1, new Set(await this.#opts.resolve(this.#opts.peers)).size);
    } catch (err) {
      this.#opts.log?.warn(
        { peers: this.#opts.peers, err: (err as Error).message },
        'replica count lookup failed',
      );
      return;
    }
    this.apply();
  }

  /** Applies the current share to every shared server (a server that joined gets it at once). */
  apply(): void {
    this.#runtime.servers.forEach((s, index) => {
      if (!s) return;
      // a discovered server "<entry>/<ip>" shares its entry's children
      const slash = s.name.lastIndexOf('/');
      const total =
        this.#opts.shared.get(s.name) ??
        (slash > 0 ? this.#opts.shared.get(s.name.slice(0, slash)) : undefined);
      if (total === undefined) return;
      const cap = capFor(total, this.#replicas);
      if (this.#runtime.shm.counters.maxConnections(index) !== cap) {
        this.#runtime.shm.counters.setMaxConnections(index, cap);
        this.#opts.log?.info(
          { server: s.name, replicas: this.#replicas, cap },
          'per-replica connection cap changed',
        );
      }
    });
  }
}
