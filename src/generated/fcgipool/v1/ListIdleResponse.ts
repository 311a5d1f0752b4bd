// Original file: proto/fcgipool/v1/pool.proto

import type { IdleConnection as _fcgipool_v1_IdleConnection, IdleConnection__Output as _fcgipool_v1_IdleConnection__Output } from '../../fcgipool/v1/IdleConnection.ts';

export interface ListIdleResponse {
  'connections'?: (_fcgipool_v1_IdleConnection)[];
}

export interface ListIdleResponse__Output {
  'connections': (_fcgipool_v1_IdleConnection__Output)[];
}
