// What `fcgi-pool ctl` prints: aligned tables for people, JSON for scripts (proto3 JSON style:
// snake_case names, 64-bit counters as strings, bytes as base64).
import type { ExecuteResponse__Output } from '../generated/fcgipool/v1/ExecuteResponse.ts';
import type { IdleConnection__Output } from '../generated/fcgipool/v1/IdleConnection.ts';
import type { IdleListChange__Output } from '../generated/fcgipool/v1/IdleListChange.ts';
import type { ListServersResponse__Output } from '../generated/fcgipool/v1/ListServersResponse.ts';
import type { Server__Output } from '../generated/fcgipool/v1/Server.ts';
import type { TakeoverResponse__Output } from '../generated/fcgipool/v1/TakeoverResponse.ts';
import type { ThreadLockStats__Output } from '../generated/fcgipool/v1/ThreadLockStats.ts';

type Cell = string | number | boolean;

/**
 * Columns separated by two spaces, headers in capitals; numbers right-aligned. A table without
 * rows prints `empty` instead.
 */
export function table(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  empty = '(none)',
): string {
  if (rows.length === 0) return `${empty}\n`;
  const text = rows.map((r) => r.map((c) => (typeof c === 'boolean' ? (c ? 'yes' : 'no') : String(c))));
  const numeric = headers.map((_, i) =>
    rows.every((r) => typeof r[i] === 'number' || /^\d+$/.test(String(r[i]))),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...text.map(line)].join('\n')}\n`;
}

/** A two-column "key  value" list. */
export function keyValues(pairs: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return `${pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${typeof v === 'boolean' ? (v ? 'yes' : 'no') : v}`).join('\n')}\n`;
}

export function serversTable(servers: readonly Server__Output[]): string {
  return table(
    [
      'NAME',
      'ADDRESS',
      'STATE',
      'CONNS',
      'IDLE',
      'USED',
      'QUEUED',
      'MAX',
      'MAX_IDLE',
      'REUSE',
      'OPENED',
      'REUSES',
    ],
    servers.map((s) => [
      s.name,
      s.address,
      s.state,
      s.connections,
      s.idle,
      s.used,
      s.queued,
      s.max_connections,
      s.max_idle,
      s.reuse,
      s.opened,
      s.reuses,
    ]),
    '(no servers)',
  );
}

export function serversReport(res: ListServersResponse__Output): string {
  return `${serversTable(res.servers)}\nthreads: ${res.threads}, ready: ${res.ready ? 'yes' : 'no'}\n`;
}

export function idleTable(conns: readonly IdleConnection__Output[], empty = '(no idle connections)'): string {
  const addresses = conns.some((c) => c.local_address !== '' || c.remote_address !== '');
  return table(
    ['ID', 'SERVER', 'THREAD', 'LIST', 'IDLE_MS', 'REQUESTS', ...(addresses ? ['LOCAL', 'REMOTE'] : [])],
    conns.map((c) => [
      c.id,
      c.server,
      c.thread,
      c.list,
      c.idle_ms,
      c.requests_served,
      ...(addresses ? [c.local_address, c.remote_address] : []),
    ]),
    empty,
  );
}

export function takeoverReport(res: TakeoverResponse__Output): string {
  const moved = `moved ${res.moved.length} connection(s)${res.reason ? `: ${res.reason}` : ''}\n`;
  return res.moved.length === 0 ? moved : `${idleTable(res.moved)}\n${moved}`;
}

export function locksTable(threads: readonly ThreadLockStats__Output[]): string {
  return table(
    ['THREAD', 'USR1_FAST', 'LOCKED', 'ACQUIRED', 'CONTENDED', 'TRY_FAILED', 'WAIT_US', 'HOLDER', 'BY_SITE'],
    threads.map((t) => [
      t.thread,
      t.usr1_fast,
      t.locked,
      t.acquisitions,
      t.contended,
      t.try_failed,
      Math.round(Number(t.wait_ns) / 1000),
      t.holder < 0 ? '-' : String(t.holder),
      Object.entries(t.acquisitions_by_site)
        .filter(([, n]) => n !== '0')
        .map(([site, n]) => `${site}=${n}`)
        .join(' ') || '-',
    ]),
    '(no threads)',
  );
}

export function executeSummary(res: ExecuteResponse__Output): string {
  return keyValues([
    ['thread', res.thread],
    ['connection', res.connection_id],
    ['reused', res.reused],
    ['app_status', res.app_status],
    ['protocol_status', res.protocol_status],
    ['stdout_bytes', res.stdout.length],
    ['stderr_bytes', res.stderr.length],
  ]);
}

/** One line per connection that entered (+) or left (-) an idle list. */
export function changeLines(change: IdleListChange__Output): string {
  const line = (sign: string, c: IdleConnection__Output) =>
    `${sign} ${c.id}  ${c.server}  thread ${c.thread}  ${c.list}  requests ${c.requests_served}`;
  const head = change.initial ? `# ${change.total} idle connection(s)\n` : '';
  return (
    head +
    [...change.removed.map((c) => line('-', c)), ...change.added.map((c) => line('+', c))]
      .map((l) => `${l}\n`)
      .join('')
  );
}

/** JSON for scripts: bytes as base64 (proto3 JSON mapping), everything else as received. */
export function toJson(value: unknown, pretty = true): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && 'data' in v) {
        return Buffer.from((v as { data: number[] }).data).toString('base64');
      }
      return v;
    },
    pretty ? 2 : undefined,
  );
}
