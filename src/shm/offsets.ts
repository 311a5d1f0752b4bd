// The one place that knows where every shared word lives and what its values mean (STYLE: "no
// magic indices elsewhere"). Every region starts on a 64-byte line and every region written by
// one thread is padded to whole lines, so a thread bumping its own counters never invalidates a
// line another thread writes (DESIGN §3: no false sharing). Offsets are in 32-bit words; a 64-bit
// word sits at an even word offset and is addressed in the BigInt64Array view as `word >> 1`.
// This module imports nothing from the other shm modules, so they can all import it.

export interface ShmConfig {
  /** Worker threads (ids 0..threads-1). The main thread uses id `threads`. At most 64. */
  threads: number;
  /** Server table size, including headroom for servers added at run time. */
  maxServers: number;
  /** Connection slots in total (one per backend connection, all threads and servers). */
  maxSlots: number;
}

export const MAX_THREADS = 64;
/** 64-byte cache line in 32-bit words. */
export const LINE_WORDS = 16;
export const SHM_MAGIC = 0x46435031; // 'FCP1'
/** Bump whenever a region or a field offset below changes: attach() refuses a mismatch. */
export const SHM_VERSION = 4;

// ---- values stored in shared words ----

/** OWNER of a slot nobody holds. */
export const FREE = -1;
/**
 * OWNER while thread t's freeSlot() resets a slot: FREEING - t (so -2 - t). Not free yet, not
 * anybody's any more; the freer is recorded so reclaimThread() can finish a free its thread died in.
 */
export const FREEING = -2;
/** The owner tasklet's USR1 bit (TASK_F_USR1): set while the connection may be in an idle list. */
export const USR1 = 1;

/** Which idle list a slot is in. */
export const ListKind = { NONE: 0, IDLE: 1, SAFE: 2 } as const;
export type ListKind = (typeof ListKind)[keyof typeof ListKind];

/**
 * The owner tasklet's context (HAProxy's tasklet->context): VALID, or claimed by a thief. STOLEN =
 * context NULL, the owner still holds the handle; TRANSIT = the owner has posted the handle to the
 * thief (optional refinement, see slots.ts markHandedOff); both count as stolen.
 */
export const TaskletCtx = { STOLEN: 0, VALID: 1, TRANSIT: 2 } as const;
export type TaskletCtx = (typeof TaskletCtx)[keyof typeof TaskletCtx];

/** Server table entry state. FREE = an unused entry (headroom for servers added at run time). */
export const ServerState = { READY: 0, DRAIN: 1, MAINT: 2, FREE: 3 } as const;
export type ServerState = (typeof ServerState)[keyof typeof ServerState];

/** Lock acquisition sites: who took the lock and why. */
export const LockSite = {
  /** A backend I/O wake-up with USR1 (the locked path). */
  wake: 0,
  /** Taking a connection from the own idle list. */
  attach: 1,
  /** Inserting a connection into the own idle list. */
  detach: 2,
  /** A thief working on the victim's list (steal, cancel, adopt). */
  takeover: 3,
  /** The victim handing a stolen connection over. */
  handoff: 4,
  purge: 5,
  /** The main thread (control plane, supervisor). */
  control: 6,
} as const;
export type LockSite = (typeof LockSite)[keyof typeof LockSite];
export const LOCK_SITE_COUNT = 7;
export const LOCK_SITE_NAMES = [
  'wake',
  'attach',
  'detach',
  'takeover',
  'handoff',
  'purge',
  'control',
] as const satisfies readonly (keyof typeof LockSite)[];

/** Outcomes of a takeover attempt (fcgipool_takeovers_total{result}). */
export const TakeoverOutcome = { success: 0, empty: 1, busy: 2, failed: 3 } as const;
export type TakeoverOutcome = (typeof TakeoverOutcome)[keyof typeof TakeoverOutcome];
export const TAKEOVER_OUTCOME_NAMES = ['success', 'empty', 'busy', 'failed'] as const;

/**
 * The bounded `code` label values of fcgipool_requests_total: the statuses a FastCGI gateway
 * answers often by themselves, then one class each for the rest (a 418 counts as "4xx").
 * A status outside 100..599 (none was sent) counts as "5xx".
 */
export const STATUS_CODE_NAMES = [
  '200',
  '201',
  '204',
  '206',
  '301',
  '302',
  '303',
  '304',
  '307',
  '308',
  '400',
  '401',
  '403',
  '404',
  '405',
  '408',
  '413',
  '429',
  '500',
  '502',
  '503',
  '504',
  '1xx',
  '2xx',
  '3xx',
  '4xx',
  '5xx',
] as const;

/**
 * Upper bounds (seconds) of fcgipool_request_duration_seconds; one bucket word each, then +Inf.
 * From 0.5 ms (a hello-world through the pool) to a minute (a slow report page).
 */
export const REQUEST_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

/**
 * Upper bounds (seconds) of fcgipool_takeover_handoff_seconds; one bucket word each, then +Inf.
 * They start at 1 ms because the hand-off stamps come from the shared millisecond clock: a
 * sub-millisecond bound would claim a precision the measurement does not have.
 */
export const HANDOFF_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

// ---- word offsets inside each region ----

/** Header words (region at word 0). Written once by create(); read-only afterwards. */
export const HeaderWord = {
  MAGIC: 0,
  VERSION: 1,
  THREADS: 2,
  MAX_SERVERS: 3,
  MAX_SLOTS: 4,
  /** Epoch of the shared millisecond clock, split because 2^41 ms does not fit a word. */
  EPOCH_HI: 5,
  EPOCH_LO: 6,
  TOTAL_WORDS: 7,
} as const;

/** Global connection-id counter: alone on its line, every connection open bumps it. */
export const ConnIdWord = { NEXT: 0 } as const;

/** One line per worker thread: its takeover lock. */
export const LockWord = {
  /** Holder's thread id + 1; 0 = free. */
  HOLDER: 0,
  /** Threads blocked in Atomics.wait on HOLDER, so unlock() notifies only when needed. */
  WAITERS: 1,
} as const;

/** Per-thread region, written only by that thread (the main thread has one too, id = threads). */
export const ThreadWord = {
  /** Where this thread's next allocSlot() scan starts. */
  ALLOC_HINT: 0,
  /** Backend I/O wake-ups that saw no USR1 and skipped the lock (the patch's fast path). */
  USR1_FAST: 1,
  /** Backend I/O wake-ups that took the owner's lock (USR1 set, or fastPath disabled). */
  LOCKED: 2,
  REQUESTS: 3,
  /** Hand-offs adopted by this thread, and the sum of their latencies in shared-clock ms. */
  HANDOFFS: 4,
  HANDOFF_MS: 5,
  /** Gauge: event-loop utilisation over the last sample period, in millionths (0..1e6). */
  ELU_PPM: 6,
  /** Gauge: client (HTTP) connections this thread holds open. */
  CLIENTS: 7,
  /** Counters: client connections this thread accepted, and those it moved to a less loaded thread. */
  CLIENTS_ACCEPTED: 8,
  CLIENTS_MOVED: 9,
  /** 1 while this thread's HTTP listener accepts: only then may others move clients to it. */
  LISTENING: 10,
  /**
   * Counters: requests the gateway answered itself, no backend asked (refusals, static files),
   * one word per STATUS_CODE_NAMES entry, on the thread region's second and third lines.
   */
  ANSWERED: LINE_WORDS,
  /** First per-server block; each is ThreadServerWord-shaped. */
  SERVERS: 3 * LINE_WORDS,
} as const;

/** Per thread × server block inside the thread region. */
export const ThreadServerWord = {
  /** Gauge: requests of this thread queued for this server. */
  QUEUE: 0,
  /** Gauge: nowMs() when the oldest queued request started waiting; 0 = no waiter. */
  OLDEST_WAITER: 1,
  /** Gauge: connections of this server attached to a request on this thread. */
  USED: 2,
  /** Counters: connections opened, requests served on an already used connection. */
  OPENED: 3,
  REUSES: 4,
  /** Takeover attempts by outcome, TAKEOVER + TakeoverOutcome (pulls by this thread). */
  TAKEOVER: 5,
  /** Connections this thread handed straight to a waiting thread (push, DESIGN §4 rule 5). */
  PUSHED: 9,
  /** Idle connections closed by purge. */
  PURGED: 10,
  SIZE: 11,
} as const;

/** Lock statistics, one block per (acquiring thread, target lock); written by the acquirer only. */
export const LockStatWord = {
  /** Acquisitions, one word per LockSite. */
  ACQ: 0,
  CONTENDED: 7,
  /** Try-locks that found the lock busy (HAProxy does not count them; we do). */
  TRY_FAILED: 8,
  /** 64-bit nanoseconds spent spinning/waiting on contended acquisitions. */
  WAIT_NS: 10,
  SIZE: 12,
} as const;

/**
 * Per-thread histogram region (threads + 1 of them, like the thread regions), written only by its
 * thread: the hand-off latency histogram, then one RequestWord block per server. Bucket words
 * count observations in their own bucket only (not cumulative: one add per observation); the
 * reader sums them into Prometheus's cumulative `le` buckets. 64-bit sums sit at even offsets.
 */
export const HistWord = {
  /** 64-bit: sum of hand-off latencies in microseconds. */
  HANDOFF_US: 0,
  /** HANDOFF_BUCKETS_S.length + 1 words (the last one is +Inf). */
  HANDOFF_BUCKETS: 2,
  /** First per-server block, after the hand-off histogram's line. */
  SERVERS: LINE_WORDS,
} as const;

/** Per thread × server block of the histogram region: requests answered through this server. */
export const RequestWord = {
  /** 64-bit: sum of request durations in microseconds. */
  DURATION_US: 0,
  /** REQUEST_BUCKETS_S.length + 1 words (the last one is +Inf). */
  BUCKETS: 2,
  /** Requests by status, one word per STATUS_CODE_NAMES entry. */
  CODES: 2 + REQUEST_BUCKETS_S.length + 1,
  /** Rounded up to even, so every block's 64-bit sum stays at an even word. */
  SIZE: (2 + REQUEST_BUCKETS_S.length + 1 + STATUS_CODE_NAMES.length + 1) & ~1,
} as const;

/**
 * Per thread × server: the IDLE list then the SAFE list, each HEAD, TAIL, COUNT (slot indices,
 * -1 = none). The block of kind k starts at (k - 1) * KIND_STRIDE.
 */
export const ListWord = {
  HEAD: 0,
  TAIL: 1,
  COUNT: 2,
  KIND_STRIDE: 3,
  SIZE: 6,
} as const;

/** Per-server line. */
export const ServerWord = {
  /** Connections open to this server, all threads together (the global cap's counter). */
  CUR_CONNS: 0,
  /** The cap: php-fpm's pm.max_children. Settable at run time. */
  MAX_CONNS: 1,
  STATE: 2,
  /** Bitmap of threads with requests queued for this server: bit t & 31 of word WAITERS + (t >> 5). */
  WAITERS: 3,
  /** Thread where the next takeover scan starts (HAProxy's next_takeover). */
  NEXT_TAKEOVER: 5,
} as const;

/** One line per connection slot, so slots owned by different threads never share a line. */
export const SlotWord = {
  /** The owner tasklet's state word: bit USR1. */
  STATE: 0,
  /** Thread holding the connection (its tasklet), FREE, or FREEING. */
  OWNER: 1,
  /** TaskletCtx of the owner's tasklet. */
  CTX: 2,
  /** Thread that stole the connection, -1 when not stolen. */
  THIEF: 3,
  SERVER: 4,
  /** ListKind. */
  LIST: 5,
  PREV: 6,
  NEXT: 7,
  /** Tasklet generation: bumped on alloc, free and adopt (DESIGN §4 rule 2, against ABA). */
  GEN: 8,
  /** Connection id, stable across takeovers (uint32, wraps). */
  CONN_ID: 9,
  /** nowMs() when the connection went idle. */
  IDLE_SINCE: 10,
  /** Requests served on this connection (maxRequestsPerConnection). */
  REQUESTS: 11,
  /** The socket's local IPv4 address as a 32-bit word (0: unknown or IPv6), for ListIdle. */
  LOCAL_IPV4: 12,
  /** The socket's local port (0: unknown). */
  LOCAL_PORT: 13,
} as const;
