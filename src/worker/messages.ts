// Messages between threads. Shared memory carries state and counters; messages carry payloads,
// requests and TCP handles (DESIGN.md §3). Every message is a plain object with a `t` tag.
import type { MessagePort } from 'node:worker_threads';
import type { ServerSettings } from '../pool/server-pool.ts';

/** Thread ↔ thread, over the peer mesh (one MessageChannel per pair of workers). */
export type PeerMessage =
  /** Thief → victim: "hand connection `slot` over" for the tasklet of generation `gen` (rule 2). */
  | { t: 'wake'; slot: number; gen: number }
  /** The TCP handle moving to its new owner: after a pull (`push: false`) or a push (rule 5). */
  | { t: 'handle'; slot: number; gen: number; server: number; push: boolean; handle: unknown; sentAt: number }
  /** Victim → thief: the stolen connection died before it could be handed over; retry elsewhere. */
  | { t: 'lost'; slot: number; gen: number; reason: string }
  /** A connection slot of `server` was freed while the receiver has waiters: it may open one. */
  | { t: 'capacity'; server: number; reserved?: boolean }
  /** A thread waiting on a server whose connections cannot move asks for an idle one's capacity. */
  | { t: 'want'; server: number; from: number }
  /** A client connection moved to a thread holding fewer (listener balancing). */
  | { t: 'client'; handle: unknown };

/** Main → worker. */
export type MainToWorker =
  | { t: 'control'; id: number; req: ControlRequest }
  | { t: 'peer'; thread: number; port: MessagePort }
  | { t: 'shutdown'; graceMs: number }
  /** Every worker has warmed up: open the HTTP listener (see Supervisor#release). */
  | { t: 'listen' };

/** Worker → main. */
export type WorkerToMain =
  | { t: 'ready'; thread: number }
  /** The data plane is set up (and warmed up) and would open its listener now. */
  | { t: 'warmed'; thread: number }
  | { t: 'reply'; id: number; ok: true; result: unknown }
  | { t: 'reply'; id: number; ok: false; error: { code: string; message: string } }
  | { t: 'stopped'; thread: number };

export type ControlRequest =
  | { op: 'takeover'; server: number; from: number; count: number; connId?: number }
  | { op: 'purge'; server?: number; minIdleMs: number }
  | {
      op: 'execute';
      server: number;
      params: Record<string, string>;
      stdin: Uint8Array;
      timeoutMs: number;
    }
  | { op: 'stats' }
  /** A server added at run time (or re-added after a restart): set up its per-thread pool. */
  | { op: 'addServer'; index: number; settings: ServerSettings }
  /** The server left READY (DRAIN, MAINT, removal): close its idle connections, fail its queue. */
  | { op: 'serverDown'; index: number }
  | { op: 'forgetServer'; index: number }
  /** The slot of a connection this worker holds was reclaimed (its thief died): close it. */
  | { op: 'orphaned'; slot: number };

export interface MovedConnection {
  connId: number;
  slot: number;
  server: number;
  thread: number;
}

export interface TakeoverResult {
  moved: MovedConnection[];
  reason?: string;
}

export interface ExecuteResult {
  appStatus: number;
  protocolStatus: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  thread: number;
  connectionId: number;
  reused: boolean;
}
