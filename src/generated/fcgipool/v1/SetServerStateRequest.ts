// Original file: proto/fcgipool/v1/pool.proto

import type { ServerState as _fcgipool_v1_ServerState, ServerState__Output as _fcgipool_v1_ServerState__Output } from '../../fcgipool/v1/ServerState.ts';

export interface SetServerStateRequest {
  'name'?: (string);
  'state'?: (_fcgipool_v1_ServerState);
}

export interface SetServerStateRequest__Output {
  'name': (string);
  'state': (_fcgipool_v1_ServerState__Output);
}
