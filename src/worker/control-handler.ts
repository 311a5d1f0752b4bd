// A worker's side of the control plane: requests from the main thread (gRPC, tests, CLI) that
// must run on this thread because they touch connections this thread holds.
import { FcgiPoolError, PoolError, PoolErrorCode } from '../errors.ts';
import type { PoolThread } from '../pool/pool-thread.ts';
import { purgeIdle } from '../pool/purge.ts';
import { runRequest } from '../pool/run-request.ts';
import { ServerPool } from '../pool/server-pool.ts';
import { stealFor } from '../pool/takeover.ts';
import type { ControlRequest, ExecuteResult, MovedConnection, TakeoverResult } from './messages.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

export function handleControl(pt: PoolThread, req: ControlRequest): Promise<unknown> {
  switch (req.op) {
    case 'takeover':
      return takeover(pt, req.server, req.from, req.count, req.connId);
    case 'purge':
      return Promise.resolve({ closed: purgeIdle(pt, req.server, req.minIdleMs) });
    case 'execute':
      return execute(pt, req);
    case 'stats':
      return Promise.resolve({ tasklets: pt.tasklets.size, pending: pt.pending.size });
    case 'addServer':
      pt.servers[req.index] = new ServerPool(req.index, req.settings);
      return Promise.resolve(null);
    case 'serverDown': {
      const sp = pt.servers[req.index];
      if (sp) {
        sp.queue.rejectAll(
          new PoolError(PoolErrorCode.SERVER_DOWN, `server ${sp.settings.name} stopped accepting requests`),
        );
        sp.waiting = 0;
        pt.publishQueue(sp);
      }
      // in-flight requests finish; their connections close when released (state is not READY)
      return Promise.resolve({ closed: purgeIdle(pt, req.index, 0) });
    }
    case 'orphaned': {
      const t = pt.tasklets.get(req.slot);
      if (t && !pt.shm.slots.isCurrent(req.slot, t.gen)) {
        t.gone = true;
        pt.tasklets.delete(req.slot);
        t.conn.destroy();
      }
      return Promise.resolve(null);
    }
    case 'forgetServer':
      pt.servers[req.index] = undefined;
      return Promise.resolve(null);
  }
}

function takeover(
  pt: PoolThread,
  server: number,
  from: number,
  count: number,
  connId: number | undefined,
): Promise<TakeoverResult> {
  const sp = pt.servers[server];
  if (!sp) return Promise.reject(new FcgiPoolError('FCGI_ERR_NO_SERVER', `no server with index ${server}`));
  if (from === pt.thread)
    return Promise.resolve({ moved: [], reason: 'source and destination are the same thread' });
  if (!sp.canMove)
    return Promise.resolve({ moved: [], reason: 'unix-socket backends cannot move between threads' });
  return new Promise((resolve) => {
    const moved: MovedConnection[] = [];
    let failed = 0;
    let outstanding = 0;
    const finish = (claimed: number) => {
      const reason =
        moved.length >= count
          ? undefined
          : claimed < count
            ? `thread ${from} had ${claimed} idle connection(s) to move`
            : `${failed} hand-off(s) failed (connection closed or timed out)`;
      resolve(reason === undefined ? { moved } : { moved, reason });
    };
    let claimed = 0;
    claimed = stealFor(pt, sp, from, count, connId, (slot, ok) => {
      if (ok) moved.push({ connId: pt.shm.slots.connId(slot), slot, server, thread: pt.thread });
      else failed++;
      if (--outstanding === 0) finish(claimed);
    });
    outstanding += claimed;
    if (claimed === 0) finish(0);
  });
}

function execute(pt: PoolThread, req: Extract<ControlRequest, { op: 'execute' }>): Promise<ExecuteResult> {
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let info = { connectionId: 0, thread: pt.thread, reused: false };
    runRequest(
      pt,
      {
        server: req.server,
        params: req.params,
        stdin: req.stdin.byteLength > 0 ? Buffer.from(req.stdin) : null,
        // like the gateway: a request that only reads may run again if a reused connection died
        retryable: IDEMPOTENT.has(req.params.REQUEST_METHOD ?? 'GET'),
        timeoutMs: req.timeoutMs,
      },
      {
        onConnection(i) {
          info = i;
        },
        onStdout(chunk) {
          stdout.push(Buffer.from(chunk));
        },
        onStderr(chunk) {
          stderr.push(Buffer.from(chunk));
        },
        onEnd(appStatus, protocolStatus) {
          resolve({
            appStatus,
            protocolStatus,
            stdout: Buffer.concat(stdout),
            stderr: Buffer.concat(stderr),
            thread: info.thread,
            connectionId: info.connectionId,
            reused: info.reused,
          });
        },
        onError: reject,
      },
    );
  });
}
