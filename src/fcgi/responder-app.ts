// The built-in app of the embedded responder:
//   /echo (or ?echo)  JSON: method, uri, params, body length and sha256, connection and request id
//   /sleep?ms=N       answers after N ms (at most 60 s)
//   /bytes?n=N        streams N bytes (at most 1 GiB), byte i = i & 0xff, with back-pressure
//   anything else     a text status page: uptime, requests served, open connections
//   ?stderr=text      (any path) also writes `text` to STDERR

import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResponderApp, ResponderRequest, ResponderResponse } from './responder-types.ts';

const MAX_SLEEP_MS = 60_000;
const MAX_BYTES = 1024 ** 3;
/** 64 KiB of the pattern; 65536 is a multiple of 256, so chunks join seamlessly. */
const PATTERN = Buffer.from(Uint8Array.from({ length: 65536 }, (_, i) => i & 0xff));

export const builtinApp: ResponderApp = async (req, res) => {
  const p = req.params;
  const uri = p.REQUEST_URI || `${p.SCRIPT_NAME || '/'}${p.QUERY_STRING ? `?${p.QUERY_STRING}` : ''}`;
  const url = new URL(uri, 'http://responder.invalid');
  const query = url.searchParams;
  const stderr = query.get('stderr');
  if (stderr !== null) res.stderr(`${stderr}\n`);
  if (url.pathname === '/echo' || query.has('echo')) return echo(req, res, uri);
  if (url.pathname === '/sleep') {
    const ms = clamp(query.get('ms'), MAX_SLEEP_MS);
    await sleep(ms, undefined, { ref: false }); // an aborted sleeper must not keep the process up
    res.write(`slept ${ms} ms\n`);
    return res.end();
  }
  if (url.pathname === '/bytes') return bytes(res, clamp(query.get('n'), MAX_BYTES));
  const s = req.server;
  res.write(
    'fcgi-pool embedded FastCGI responder\n' +
      `uptime_seconds ${Math.round((Date.now() - s.startedAt) / 1000)}\n` +
      `requests_served ${s.requestsServed}\n` +
      `connections ${s.connectionCount}\n` +
      `connection_id ${req.connectionId}\n`,
  );
  res.end();
};

function echo(req: ResponderRequest, res: ResponderResponse, uri: string): void {
  const body = {
    method: req.params.REQUEST_METHOD ?? '',
    uri,
    params: req.params,
    bodyLength: req.stdin.length,
    bodySha256: createHash('sha256').update(req.stdin).digest('hex'),
    connectionId: req.connectionId,
    requestId: req.requestId,
  };
  res.setHeader('Content-Type', 'application/json');
  res.write(`${JSON.stringify(body)}\n`);
  res.end();
}

async function bytes(res: ResponderResponse, n: number): Promise<void> {
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Length', String(n));
  let left = n;
  while (left > 0 && !res.aborted) {
    const len = Math.min(left, PATTERN.length);
    left -= len;
    if (!res.write(PATTERN.subarray(0, len))) await res.drained();
  }
  res.end();
}

function clamp(value: string | null, max: number): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? Math.min(max, Math.max(0, Math.floor(n))) : 0;
}
