// Original file: proto/fcgipool/v1/pool.proto

import type { Long } from '@grpc/proto-loader';

export interface ThreadLockStats {
  'thread'?: (number);
  'usr1_fast'?: (number | string | Long);
  'locked'?: (number | string | Long);
  'acquisitions'?: (number | string | Long);
  'acquisitions_by_site'?: ({[key: string]: number | string | Long});
  'contended'?: (number | string | Long);
  'try_failed'?: (number | string | Long);
  'wait_ns'?: (number | string | Long);
  'holder'?: (number);
}

export interface ThreadLockStats__Output {
  'thread': (number);
  'usr1_fast': (string);
  'locked': (string);
  'acquisitions': (string);
  'acquisitions_by_site': ({[key: string]: string});
  'contended': (string);
  'try_failed': (string);
  'wait_ns': (string);
  'holder': (number);
}
