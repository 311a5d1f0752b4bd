// Original file: proto/fcgipool/v1/pool.proto

export const ProtocolStatus = {
  REQUEST_COMPLETE: 'REQUEST_COMPLETE',
  CANT_MPX_CONN: 'CANT_MPX_CONN',
  OVERLOADED: 'OVERLOADED',
  UNKNOWN_ROLE: 'UNKNOWN_ROLE',
} as const;

export type ProtocolStatus =
  | 'REQUEST_COMPLETE'
  | 0
  | 'CANT_MPX_CONN'
  | 1
  | 'OVERLOADED'
  | 2
  | 'UNKNOWN_ROLE'
  | 3

export type ProtocolStatus__Output = typeof ProtocolStatus[keyof typeof ProtocolStatus]
