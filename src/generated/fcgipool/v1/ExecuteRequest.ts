// Original file: proto/fcgipool/v1/pool.proto


export interface ExecuteRequest {
  'server'?: (string);
  'params'?: ({[key: string]: string});
  'stdin'?: (Buffer | Uint8Array | string);
  'timeout_ms'?: (number);
  'thread'?: (number);
  '_server'?: "server";
  '_timeout_ms'?: "timeout_ms";
  '_thread'?: "thread";
}

export interface ExecuteRequest__Output {
  'server'?: (string);
  'params': ({[key: string]: string});
  'stdin': (Buffer);
  'timeout_ms'?: (number);
  'thread'?: (number);
  '_server'?: "server";
  '_timeout_ms'?: "timeout_ms";
  '_thread'?: "thread";
}
