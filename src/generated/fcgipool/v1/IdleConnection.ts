// Original file: proto/fcgipool/v1/pool.proto

import type { IdleList as _fcgipool_v1_IdleList, IdleList__Output as _fcgipool_v1_IdleList__Output } from '../../fcgipool/v1/IdleList.ts';
import type { Long } from '@grpc/proto-loader';

export interface IdleConnection {
  'id'?: (number | string | Long);
  'server'?: (string);
  'thread'?: (number);
  'list'?: (_fcgipool_v1_IdleList);
  'idle_ms'?: (number | string | Long);
  'requests_served'?: (number | string | Long);
  'local_address'?: (string);
  'remote_address'?: (string);
}

export interface IdleConnection__Output {
  'id': (string);
  'server': (string);
  'thread': (number);
  'list': (_fcgipool_v1_IdleList__Output);
  'idle_ms': (string);
  'requests_served': (string);
  'local_address': (string);
  'remote_address': (string);
}
