// Original file: proto/fcgipool/v1/pool.proto

export const ServerState = {
  SERVER_STATE_UNSPECIFIED: 'SERVER_STATE_UNSPECIFIED',
  READY: 'READY',
  DRAIN: 'DRAIN',
  MAINT: 'MAINT',
} as const;

export type ServerState =
  | 'SERVER_STATE_UNSPECIFIED'
  | 0
  | 'READY'
  | 1
  | 'DRAIN'
  | 2
  | 'MAINT'
  | 3

export type ServerState__Output = typeof ServerState[keyof typeof ServerState]
