// Original file: proto/fcgipool/v1/pool.proto


export interface RemoveServerRequest {
  'name'?: (string);
  'grace_ms'?: (number);
  '_grace_ms'?: "grace_ms";
}

export interface RemoveServerRequest__Output {
  'name': (string);
  'grace_ms'?: (number);
  '_grace_ms'?: "grace_ms";
}
