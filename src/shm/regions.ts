// Where each region of the shared memory starts and how far apart its per-thread, per-server
// and per-slot blocks are, from the word offsets of offsets.ts and the sizes of ShmConfig.

import { ConfigError } from '../errors.ts';
import {
  HANDOFF_BUCKETS_S,
  HistWord,
  LINE_WORDS,
  ListWord,
  LockStatWord,
  MAX_THREADS,
  RequestWord,
  type ShmConfig,
  STATUS_CODE_NAMES,
  ThreadServerWord,
  ThreadWord,
} from './offsets.ts';

export interface ShmLayout {
  readonly headerBase: number;
  readonly connIdBase: number;
  readonly lockBase: number;
  readonly lockStride: number;
  /** threads + 1 regions: workers, then the main thread. */
  readonly threadBase: number;
  readonly threadStride: number;
  readonly lockStatsBase: number;
  /** One acquirer's blocks for every target lock, padded to whole lines. */
  readonly lockStatsAcquirerStride: number;
  readonly lockStatsTargetStride: number;
  /** threads + 1 histogram regions (HistWord), workers then the main thread. */
  readonly histBase: number;
  readonly histStride: number;
  readonly listBase: number;
  readonly listThreadStride: number;
  readonly listServerStride: number;
  readonly serverBase: number;
  readonly serverStride: number;
  readonly slotBase: number;
  readonly slotStride: number;
  readonly totalWords: number;
}

const roundLine = (words: number): number => Math.ceil(words / LINE_WORDS) * LINE_WORDS;

function checkInt(field: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(field, `must be an integer in [${min}, ${max}], got ${v}`);
  }
}

export function validateShmConfig(cfg: ShmConfig): void {
  checkInt('shm.threads', cfg.threads, 1, MAX_THREADS);
  checkInt('shm.maxServers', cfg.maxServers, 1, 1 << 16);
  // Slot indices and list links are int32; 2^22 slots is already 256 MiB of slot lines.
  checkInt('shm.maxSlots', cfg.maxSlots, 1, 1 << 22);
}

export function computeLayout(cfg: ShmConfig): ShmLayout {
  validateShmConfig(cfg);
  // the fixed blocks must fit the lines before the per-server blocks
  if (HistWord.HANDOFF_BUCKETS + HANDOFF_BUCKETS_S.length + 1 > HistWord.SERVERS) {
    throw new RangeError('HANDOFF_BUCKETS_S does not fit the first line of a histogram region');
  }
  if (ThreadWord.ANSWERED + STATUS_CODE_NAMES.length > ThreadWord.SERVERS) {
    throw new RangeError('STATUS_CODE_NAMES does not fit the answered-by-code lines of a thread region');
  }
  const { threads, maxServers, maxSlots } = cfg;
  let at = 0;
  const take = (words: number): number => {
    const base = at;
    at += roundLine(words);
    return base;
  };
  const headerBase = take(LINE_WORDS);
  const connIdBase = take(LINE_WORDS);
  const lockStride = LINE_WORDS;
  const lockBase = take(threads * lockStride);
  const threadStride = roundLine(ThreadWord.SERVERS + maxServers * ThreadServerWord.SIZE);
  const threadBase = take((threads + 1) * threadStride);
  const lockStatsTargetStride = LockStatWord.SIZE;
  const lockStatsAcquirerStride = roundLine(threads * lockStatsTargetStride);
  const lockStatsBase = take((threads + 1) * lockStatsAcquirerStride);
  const histStride = HistWord.SERVERS + roundLine(maxServers * RequestWord.SIZE);
  const histBase = take((threads + 1) * histStride);
  const listServerStride = ListWord.SIZE;
  const listThreadStride = roundLine(maxServers * listServerStride);
  const listBase = take(threads * listThreadStride);
  const serverStride = LINE_WORDS;
  const serverBase = take(maxServers * serverStride);
  const slotStride = LINE_WORDS;
  const slotBase = take(maxSlots * slotStride);
  return {
    headerBase,
    connIdBase,
    lockBase,
    lockStride,
    threadBase,
    threadStride,
    lockStatsBase,
    lockStatsAcquirerStride,
    lockStatsTargetStride,
    histBase,
    histStride,
    listBase,
    listThreadStride,
    listServerStride,
    serverBase,
    serverStride,
    slotBase,
    slotStride,
    totalWords: at,
  };
}
