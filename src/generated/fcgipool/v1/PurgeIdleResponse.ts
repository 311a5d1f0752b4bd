// Original file: proto/fcgipool/v1/pool.proto


export interface PurgeIdleResponse {
  'closed'?: (number);
}

export interface PurgeIdleResponse__Output {
  'closed': (number);
}
