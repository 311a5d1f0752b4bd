// Original file: proto/fcgipool/v1/pool.proto


export interface ListIdleRequest {
  'server'?: (string);
  'thread'?: (number);
  '_server'?: "server";
  '_thread'?: "thread";
}

export interface ListIdleRequest__Output {
  'server'?: (string);
  'thread'?: (number);
  '_server'?: "server";
  '_thread'?: "thread";
}
