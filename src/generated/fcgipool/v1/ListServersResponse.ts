// Original file: proto/fcgipool/v1/pool.proto

import type { Server as _fcgipool_v1_Server, Server__Output as _fcgipool_v1_Server__Output } from '../../fcgipool/v1/Server.ts';

export interface ListServersResponse {
  'servers'?: (_fcgipool_v1_Server)[];
  'threads'?: (number);
  'ready'?: (boolean);
}

export interface ListServersResponse__Output {
  'servers': (_fcgipool_v1_Server__Output)[];
  'threads': (number);
  'ready': (boolean);
}
