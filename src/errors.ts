// Every error fcgi-pool raises is a FcgiPoolError with a stable `code` (like undici's UND_ERR_*),
// so callers, logs and tests match on codes, never on message text.

export class FcgiPoolError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Malformed FastCGI input: the stream that produced it cannot be trusted any more. */
export class FcgiProtocolError extends FcgiPoolError {}

export const ProtocolErrorCode = {
  BAD_VERSION: 'FCGI_ERR_BAD_VERSION',
  BAD_TYPE: 'FCGI_ERR_BAD_TYPE',
  BAD_LENGTH: 'FCGI_ERR_BAD_LENGTH',
  UNKNOWN_REQUEST: 'FCGI_ERR_UNKNOWN_REQUEST',
  TRUNCATED: 'FCGI_ERR_TRUNCATED',
  BAD_NAME_VALUE: 'FCGI_ERR_BAD_NAME_VALUE',
  NAME_VALUE_TOO_LARGE: 'FCGI_ERR_NAME_VALUE_TOO_LARGE',
  UNEXPECTED_RECORD: 'FCGI_ERR_UNEXPECTED_RECORD',
} as const;

/** The backend connection failed (refused, reset, closed early, timed out). */
export class BackendError extends FcgiPoolError {}

export const BackendErrorCode = {
  CONNECT: 'FCGI_ERR_CONNECT',
  CONNECT_TIMEOUT: 'FCGI_ERR_CONNECT_TIMEOUT',
  CLOSED: 'FCGI_ERR_BACKEND_CLOSED',
  RESET: 'FCGI_ERR_BACKEND_RESET',
  READ_TIMEOUT: 'FCGI_ERR_READ_TIMEOUT',
  ABORTED: 'FCGI_ERR_ABORTED',
  BUSY: 'FCGI_ERR_CONNECTION_BUSY',
} as const;

/** The pool could not give a connection (queue full or timed out, server gone). */
export class PoolError extends FcgiPoolError {}

export const PoolErrorCode = {
  QUEUE_TIMEOUT: 'FCGI_ERR_QUEUE_TIMEOUT',
  QUEUE_FULL: 'FCGI_ERR_QUEUE_FULL',
  NO_SERVER: 'FCGI_ERR_NO_SERVER',
  SERVER_DOWN: 'FCGI_ERR_SERVER_DOWN',
  HANDOFF_TIMEOUT: 'FCGI_ERR_HANDOFF_TIMEOUT',
  CLOSED: 'FCGI_ERR_POOL_CLOSED',
} as const;

/** Bad configuration or bad arguments: names the field. */
export class ConfigError extends FcgiPoolError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('FCGI_ERR_CONFIG', `${field}: ${message}`);
    this.field = field;
  }
}

/** A backend connection could not be handed over to another thread (DESIGN.md §4). */
export class HandoffError extends FcgiPoolError {}

export const HandoffErrorCode = {
  /** Bytes are buffered in either direction, or it is still connecting: moving it would lose data. */
  NOT_IDLE: 'FCGI_ERR_HANDOFF_NOT_IDLE',
  /** The socket is destroyed or shutting down, or its handle already left this thread. */
  CLOSED: 'FCGI_ERR_HANDOFF_CLOSED',
  /** Not a TCP connection (unix-domain sockets cannot move), or the runtime cannot move handles. */
  UNSUPPORTED: 'FCGI_ERR_HANDOFF_UNSUPPORTED',
} as const;

/** Shared-memory misuse or corruption: a broken protocol rule, never a transient condition. */
export class ShmError extends FcgiPoolError {}

export const ShmErrorCode = {
  /** attach() found no fcgi-pool header, another layout version, or another configuration. */
  BAD_HEADER: 'FCGI_ERR_SHM_BAD_HEADER',
  /** unlock() by a thread that does not hold the lock, or a list edited without its lock. */
  LOCK_NOT_HELD: 'FCGI_ERR_SHM_LOCK_NOT_HELD',
  /** lock() on a lock the caller already holds (it would deadlock). */
  LOCK_RECURSIVE: 'FCGI_ERR_SHM_LOCK_RECURSIVE',
  /** lock() on the main thread, which must never block (DESIGN §3). */
  MAIN_THREAD_BLOCK: 'FCGI_ERR_SHM_MAIN_THREAD_BLOCK',
  /** The main thread's try-lock kept failing where it needed the lock. */
  LOCK_BUSY: 'FCGI_ERR_SHM_LOCK_BUSY',
  /** A slot operation found the slot in a state the hand-off protocol does not allow. */
  BAD_SLOT_STATE: 'FCGI_ERR_SHM_BAD_SLOT_STATE',
  /** A worker attached without saying which thread it is (locks and stats need the id). */
  THREAD_ID: 'FCGI_ERR_SHM_THREAD_ID',
} as const;

/** The HTTP gateway refused a request or a backend response (maps to a 4xx or 502). */
export class GatewayError extends FcgiPoolError {}

export const GatewayErrorCode = {
  /** The backend's CGI head (headers before the body) is over app.maxResponseHeaderBytes. */
  CGI_HEADER_TOO_LARGE: 'FCGI_ERR_CGI_HEADER_TOO_LARGE',
  /** `Status:` is not three digits from 200 to 599. */
  CGI_BAD_STATUS: 'FCGI_ERR_CGI_BAD_STATUS',
  /** A CGI header line is malformed: no colon, a bad name, control characters, bad Content-Length. */
  CGI_BAD_HEADER: 'FCGI_ERR_CGI_BAD_HEADER',
} as const;
