// Original file: proto/fcgipool/v1/pool.proto

export const IdleList = {
  IDLE_LIST_UNSPECIFIED: 'IDLE_LIST_UNSPECIFIED',
  IDLE: 'IDLE',
  SAFE: 'SAFE',
} as const;

export type IdleList =
  | 'IDLE_LIST_UNSPECIFIED'
  | 0
  | 'IDLE'
  | 1
  | 'SAFE'
  | 2

export type IdleList__Output = typeof IdleList[keyof typeof IdleList]
