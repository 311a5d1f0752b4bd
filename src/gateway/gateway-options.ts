// What the main thread tells each worker's HTTP gateway (structured-cloneable).
import type { AppConfig } from '../config/schema.ts';

export interface GatewayOptions {
  listen: { host: string; port: number };
  app: AppConfig;
  /**
   * Server indexes this app's requests go to; absent: every server of the pool, including
   * those added at run time (gRPC AddServer, DNS discovery).
   */
  servers?: number[];
  maxBodyBytes: number;
  maxResponseHeaderBytes: number;
  retryNonIdempotent: boolean;
  accessLog: boolean;
  logLevel: string;
  keepAliveTimeoutMs: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** Requests without a body go through the gateway's own HTTP/1.1 front (else all through node:http). */
  fastFront: boolean;
  /** Requests run through a private copy of the gateway before the listener opens (warm-up.ts). */
  warmUp: { requests: number; maxMs: number };
}
