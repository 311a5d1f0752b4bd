// Worker-side entry of the data plane: the Supervisor imports this module in each worker
// (WorkerInit.gateway) and it starts that thread's HTTP gateway on the thread's pool.
import { createLogger } from '../logger.ts';
import type { PoolThread } from '../pool/pool-thread.ts';
import type { DataPlane, ListenGate } from '../worker/worker-main.ts';
import type { GatewayOptions } from './gateway-options.ts';
import { startGateway } from './http-gateway.ts';
import { warmUp } from './warm-up.ts';

/** The longest a worker's log line waits to be written. */
const LOG_BATCH_MS = 100;

export async function startDataPlane(pt: PoolThread, options: unknown, gate: ListenGate): Promise<DataPlane> {
  const opts = options as GatewayOptions;
  // batched: an access-log line per request must not cost a write system call of its own
  const log = createLogger({ level: opts.logLevel, batchMs: LOG_BATCH_MS });
  if (opts.warmUp.requests > 0 && opts.warmUp.maxMs > 0) {
    // a warm-up that fails costs speed, not service: the gateway starts cold
    await warmUp(pt, opts, {
      requests: opts.warmUp.requests,
      limitMs: opts.warmUp.maxMs,
      logBatchMs: LOG_BATCH_MS,
    }).then(
      (done) => log.info(done, 'warmed up'),
      (err: Error) => log.warn({ err }, 'warm-up failed; serving without it'),
    );
  }
  // the listeners open together (a client stays with the thread that accepted it)
  await gate();
  const plane = await startGateway(pt, opts, log);
  return {
    async close(graceMs: number) {
      await plane.close(graceMs);
      // the last access-log lines are still in the batch
      await new Promise<void>((resolve) => log.flush(() => resolve()));
    },
  };
}
