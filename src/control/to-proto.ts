// The runtime's plain objects as fcgipool.v1 messages (snake_case, the proto's enums).
import type { ExecuteResponse } from '../generated/fcgipool/v1/ExecuteResponse.ts';
import type { IdleConnection } from '../generated/fcgipool/v1/IdleConnection.ts';
import type { ProtocolStatus } from '../generated/fcgipool/v1/ProtocolStatus.ts';
import type { Server } from '../generated/fcgipool/v1/Server.ts';
import type { ThreadLockStats } from '../generated/fcgipool/v1/ThreadLockStats.ts';
import type { IdleConnectionInfo, ThreadLockStats as LockInfo, ServerInfo } from '../pool/pool-runtime.ts';
import type { ServerSettings } from '../pool/server-pool.ts';
import type { ExecuteResult } from '../worker/messages.ts';

export function serverMessage(info: ServerInfo, settings: ServerSettings | undefined): Server {
  return {
    name: info.name,
    address: info.address,
    state: info.state,
    max_connections: info.maxConnections,
    max_idle: info.maxIdle,
    reuse: info.reuse,
    purge_delay_ms: settings?.purgeDelayMs ?? 0,
    max_requests_per_connection: settings?.maxRequestsPerConnection ?? 0,
    connect_timeout_ms: settings?.connectTimeoutMs ?? 0,
    read_timeout_ms: settings?.readTimeoutMs ?? 0,
    connections: info.connections,
    idle: info.idle,
    used: info.used,
    queued: info.queued,
    opened: info.opened,
    reuses: info.reuses,
    index: info.index,
  };
}

export function idleMessage(c: IdleConnectionInfo): IdleConnection {
  return {
    id: c.id,
    server: c.server,
    thread: c.thread,
    list: c.list,
    idle_ms: c.idleMs,
    requests_served: c.requestsServed,
    local_address: c.localAddress,
    remote_address: c.remoteAddress,
  };
}

export function lockStatsMessage(s: LockInfo): ThreadLockStats {
  const bySite = s.acquisitions as Record<string, number>;
  return {
    thread: s.thread,
    usr1_fast: s.usr1Fast,
    locked: s.locked,
    acquisitions: Object.values(bySite).reduce((a, b) => a + b, 0),
    acquisitions_by_site: bySite,
    contended: s.contended,
    try_failed: s.tryFailed,
    wait_ns: s.waitNs,
    holder: s.holder,
  };
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export function executeMessage(r: ExecuteResult): ExecuteResponse {
  return {
    app_status: r.appStatus >>> 0,
    // FastCGI's values are the enum's numbers; an unknown one passes through as a number
    protocol_status: r.protocolStatus as ProtocolStatus,
    stdout: asBuffer(r.stdout),
    stderr: asBuffer(r.stderr),
    thread: r.thread,
    connection_id: r.connectionId,
    reused: r.reused,
  };
}
