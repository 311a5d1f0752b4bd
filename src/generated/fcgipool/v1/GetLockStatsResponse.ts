// Original file: proto/fcgipool/v1/pool.proto

import type { ThreadLockStats as _fcgipool_v1_ThreadLockStats, ThreadLockStats__Output as _fcgipool_v1_ThreadLockStats__Output } from '../../fcgipool/v1/ThreadLockStats.ts';

export interface GetLockStatsResponse {
  'threads'?: (_fcgipool_v1_ThreadLockStats)[];
}

export interface GetLockStatsResponse__Output {
  'threads': (_fcgipool_v1_ThreadLockStats__Output)[];
}
