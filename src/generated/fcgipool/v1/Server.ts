// Original file: proto/fcgipool/v1/pool.proto

import type { ServerState as _fcgipool_v1_ServerState, ServerState__Output as _fcgipool_v1_ServerState__Output } from '../../fcgipool/v1/ServerState.ts';
import type { Long } from '@grpc/proto-loader';

export interface Server {
  'name'?: (string);
  'address'?: (string);
  'state'?: (_fcgipool_v1_ServerState);
  'max_connections'?: (number);
  'max_idle'?: (number);
  'reuse'?: (string);
  'purge_delay_ms'?: (number);
  'max_requests_per_connection'?: (number);
  'connect_timeout_ms'?: (number);
  'read_timeout_ms'?: (number);
  'connections'?: (number);
  'idle'?: (number);
  'used'?: (number);
  'queued'?: (number);
  'opened'?: (number | string | Long);
  'reuses'?: (number | string | Long);
  'index'?: (number);
}

export interface Server__Output {
  'name': (string);
  'address': (string);
  'state': (_fcgipool_v1_ServerState__Output);
  'max_connections': (number);
  'max_idle': (number);
  'reuse': (string);
  'purge_delay_ms': (number);
  'max_requests_per_connection': (number);
  'connect_timeout_ms': (number);
  'read_timeout_ms': (number);
  'connections': (number);
  'idle': (number);
  'used': (number);
  'queued': (number);
  'opened': (string);
  'reuses': (string);
  'index': (number);
}
