// Original file: proto/fcgipool/v1/pool.proto

import type { IdleConnection as _fcgipool_v1_IdleConnection, IdleConnection__Output as _fcgipool_v1_IdleConnection__Output } from '../../fcgipool/v1/IdleConnection.ts';

export interface TakeoverResponse {
  'moved'?: (_fcgipool_v1_IdleConnection)[];
  'reason'?: (string);
}

export interface TakeoverResponse__Output {
  'moved': (_fcgipool_v1_IdleConnection__Output)[];
  'reason': (string);
}
