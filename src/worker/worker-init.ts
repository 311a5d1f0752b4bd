// What the main thread hands a worker at start (workerData): structured-cloneable settings,
// the shared memory and the worker's ports to its peers.
import type { MessagePort } from 'node:worker_threads';
import type { PoolSettings } from '../pool/pool-thread.ts';
import type { ServerSettings } from '../pool/server-pool.ts';
import type { ShmConfig } from '../shm/layout.ts';

export interface WorkerInit {
  thread: number;
  sab: SharedArrayBuffer;
  shmCfg: ShmConfig;
  peers: Array<MessagePort | null>;
  pool: PoolSettings;
  /** Server index in shared memory → its settings. */
  servers: Array<{ index: number; settings: ServerSettings }>;
  /** Module that starts this worker's data plane (the HTTP gateway), given the pool; optional. */
  gateway: { module: string; options: unknown } | null;
}
