// One thread's view of one backend server: its settings, its wait queue and local counters.
// Mechanism only (undici's pool-base): which connection serves a request is decided in
// acquire.ts, and moving connections between threads in takeover.ts.
import type { BackendAddress } from './connector.ts';
import type { Tasklet } from './tasklet.ts';
import { WaitQueue } from './wait-queue.ts';

export type ReuseMode = 'never' | 'safe' | 'always';

export interface ServerSettings {
  name: string;
  address: BackendAddress;
  maxConnections: number;
  /** Idle connections kept across all threads; an insertion over it closes the connection. */
  maxIdle: number;
  reuse: ReuseMode;
  purgeDelayMs: number;
  /** 0 = unlimited. */
  maxRequestsPerConnection: number;
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

/**
 * Closes at the same request count before it is taken as the backend's recycle point: one, since
 * every doomed connection costs a request its retry; a close at another count replaces it.
 */
const RECYCLE_CONFIRMATIONS = 1;

export class ServerPool {
  readonly index: number;
  settings: ServerSettings;
  /** Takeover is off for Unix-domain backends: their handles cannot move between threads. */
  readonly canMove: boolean;
  readonly queue = new WaitQueue<Tasklet>();
  /** Live waiters (the queue may still hold timed-out entries until they reach its head). */
  waiting = 0;
  /** Connections this thread is opening right now (counted in the global cap already). */
  opening = 0;
  /** Connections stolen for this thread whose handle has not arrived yet. */
  adopting = 0;
  /**
   * The request count after which the backend closes a connection (php-fpm pm.max_requests),
   * learned from the closes seen; 0 = unknown. A connection that reaches it is closed by us on
   * release, so no request is sent on a connection whose FIN is already on its way.
   */
  recycleAt = 0;
  #candidate = 0;
  #hits = 0;

  /**
   * A connection that served `requests` requests must not take another: the configured
   * maxRequestsPerConnection, or the backend's learned recycle point (its close is on its way).
   */
  spent(requests: number): boolean {
    const max = this.settings.maxRequestsPerConnection;
    return (max > 0 && requests >= max) || (this.recycleAt > 0 && requests >= this.recycleAt);
  }

  /** The backend closed a connection right after its `requests`-th request. */
  noteRecycle(requests: number): void {
    if (requests <= 0) return;
    if (requests === this.#candidate) this.#hits++;
    else {
      // a close at another count: the last guess was a coincidence
      this.#candidate = requests;
      this.#hits = 1;
      this.recycleAt = 0;
    }
    if (this.#hits >= RECYCLE_CONFIRMATIONS) this.recycleAt = requests;
  }

  constructor(index: number, settings: ServerSettings) {
    this.index = index;
    this.settings = settings;
    this.canMove = settings.address.kind === 'tcp';
  }
}
