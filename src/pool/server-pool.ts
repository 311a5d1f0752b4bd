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

  constructor(index: number, settings: ServerSettings) {
    this.index = index;
    this.settings = settings;
    this.canMove = settings.address.kind === 'tcp';
  }
}
