// Option and hook types of FcgiConnection (src/fcgi/connection.ts re-exports them).

import type { NameValueInput } from './name-value.ts';
import type { ParamsWriter, PreEncodedParams } from './params-writer.ts';

export type WakeKind = 'data' | 'end' | 'error' | 'close' | 'drain';

/** The pool's per-connection handler state; wake() returning false means "not yours any more". */
export interface FcgiTasklet {
  wake(kind: WakeKind): boolean;
}

export interface FcgiConnectionOptions {
  /** Shown in errors and logs; the pool passes its slot's connection id. */
  id?: number;
  /** Send FCGI_KEEP_CONN (default true). Without it the backend closes after each request. */
  keepConn?: boolean;
  /** Requests at once (default 1). > 1 multiplexes: only when the backend said FCGI_MPXS_CONNS=1. */
  maxConcurrent?: number;
}

/**
 * Params of a request: a ParamsWriter (fastest: the request head is built in its buffer), a
 * ParamsEncoder that fills one, pre-encoded static params, PARAMS records from encodeParams()
 * (terminator included; their request id is rewritten), or plain pairs.
 */
export type FcgiParamsInput = ParamsWriter | ParamsEncoder | PreEncodedParams | Uint8Array | NameValueInput;

/** Params that encode themselves, into a fresh writer each time (a retry encodes again). */
export interface ParamsEncoder {
  encode(): ParamsWriter;
}

export interface FcgiRequestOptions {
  /**
   * The whole body, sent with the params and followed by the empty STDIN record. null or
   * absent: no body (the empty STDIN goes in the same write), unless streamStdin is set.
   */
  stdin?: Uint8Array | null;
  /**
   * Stream the body with handle.write() and end it with handle.end(). Off by default so a
   * request without a body can never leave php-fpm waiting for STDIN.
   */
  streamStdin?: boolean;
}
