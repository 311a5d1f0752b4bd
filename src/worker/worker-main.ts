// Worker thread entry: one data-plane thread with its own backend connections, idle lists and
// lock (DESIGN.md §3). Started by the Supervisor with a WorkerInit as workerData.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { PoolError, PoolErrorCode } from '../errors.ts';
import { PoolThread } from '../pool/pool-thread.ts';
import { purgeIdle } from '../pool/purge.ts';
import { ServerPool } from '../pool/server-pool.ts';
import { onPeerMessage } from '../pool/takeover.ts';
import { SharedState } from '../shm/shared-state.ts';
import { handleControl } from './control-handler.ts';
import type { MainToWorker, PeerMessage, WorkerToMain } from './messages.ts';
import type { WorkerInit } from './worker-init.ts';

/** What a data-plane module (the HTTP gateway) returns: how to stop it. */
export interface DataPlane {
  close(graceMs: number): Promise<void>;
}

/** Resolves when this worker may open its listener: every worker has warmed up (Supervisor). */
export type ListenGate = () => Promise<void>;

const init = workerData as WorkerInit;
const port = parentPort!;
const shm = SharedState.attach(init.sab, init.shmCfg, init.thread);
const pt = new PoolThread({ thread: init.thread, shm, ...init.pool });
for (const { index, settings } of init.servers) pt.servers[index] = new ServerPool(index, settings);

function attachPeer(thread: number, peer: MessagePort): void {
  pt.peers[thread] = peer;
  peer.on('message', (msg: PeerMessage) => onPeerMessage(pt, msg));
  peer.on('close', () => {
    if (pt.peers[thread] === peer) pt.peers[thread] = null;
  });
}
init.peers.forEach((peer, thread) => {
  if (peer) attachPeer(thread, peer);
});

const purgeTimer = setInterval(() => purgeIdle(pt, undefined, undefined), init.pool.purgeIntervalMs);
purgeTimer.unref();

// this thread's event-loop utilisation for the metrics (the main thread reads it from shm)
const ELU_SAMPLE_MS = 1000;
let eluMark = performance.eventLoopUtilization();
const eluTimer = setInterval(() => {
  const now = performance.eventLoopUtilization();
  shm.stats.eventLoopUtilization(pt.thread, performance.eventLoopUtilization(now, eluMark).utilization);
  eluMark = now;
}, ELU_SAMPLE_MS);
eluTimer.unref();

let dataPlane: DataPlane | null = null;

async function shutdown(graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  await dataPlane?.close(graceMs);
  pt.closed = true;
  const err = new PoolError(PoolErrorCode.CLOSED, 'the pool is shutting down');
  for (const sp of pt.servers) sp?.queue.rejectAll(err);
  // idle connections close now; busy ones close when their request ends (release sees `closed`)
  purgeIdle(pt, undefined, 0);
  while (pt.tasklets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const t of [...pt.tasklets.values()]) t.conn.destroy();
  clearInterval(purgeTimer);
  clearInterval(eluTimer);
  for (const peer of pt.peers) peer?.close();
  port.postMessage({ t: 'stopped', thread: pt.thread } satisfies WorkerToMain);
  port.close();
}

port.on('message', (msg: MainToWorker) => {
  if (msg.t === 'control') {
    handleControl(pt, msg.req).then(
      (result) => port.postMessage({ t: 'reply', id: msg.id, ok: true, result } satisfies WorkerToMain),
      (e: Error & { code?: string }) =>
        port.postMessage({
          t: 'reply',
          id: msg.id,
          ok: false,
          error: { code: e.code ?? 'FCGI_ERR_INTERNAL', message: e.message },
        } satisfies WorkerToMain),
    );
  } else if (msg.t === 'peer') {
    attachPeer(msg.thread, msg.port);
  } else if (msg.t === 'shutdown') {
    void shutdown(msg.graceMs);
  } else if (msg.t === 'listen') {
    mayListen?.();
  }
});

let mayListen: (() => void) | null = null;
const gate: ListenGate = () =>
  new Promise<void>((resolve) => {
    mayListen = resolve;
    port.postMessage({ t: 'warmed', thread: pt.thread } satisfies WorkerToMain);
  });

if (init.gateway) {
  const mod = (await import(init.gateway.module)) as {
    startDataPlane(pt: PoolThread, options: unknown, gate: ListenGate): Promise<DataPlane>;
  };
  dataPlane = await mod.startDataPlane(pt, init.gateway.options, gate);
}
port.postMessage({ t: 'ready', thread: pt.thread } satisfies WorkerToMain);
