// gRPC status codes for fcgi-pool's errors. Errors carry stable codes (errors.ts), also when they
// cross from a worker thread (WorkerCallError keeps the code), so the mapping reads codes only.
import { Metadata, type StatusObject, status } from '@grpc/grpc-js';
import { BackendErrorCode, FcgiPoolError, PoolErrorCode } from '../errors.ts';

/** A refusal with its gRPC code, raised by the control plane itself. */
export class ControlError extends FcgiPoolError {
  readonly status: status;
  constructor(code: status, message: string) {
    super('FCGI_ERR_CONTROL', message);
    this.status = code;
  }
}

const BY_CODE: Record<string, status> = {
  FCGI_ERR_CONFIG: status.INVALID_ARGUMENT,
  FCGI_ERR_NOT_FOUND: status.NOT_FOUND,
  [PoolErrorCode.NO_SERVER]: status.NOT_FOUND,
  [PoolErrorCode.QUEUE_FULL]: status.RESOURCE_EXHAUSTED,
  [PoolErrorCode.QUEUE_TIMEOUT]: status.DEADLINE_EXCEEDED,
  [PoolErrorCode.SERVER_DOWN]: status.UNAVAILABLE,
  [PoolErrorCode.HANDOFF_TIMEOUT]: status.UNAVAILABLE,
  [PoolErrorCode.CLOSED]: status.UNAVAILABLE,
  [BackendErrorCode.CONNECT]: status.UNAVAILABLE,
  [BackendErrorCode.CONNECT_TIMEOUT]: status.UNAVAILABLE,
  [BackendErrorCode.CLOSED]: status.UNAVAILABLE,
  [BackendErrorCode.RESET]: status.UNAVAILABLE,
  [BackendErrorCode.READ_TIMEOUT]: status.DEADLINE_EXCEEDED,
  [BackendErrorCode.ABORTED]: status.CANCELLED,
  FCGI_ERR_WORKER_DOWN: status.UNAVAILABLE,
  FCGI_ERR_WORKER_TIMEOUT: status.DEADLINE_EXCEEDED,
};

/** The status a failed call ends with; the details keep the error's message (it names the field). */
export function toStatus(err: unknown): Partial<StatusObject> & { code: status; details: string } {
  if (err instanceof ControlError) return { code: err.status, details: err.message };
  if (err instanceof FcgiPoolError) {
    const code = BY_CODE[err.code] ?? status.INTERNAL;
    const metadata = new Metadata();
    metadata.set('fcgi-pool-error-code', err.code);
    return { code, details: err.message, metadata };
  }
  return { code: status.INTERNAL, details: (err as Error)?.message ?? String(err) };
}
