// The standard grpc.health.v1.Health service. Its status follows the pool's readiness (every
// worker up and a server READY), for the whole server ("") and for PoolControl; setServing(false)
// turns it NOT_SERVING at once and keeps it there (shutdown), setServing(true) follows readiness
// again. Health needs no token: probes must work without secrets.
import type { Server } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { POOL_SERVICE } from './proto.ts';

const SERVICES = ['', POOL_SERVICE] as const;
const POLL_MS = 250;

export class ControlHealth {
  readonly #impl: HealthImplementation;
  readonly #ready: () => boolean;
  readonly #timer: NodeJS.Timeout;
  #serving = true;
  #last: ServingStatus;

  constructor(ready: () => boolean) {
    this.#ready = ready;
    this.#last = this.#wanted();
    this.#impl = new HealthImplementation(Object.fromEntries(SERVICES.map((s) => [s, this.#last])));
    // readiness changes with worker restarts and server states; reading it is two shared-memory loads
    this.#timer = setInterval(() => this.refresh(), POLL_MS);
    this.#timer.unref();
  }

  addToServer(server: Server): void {
    this.#impl.addToServer(server);
  }

  get status(): ServingStatus {
    return this.#last;
  }

  /** false: NOT_SERVING now and until setServing(true); true: follow the pool's readiness. */
  setServing(serving: boolean): void {
    this.#serving = serving;
    this.refresh();
  }

  /** Publishes the current status; watchers hear only of changes. */
  refresh(): void {
    const next = this.#wanted();
    if (next === this.#last) return;
    this.#last = next;
    for (const s of SERVICES) this.#impl.setStatus(s, next);
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #wanted(): ServingStatus {
    return this.#serving && this.#ready() ? 'SERVING' : 'NOT_SERVING';
  }
}
