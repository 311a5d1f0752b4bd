// Types of the embedded FastCGI responder (the server side): what an app sees and options.

export interface ResponderStats {
  readonly startedAt: number;
  readonly requestsServed: number;
  /** Open client connections. */
  readonly connectionCount: number;
}

export interface ResponderRequest {
  /** Params as the client sent them (null prototype: any name is a plain key). */
  readonly params: Record<string, string>;
  /** The whole STDIN body. */
  readonly stdin: Buffer;
  /** Counter per accepted connection, also sent as the `X-Fcgi-Connection-Id` header. */
  readonly connectionId: number;
  readonly requestId: number;
  /** Whether the client asked to keep the connection (FCGI_KEEP_CONN). */
  readonly keepConn: boolean;
  readonly server: ResponderStats;
}

export interface ResponderResponse {
  /** True once the client aborted the request or the connection closed: stop writing. */
  readonly aborted: boolean;
  readonly headersSent: boolean;
  /** Sets (replaces) a CGI response header; throws after the headers were sent. */
  setHeader(name: string, value: string): this;
  /** Sets the `Status:` CGI header (default 200). */
  status(code: number): this;
  /** Sends the headers on first use, then a STDOUT chunk; false = wait for drained(). */
  write(chunk: string | Uint8Array): boolean;
  /** Resolves when the socket can take more (at once if it can, or when aborted). */
  drained(): Promise<void>;
  stderr(chunk: string | Uint8Array): void;
  /** Sends the headers if needed, then END_REQUEST with `appStatus` (default 0). */
  end(appStatus?: number): void;
}

export type ResponderApp = (req: ResponderRequest, res: ResponderResponse) => void | Promise<void>;

export interface ResponderOptions {
  /** Application; default: the built-in app (status page, /echo, /sleep, /bytes). */
  app?: ResponderApp;
  /** Delay before each request reaches the app. */
  delayMs?: number;
  /** Close connections idle (no request) that long; 0 or absent: never. */
  closeIdleAfterMs?: number;
  /** Like pm.max_requests: after N requests send END_REQUEST, then shut down our side. */
  maxRequestsPerConnection?: number;
  /** Answer every request with bytes that are not FastCGI. */
  garbage?: boolean;
  /**
   * Multiplex: answer GET_VALUES with FCGI_MPXS_CONNS=1 and serve several requests at once on
   * a connection. Default false, like php-fpm: FCGI_MPXS_CONNS=0, the connection is closed after
   * answering GET_VALUES, and a second BEGIN_REQUEST while busy gets CANT_MPX_CONN.
   */
  mpxs?: boolean;
  /**
   * Response heads as php-fpm writes them: no `Status` line for a 200 and no
   * X-Fcgi-Connection-Id (the gateway's warm-up, which should see what php-fpm sends).
   */
  phpHeaders?: boolean;
  /** FCGI_MAX_CONNS / FCGI_MAX_REQS answered when mpxs (default 100). */
  maxConns?: number;
}

export interface ResponderAddress {
  host: string;
  port: number;
  /** Set when listening on a unix socket. */
  path?: string;
}
