// Main thread: starts the worker threads, wires the peer mesh (one MessageChannel per pair of
// workers, for wake messages and handle hand-offs), carries control requests to a worker and
// back, and restarts a worker that dies after reclaiming its shared state (slots, lists, lock),
// so no capacity leaks. The main thread never blocks and never does request I/O.
import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { FcgiPoolError } from '../errors.ts';
import { type ReclaimResult, reclaimThread } from '../shm/recover.ts';
import type { SharedState } from '../shm/shared-state.ts';
import type { ControlRequest, MainToWorker, WorkerToMain } from './messages.ts';
import type { WorkerInit } from './worker-init.ts';

const WORKER_ENTRY = new URL('./worker-main.ts', import.meta.url);

export class WorkerCallError extends FcgiPoolError {}

/** A worker up this long is healthy again: its next death restarts it at once. */
const STABLE_MS = 10_000;
const MAX_RESTART_DELAY_MS = 5_000;

interface Slot {
  worker: Worker | null;
  /** Its data plane waits to open its listener (it said 'warmed' and has not been told 'listen'). */
  waiting: boolean;
  ready: boolean;
  restarts: number;
  /** Deaths in a row without a worker that stayed up: the restart delay doubles with each. */
  crashes: number;
  readySince: number;
}

interface PendingCall {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export interface SupervisorOptions {
  shm: SharedState;
  /** Everything a worker needs but its peer ports and thread id (structured-cloneable). */
  init: Omit<WorkerInit, 'thread' | 'peers' | 'sab'>;
  /** Restart a worker that died (default true). */
  restart?: boolean;
}

export class Supervisor extends EventEmitter {
  readonly threads: number;
  readonly #shm: SharedState;
  readonly #options: SupervisorOptions;
  readonly #slots: Slot[];
  readonly #calls = new Map<number, PendingCall>();
  #nextCallId = 1;
  #stopping = false;
  #started = false;

  constructor(options: SupervisorOptions) {
    super();
    this.#options = options;
    this.#shm = options.shm;
    this.threads = options.shm.cfg.threads;
    this.#slots = Array.from({ length: this.threads }, () => ({
      worker: null,
      waiting: false,
      ready: false,
      restarts: 0,
      crashes: 0,
      readySince: 0,
    }));
  }

  /** Starts every worker; resolves once all are ready (listening, pools set up). */
  async start(): Promise<void> {
    // the first start fails as a whole (bad configuration, missing module): nothing to restart
    try {
      await this.#startAll();
    } finally {
      this.#started = true;
    }
  }

  async #startAll(): Promise<void> {
    const mesh: Array<Array<MessagePort | null>> = Array.from({ length: this.threads }, () =>
      new Array(this.threads).fill(null),
    );
    for (let i = 0; i < this.threads; i++) {
      for (let j = i + 1; j < this.threads; j++) {
        const { port1, port2 } = new MessageChannel();
        mesh[i][j] = port1;
        mesh[j][i] = port2;
      }
    }
    await Promise.all(mesh.map((peers, thread) => this.#spawn(thread, peers)));
  }

  get allReady(): boolean {
    return this.#slots.every((s) => s.ready);
  }

  restarts(thread: number): number {
    return this.#slots[thread].restarts;
  }

  /** Sends a control request to one worker and resolves with its result. */
  call<T>(thread: number, req: ControlRequest, timeoutMs = 10_000): Promise<T> {
    const w = this.#slots[thread]?.worker;
    if (!w || !this.#slots[thread].ready) {
      return Promise.reject(new WorkerCallError('FCGI_ERR_WORKER_DOWN', `worker ${thread} is not running`));
    }
    const id = this.#nextCallId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#calls.delete(id);
        reject(
          new WorkerCallError(
            'FCGI_ERR_WORKER_TIMEOUT',
            `worker ${thread} did not answer in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#calls.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      w.postMessage({ t: 'control', id, req } satisfies MainToWorker);
    });
  }

  /** Servers a restarted worker sets up (run-time additions and removals included). */
  setServers(servers: WorkerInit['servers']): void {
    this.#options.init.servers = servers;
  }

  /** Sends the same control request to every running worker. */
  broadcast<T>(req: ControlRequest, timeoutMs = 10_000): Promise<T[]> {
    const live = this.#slots.flatMap((s, th) => (s.ready ? [th] : []));
    return Promise.all(live.map((th) => this.call<T>(th, req, timeoutMs)));
  }

  /** Ends a worker at once, as a crash would (tests, and an operator's last resort): it is restarted. */
  async kill(thread: number): Promise<void> {
    await this.#slots[thread]?.worker?.terminate();
  }

  /** Asks every worker to stop accepting, drain within `graceMs` and exit. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      this.#slots.map(async (s) => {
        const w = s.worker;
        if (!w) return;
        const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
        w.postMessage({ t: 'shutdown', graceMs } satisfies MainToWorker);
        const timer = setTimeout(() => void w.terminate(), graceMs + 2000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  #spawn(thread: number, peers: Array<MessagePort | null>): Promise<void> {
    const init: WorkerInit = { ...this.#options.init, thread, peers, sab: this.#shm.sab };
    const transfer = peers.filter((p): p is MessagePort => p !== null);
    const worker = new Worker(WORKER_ENTRY, {
      workerData: init,
      transferList: transfer,
      name: `fcgi-pool-${thread}`,
    });
    const slot = this.#slots[thread];
    slot.worker = worker;
    slot.waiting = false;
    slot.ready = false;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: WorkerToMain) => {
        if (msg.t === 'warmed') {
          slot.waiting = true;
          this.#release();
        } else if (msg.t === 'ready') {
          slot.ready = true;
          slot.readySince = Date.now();
          this.emit('ready', thread);
          resolve();
        } else if (msg.t === 'reply') {
          const call = this.#calls.get(msg.id);
          if (!call) return;
          this.#calls.delete(msg.id);
          clearTimeout(call.timer);
          if (msg.ok) call.resolve(msg.result);
          else call.reject(new WorkerCallError(msg.error.code, msg.error.message));
        }
      });
      worker.on('error', (err) => {
        this.emit('worker-error', thread, err);
        if (!slot.ready) reject(err);
      });
      worker.on('exit', (code) => {
        slot.worker = null;
        const wasReady = slot.ready;
        slot.ready = false;
        // its slots, list entries and lock go back to the pool before anyone reuses them
        const reclaimed = this.#reclaim(thread);
        this.emit('exit', thread, code, reclaimed);
        if (!wasReady) reject(new Error(`worker ${thread} exited with code ${code} before it was ready`));
        if (this.#stopping || this.#options.restart === false || !this.#started) return;
        // a worker that cannot start (or dies at once) is retried with a growing delay, never
        // in a tight loop; one that stayed up a while starts the count afresh
        slot.crashes = wasReady && Date.now() - slot.readySince > STABLE_MS ? 0 : slot.crashes + 1;
        const delay = slot.crashes === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 50 * 2 ** (slot.crashes - 1));
        setTimeout(() => {
          if (!this.#stopping) this.#respawn(thread);
        }, delay).unref();
      });
    });
  }

  /**
   * Lets the waiting workers open their listeners: at the first start only once every worker is
   * waiting, since the kernel gives each new connection to one of the listeners open at that
   * moment and a client keeps its thread (a load generator that connects at once would find one
   * thread listening and put every client there); a restarted worker joins at once.
   */
  #release(): void {
    if (!this.#started && !this.#slots.every((s) => s.waiting || s.ready)) return;
    for (const s of this.#slots) {
      if (!s.waiting) continue;
      s.waiting = false;
      s.worker?.postMessage({ t: 'listen' } satisfies MainToWorker);
    }
  }

  #reclaim(thread: number, attempt = 0): ReclaimResult | null {
    let result: ReclaimResult;
    try {
      result = reclaimThread(this.#shm, thread);
    } catch (err) {
      this.emit('worker-error', thread, err);
      return null;
    }
    // a live thread held a lock we needed: try again shortly, never blocking the main thread
    if (result.deferred > 0 && attempt < 50) setTimeout(() => this.#reclaim(thread, attempt + 1), 10).unref();
    // live owners of slots whose thief died: their sockets pin php-fpm children until closed
    for (const { slot, owner } of result.orphaned) {
      this.#slots[owner]?.worker?.postMessage({
        t: 'control',
        id: 0,
        req: { op: 'orphaned', slot },
      } satisfies MainToWorker);
    }
    return result;
  }

  /** A replacement worker gets fresh channels to every live worker. */
  #respawn(thread: number): void {
    this.#slots[thread].restarts++;
    const peers: Array<MessagePort | null> = new Array(this.threads).fill(null);
    for (let j = 0; j < this.threads; j++) {
      const other = this.#slots[j].worker;
      if (j === thread || !other) continue;
      const { port1, port2 } = new MessageChannel();
      peers[j] = port1;
      other.postMessage({ t: 'peer', thread, port: port2 } satisfies MainToWorker, [port2]);
    }
    this.#spawn(thread, peers).catch((err) => this.emit('worker-error', thread, err));
  }
}
