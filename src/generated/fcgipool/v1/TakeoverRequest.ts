// Original file: proto/fcgipool/v1/pool.proto

import type { Long } from '@grpc/proto-loader';

export interface TakeoverRequest {
  'server'?: (string);
  'from_thread'?: (number);
  'to_thread'?: (number);
  'count'?: (number);
  'connection_id'?: (number | string | Long);
  '_server'?: "server";
  '_from_thread'?: "from_thread";
  '_to_thread'?: "to_thread";
  '_count'?: "count";
  '_connection_id'?: "connection_id";
}

export interface TakeoverRequest__Output {
  'server'?: (string);
  'from_thread'?: (number);
  'to_thread'?: (number);
  'count'?: (number);
  'connection_id'?: (string);
  '_server'?: "server";
  '_from_thread'?: "from_thread";
  '_to_thread'?: "to_thread";
  '_count'?: "count";
  '_connection_id'?: "connection_id";
}
