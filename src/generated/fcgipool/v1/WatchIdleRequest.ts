// Original file: proto/fcgipool/v1/pool.proto


export interface WatchIdleRequest {
  'server'?: (string);
  'thread'?: (number);
  'interval_ms'?: (number);
  '_server'?: "server";
  '_thread'?: "thread";
  '_interval_ms'?: "interval_ms";
}

export interface WatchIdleRequest__Output {
  'server'?: (string);
  'thread'?: (number);
  'interval_ms'?: (number);
  '_server'?: "server";
  '_thread'?: "thread";
  '_interval_ms'?: "interval_ms";
}
