// Per-LOCK statistics (per victim thread), summed over the acquiring threads' private blocks.
// HAProxy's DEBUG_THREAD "Stats about Lock IDLE_CONNS", split by acquisition site, plus the
// failed try-locks HAProxy leaves invisible.

import { LOCK_SITE_COUNT, LOCK_SITE_NAMES, LockStatWord, LockWord } from './offsets.ts';
import type { SharedState } from './shared-state.ts';

export type LockSiteName = (typeof LOCK_SITE_NAMES)[number];

export interface LockStats {
  /** Lock word owner right now: thread id, or -1 when free. */
  holder: number;
  acquisitions: Record<LockSiteName, number>;
  /** Acquisitions that had to spin or sleep. */
  contended: number;
  /** Try-locks that found the lock taken. */
  tryFailed: number;
  /** Nanoseconds spent acquiring contended locks (64-bit words). */
  waitNs: number;
}

/** Reads one 32-bit counter word by its index in the Int32Array view. */
export type CounterRead = (word: number) => number;

/**
 * `target`'s lock statistics. `read` reads each 32-bit counter word: by default its raw uint32
 * value (sums are then only exact until a word wraps); stats-reader.ts passes its 64-bit extender.
 */
export function readLockStats(state: SharedState, target: number, read?: CounterRead): LockStats {
  const L = state.layout;
  const { i32, i64 } = state;
  const get = read ?? ((w: number) => Atomics.load(i32, w) >>> 0);
  const acq = new Array<number>(LOCK_SITE_COUNT).fill(0);
  let contended = 0;
  let tryFailed = 0;
  let waitNs = 0n;
  for (let a = 0; a <= state.cfg.threads; a++) {
    const b = L.lockStatsBase + a * L.lockStatsAcquirerStride + target * L.lockStatsTargetStride;
    for (let s = 0; s < LOCK_SITE_COUNT; s++) acq[s] += get(b + LockStatWord.ACQ + s);
    contended += get(b + LockStatWord.CONTENDED);
    tryFailed += get(b + LockStatWord.TRY_FAILED);
    waitNs += Atomics.load(i64, (b + LockStatWord.WAIT_NS) >> 1);
  }
  const acquisitions = {} as Record<LockSiteName, number>;
  for (let s = 0; s < LOCK_SITE_COUNT; s++) acquisitions[LOCK_SITE_NAMES[s]] = acq[s];
  return {
    holder: Atomics.load(i32, L.lockBase + target * L.lockStride + LockWord.HOLDER) - 1,
    acquisitions,
    contended,
    tryFailed,
    waitNs: Number(waitNs),
  };
}
