// Worker-side entry of the data plane: the Supervisor imports this module in each worker
// (WorkerInit.gateway) and it starts that thread's HTTP gateway on the thread's pool.
import { createLogger } from '../logger.ts';
import type { PoolThread } from '../pool/pool-thread.ts';
import type { DataPlane } from '../worker/worker-main.ts';
import type { GatewayOptions } from './gateway-options.ts';
import { startGateway } from './http-gateway.ts';

export function startDataPlane(pt: PoolThread, options: unknown): Promise<DataPlane> {
  const opts = options as GatewayOptions;
  const log = createLogger({ level: opts.logLevel });
  return startGateway(pt, opts, log);
}
