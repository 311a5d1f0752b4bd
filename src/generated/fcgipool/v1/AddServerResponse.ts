// Original file: proto/fcgipool/v1/pool.proto

import type { Server as _fcgipool_v1_Server, Server__Output as _fcgipool_v1_Server__Output } from '../../fcgipool/v1/Server.ts';

export interface AddServerResponse {
  'server'?: (_fcgipool_v1_Server | null);
}

export interface AddServerResponse__Output {
  'server': (_fcgipool_v1_Server__Output | null);
}
