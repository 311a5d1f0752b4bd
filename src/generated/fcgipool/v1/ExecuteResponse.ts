// Original file: proto/fcgipool/v1/pool.proto

import type { ProtocolStatus as _fcgipool_v1_ProtocolStatus, ProtocolStatus__Output as _fcgipool_v1_ProtocolStatus__Output } from '../../fcgipool/v1/ProtocolStatus.ts';
import type { Long } from '@grpc/proto-loader';

export interface ExecuteResponse {
  'app_status'?: (number);
  'protocol_status'?: (_fcgipool_v1_ProtocolStatus);
  'stdout'?: (Buffer | Uint8Array | string);
  'stderr'?: (Buffer | Uint8Array | string);
  'thread'?: (number);
  'connection_id'?: (number | string | Long);
  'reused'?: (boolean);
}

export interface ExecuteResponse__Output {
  'app_status': (number);
  'protocol_status': (_fcgipool_v1_ProtocolStatus__Output);
  'stdout': (Buffer);
  'stderr': (Buffer);
  'thread': (number);
  'connection_id': (string);
  'reused': (boolean);
}
