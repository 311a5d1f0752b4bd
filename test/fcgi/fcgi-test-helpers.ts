// Helpers for the FastCGI socket tests: a responder per test, a client connection, a request
// collected into a response, and raw record exchanges. Everything closes in t.after().

import assert from 'node:assert/strict';
import net from 'node:net';
import type { TestContext } from 'node:test';
import {
  FcgiConnection,
  type FcgiConnectionOptions,
  type FcgiParamsInput,
  type FcgiRequestError,
  type FcgiRequestHandle,
  type FcgiRequestOptions,
} from '../../src/fcgi/connection.ts';
import { RecordParser } from '../../src/fcgi/parser.ts';
import { FcgiResponder, type ResponderAddress, type ResponderOptions } from '../../src/fcgi/responder.ts';

/** Fails loudly instead of hanging the test run. */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function startResponder(
  t: TestContext,
  options: ResponderOptions = {},
): Promise<{ responder: FcgiResponder; addr: ResponderAddress }> {
  const responder = new FcgiResponder(options);
  const addr = await responder.listen(0, '127.0.0.1');
  t.after(() => responder.close());
  return { responder, addr };
}

export async function connect(
  t: TestContext,
  addr: ResponderAddress,
  options?: FcgiConnectionOptions,
): Promise<FcgiConnection> {
  const conn = await FcgiConnection.connect({ host: addr.host, port: addr.port }, options, 2000);
  t.after(() => conn.destroy());
  return conn;
}

export interface CgiResult {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  stderr: string;
  appStatus: number;
  protocolStatus: number;
}

/** Splits a CGI response (headers, blank line, body). */
export function parseCgi(stdout: Buffer): { status: number; headers: Record<string, string>; body: Buffer } {
  const end = stdout.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: stdout };
  const headers: Record<string, string> = {};
  for (const line of stdout.subarray(0, end).toString('latin1').split('\r\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number.parseInt(headers.status ?? '200', 10), headers, body: stdout.subarray(end + 4) };
}

export interface Exchange {
  handle: FcgiRequestHandle;
  result: Promise<CgiResult>;
  stdoutChunks: number;
}

/** Runs one request; the promise rejects with the FcgiRequestError given to onError. */
export function exchange(
  conn: FcgiConnection,
  params: FcgiParamsInput,
  options: FcgiRequestOptions = {},
): Exchange {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let resolve!: (r: CgiResult) => void;
  let reject!: (e: FcgiRequestError) => void;
  const result = new Promise<CgiResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const ex = { stdoutChunks: 0 } as Exchange;
  ex.handle = conn.request(
    params,
    {
      onStdout(chunk) {
        ex.stdoutChunks++;
        out.push(Buffer.from(chunk));
      },
      onStderr(chunk) {
        err.push(Buffer.from(chunk));
      },
      onEnd(appStatus, protocolStatus) {
        resolve({
          ...parseCgi(Buffer.concat(out)),
          stderr: Buffer.concat(err).toString(),
          appStatus,
          protocolStatus,
        });
      },
      onError: (e) => reject(e as FcgiRequestError),
    },
    options,
  );
  ex.result = within(5000, 'a FastCGI response', result); // only once request() did not throw
  return ex;
}

export function get(
  conn: FcgiConnection,
  uri: string,
  extra: Record<string, string> = {},
): Promise<CgiResult> {
  return exchange(conn, { REQUEST_METHOD: 'GET', REQUEST_URI: uri, ...extra }).result;
}

/** Asserts that `p` rejects with an error carrying `code` and returns it. */
export async function rejectsWith(p: Promise<unknown>, code: string): Promise<FcgiRequestError> {
  try {
    await p;
  } catch (err) {
    assert.equal((err as { code?: string }).code, code, String(err));
    return err as FcgiRequestError;
  }
  assert.fail(`expected an error with code ${code}`);
}

export interface RawRecordOut {
  type: number;
  requestId: number;
  content: Buffer;
}

/**
 * Sends raw bytes to the responder and collects the records it answers with until it closes
 * the connection or `until` says enough.
 */
export async function rawExchange(
  t: TestContext,
  addr: ResponderAddress,
  bytes: Buffer,
  until: (recs: RawRecordOut[]) => boolean = () => false,
): Promise<{ records: RawRecordOut[]; closed: boolean; socket: net.Socket }> {
  const socket = net.connect({ host: addr.host, port: addr.port });
  t.after(() => socket.destroy());
  const records: RawRecordOut[] = [];
  const parser = new RecordParser((type, requestId, content) =>
    records.push({ type, requestId, content: Buffer.from(content) }),
  );
  const done = new Promise<boolean>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      parser.push(chunk);
      if (until(records)) resolve(false);
    });
    socket.on('close', () => resolve(true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') resolve(true);
      else reject(err);
    });
  });
  socket.write(bytes);
  const closed = await within(3000, 'the responder to answer or close', done);
  return { records, closed, socket };
}

/** A raw TCP server that plays a scripted backend: `onData` decides what to answer. */
export async function scriptedBackend(
  t: TestContext,
  onConnection: (socket: net.Socket) => void,
): Promise<ResponderAddress> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const a = server.address() as net.AddressInfo;
  return { host: a.address, port: a.port };
}

/** Calls `fn` with each record the scripted backend receives. */
export function onRecords(
  socket: net.Socket,
  fn: (type: number, requestId: number, content: Buffer) => void,
): void {
  const parser = new RecordParser(fn);
  socket.on('data', (chunk: Buffer) => parser.push(chunk));
}

export function closedPromise(conn: FcgiConnection): Promise<Error | undefined> {
  return within(
    3000,
    `connection ${conn.id} to close`,
    new Promise((resolve) => {
      if (conn.closed) resolve(undefined);
      conn.onClose = (_c, err) => resolve(err);
    }),
  );
}

/** Polls `cond` until it holds (wrap in within() for a deadline). */
export function waitFor(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (cond()) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}
