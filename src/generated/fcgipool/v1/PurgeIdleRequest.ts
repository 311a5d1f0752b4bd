// Original file: proto/fcgipool/v1/pool.proto


export interface PurgeIdleRequest {
  'server'?: (string);
  'thread'?: (number);
  'min_idle_ms'?: (number);
  '_server'?: "server";
  '_thread'?: "thread";
  '_min_idle_ms'?: "min_idle_ms";
}

export interface PurgeIdleRequest__Output {
  'server'?: (string);
  'thread'?: (number);
  'min_idle_ms'?: (number);
  '_server'?: "server";
  '_thread'?: "thread";
  '_min_idle_ms'?: "min_idle_ms";
}
