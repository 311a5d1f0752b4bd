// Worker-side entry of the data plane: the Supervisor imports this module in each worker
// (WorkerInit.gateway) and it starts that thread's HTTP gateway on the thread's pool.
import { createLogger } from '../logger.ts';
import type { PoolThread } from '../pool/pool-thread.ts';
import type { DataPlane } from '../worker/worker-main.ts';
import type { GatewayOptions } from './gateway-options.ts';
import { startGateway } from './http-gateway.ts';

/** The longest a worker's log line waits to be written. */
const LOG_BATCH_MS = 100;

export function startDataPlane(pt: PoolThread, options: unknown): Promise<DataPlane> {
  const opts = options as GatewayOptions;
  // batched: an access-log line per request must not cost a write system call of its own
  const log = createLogger({ level: opts.logLevel, batchMs: LOG_BATCH_MS });
  return startGateway(pt, opts, log).then((plane) => ({
    async close(graceMs: number) {
      await plane.close(graceMs);
      // the last access-log lines are still in the batch
      await new Promise<void>((resolve) => log.flush(() => resolve()));
    },
  }));
}
