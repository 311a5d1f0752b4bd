// Original file: proto/fcgipool/v1/pool.proto


export interface GetLockStatsRequest {
  'thread'?: (number);
  '_thread'?: "thread";
}

export interface GetLockStatsRequest__Output {
  'thread'?: (number);
  '_thread'?: "thread";
}
