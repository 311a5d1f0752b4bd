// Original file: proto/fcgipool/v1/pool.proto

import type { IdleConnection as _fcgipool_v1_IdleConnection, IdleConnection__Output as _fcgipool_v1_IdleConnection__Output } from '../../fcgipool/v1/IdleConnection.ts';
import type { Long } from '@grpc/proto-loader';

export interface IdleListChange {
  'initial'?: (boolean);
  'added'?: (_fcgipool_v1_IdleConnection)[];
  'removed'?: (_fcgipool_v1_IdleConnection)[];
  'total'?: (number);
  'sequence'?: (number | string | Long);
}

export interface IdleListChange__Output {
  'initial': (boolean);
  'added': (_fcgipool_v1_IdleConnection__Output)[];
  'removed': (_fcgipool_v1_IdleConnection__Output)[];
  'total': (number);
  'sequence': (string);
}
