// FastCGI 1.0 wire constants (https://fastcgi-archives.github.io/FastCGI_Specification.html)
// plus the limits php-fpm actually enforces (shared/reference/fastcgi-peers.md §1–2).

export const FCGI_VERSION_1 = 1;
export const FCGI_HEADER_LEN = 8;
/** Request id 0 is the management id (GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE). */
export const FCGI_NULL_REQUEST_ID = 0;

export const RecordType = {
  BEGIN_REQUEST: 1,
  ABORT_REQUEST: 2,
  END_REQUEST: 3,
  PARAMS: 4,
  STDIN: 5,
  STDOUT: 6,
  STDERR: 7,
  DATA: 8,
  GET_VALUES: 9,
  GET_VALUES_RESULT: 10,
  UNKNOWN_TYPE: 11,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];
export const MAX_RECORD_TYPE = RecordType.UNKNOWN_TYPE;

export const Role = { RESPONDER: 1, AUTHORIZER: 2, FILTER: 3 } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** BEGIN_REQUEST flags: bit 0 asks the application to keep the connection open. */
export const FCGI_KEEP_CONN = 1;

export const ProtocolStatus = {
  REQUEST_COMPLETE: 0,
  CANT_MPX_CONN: 1,
  OVERLOADED: 2,
  UNKNOWN_ROLE: 3,
} as const;
export type ProtocolStatus = (typeof ProtocolStatus)[keyof typeof ProtocolStatus];

/** GET_VALUES variable names. */
export const FCGI_MAX_CONNS = 'FCGI_MAX_CONNS';
export const FCGI_MAX_REQS = 'FCGI_MAX_REQS';
export const FCGI_MPXS_CONNS = 'FCGI_MPXS_CONNS';

/** contentLength is a u16 on the wire. */
export const MAX_CONTENT_LENGTH = 0xffff;
/**
 * Largest body we put in one record: php-fpm drops the connection when contentLength + padding
 * exceeds 65535, and 65528 (0xfff8) is 8-aligned so it needs no padding at all.
 */
export const MAX_RECORD_BODY = 0xfff8;
/** A name or value length that needs the 4-byte form (top bit set on the wire). */
export const NV_LONG_LENGTH_FLAG = 0x80000000;
/** Largest name-value pair that fits one PARAMS record: php-fpm never joins pairs across records. */
export const MAX_NV_PAIR_LENGTH = MAX_RECORD_BODY;
