// Reads a request body, bounded. CONTENT_LENGTH must equal the bytes sent on STDIN (php-fpm
// hangs or desyncs otherwise), so the whole body is received before the request goes to the
// backend, as nginx does with fastcgi_request_buffering on: a chunked body's size is then
// known, and a body can be sent again for the one retry. Small bodies stay in memory; past
// `memoryBytes` a body is spooled to an unlinked file in app.spoolDir, so a 5 MiB upload costs
// 64 KiB of memory and leaves no file behind even if the process dies. A body nobody will
// read (its request was refused first) is read and dropped instead: linger().

import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import type http from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { StdinSource } from '../pool/run-request.ts';

const SPOOL_CHUNK = 64 * 1024;
/** Lingering close of an unread body: how long and how much is read and dropped at most. */
const LINGER_MS = 10_000;
const LINGER_MIN_BYTES = 1024 * 1024;

export class BodyError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** A body spooled to disk; dispose() once the request is over. */
export class SpooledBody implements StdinSource {
  readonly length: number;
  readonly #file: FileHandle;
  #disposed = false;

  constructor(file: FileHandle, length: number) {
    this.#file = file;
    this.length = length;
  }

  /** Each call reads the file again from its start; the file stays open until dispose(). */
  open(): Readable {
    return new SpoolReader(this.#file, this.length);
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#file.close().catch(() => {});
  }
}

/**
 * Positional reads of the spool file. Not FileHandle.createReadStream: destroying that stream
 * closes the handle even with autoClose off, and a retry must read the file again.
 */
class SpoolReader extends Readable {
  readonly #file: FileHandle;
  readonly #length: number;
  #pos = 0;

  constructor(file: FileHandle, length: number) {
    super({ highWaterMark: SPOOL_CHUNK });
    this.#file = file;
    this.#length = length;
  }

  override _read(): void {
    const want = Math.min(SPOOL_CHUNK, this.#length - this.#pos);
    if (want <= 0) {
      this.push(null);
      return;
    }
    // every pushed byte was just read into the buffer: no uninitialised memory leaves here
    const buf = Buffer.allocUnsafe(want);
    this.#file.read(buf, 0, want, this.#pos).then(
      ({ bytesRead }) => {
        if (this.destroyed) return;
        if (bytesRead === 0) {
          this.destroy(new Error(`the spool file ended at ${this.#pos} of ${this.#length} bytes`));
          return;
        }
        this.#pos += bytesRead;
        this.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      },
      (err: Error) => this.destroy(err),
    );
  }
}

export type RequestBody = Buffer | SpooledBody | null;

export interface BodyOptions {
  readonly maxBytes: number;
  /** Bodies up to this size stay in memory. */
  readonly memoryBytes: number;
  readonly spoolDir: string;
  /** Called once the body is wanted (sizes checked), before it is read: send 100 Continue here. */
  readonly onStart?: () => void;
  /** Aborted with a BodyError: the read ends with it (the connection's parser failed). */
  readonly signal?: AbortSignal;
}

export function hasBody(req: http.IncomingMessage): boolean {
  return req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
}

/**
 * The body, or a BodyError (413 too large, 400 broken upload, 501 a transfer coding other than
 * chunked, 500 spool failure).
 */
export function readBody(
  req: http.IncomingMessage,
  opts: BodyOptions,
  cb: (err: BodyError | null, body: RequestBody) => void,
): void {
  if (!hasBody(req)) {
    cb(null, null);
    return;
  }
  // node:http unframes chunked, whatever codings precede it (gzip, chunked); the bytes would
  // reach PHP still encoded, under a CONTENT_LENGTH that is not the body's (RFC 9112 §6.1: 501)
  const coding = req.headers['transfer-encoding'];
  if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked') {
    cb(
      new BodyError(501, `the request body's transfer coding "${coding}" is not supported (only chunked)`),
      null,
    );
    return;
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > opts.maxBytes) {
    cb(new BodyError(413, `request body of ${declared} bytes is over the ${opts.maxBytes}-byte limit`), null);
    return;
  }
  opts.onStart?.();
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  let file: FileHandle | null = null;
  /** Set while the spool file is being created; 'end' waits for it. */
  let opening: Promise<void> | null = null;
  /** Bytes handed to the file so far (writes are positional and chained in arrival order). */
  let written = 0;
  let writing: Promise<unknown> = Promise.resolve();
  let spoolFailed: Error | null = null;

  const settle = (err: BodyError | null, body: RequestBody) => {
    if (settled) return;
    settled = true;
    req.off('data', onData);
    opts.signal?.removeEventListener('abort', onAbort);
    if (err !== null) {
      const f = file;
      if (f !== null) void writing.finally(() => f.close().catch(() => {}));
      cb(err, null);
    } else cb(null, body);
  };

  // One write at a time, in order; the client is paused meanwhile (back-pressure to the socket).
  const spool = (f: FileHandle, chunk: Buffer) => {
    const at = written;
    written += chunk.length;
    req.pause();
    writing = writing
      .then(async () => {
        if (spoolFailed !== null) return;
        for (let off = 0; off < chunk.length; ) {
          off += (await f.write(chunk, off, chunk.length - off, at + off)).bytesWritten;
        }
      })
      .catch((err: Error) => {
        spoolFailed = err;
      })
      .finally(() => {
        if (!settled && written === size) req.resume();
      });
  };

  const onData = (chunk: Buffer) => {
    if (settled) return;
    size += chunk.length;
    if (size > opts.maxBytes) {
      settle(new BodyError(413, `request body is over the ${opts.maxBytes}-byte limit`), null);
      return;
    }
    if (file !== null) {
      spool(file, chunk);
      return;
    }
    chunks.push(chunk);
    if (opening !== null || size <= opts.memoryBytes) return;
    // Past the memory bound: what we hold goes to a spool file, the rest as it arrives.
    req.pause();
    opening = openSpool(opts.spoolDir).then(
      (f) => {
        if (settled) {
          f.close().catch(() => {});
          return;
        }
        file = f;
        for (const c of chunks.splice(0)) spool(f, c);
      },
      (err: Error) =>
        settle(new BodyError(500, `the request body could not be spooled: ${err.message}`), null),
    );
  };

  const onAbort = () => {
    const reason: unknown = opts.signal?.reason;
    settle(reason instanceof BodyError ? reason : new BodyError(400, 'the request body was abandoned'), null);
  };
  if (opts.signal?.aborted) {
    onAbort(); // the body broke before anything asked for it
    return;
  }
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  req.on('data', onData);
  req.once('end', () => {
    void (opening ?? Promise.resolve()).then(() => {
      if (settled) return;
      const f = file;
      if (f === null) {
        settle(
          null,
          size === 0 ? Buffer.alloc(0) : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size),
        );
        return;
      }
      void writing.then(() => {
        if (spoolFailed !== null) {
          settle(new BodyError(500, `the request body could not be spooled: ${spoolFailed.message}`), null);
        } else settle(null, new SpooledBody(f, size));
      });
    });
  });
  req.once('error', (err) =>
    settle(new BodyError(400, `request body could not be read: ${err.message}`), null),
  );
  req.once('close', () => {
    if (!req.complete)
      settle(new BodyError(400, 'the client closed the connection during the request body'), null);
  });
}

/**
 * An error answered before the body was read (413, 404, ...) while the client is still
 * sending. Node closes a `Connection: close` connection once the response ends, which would
 * reset it under the upload and the client would likely never read the answer; so the rest of
 * the body is read and dropped first (nginx's lingering close), within bounds, and then `end`
 * runs. Past the bounds the connection is cut.
 */
export function linger(req: http.IncomingMessage, maxBodyBytes: number, end: () => void): void {
  const maxBytes = Math.max(LINGER_MIN_BYTES, 2 * maxBodyBytes);
  let dropped = 0;
  let ended = false;
  const finish = (cut: boolean) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    end();
    if (cut) req.socket.destroySoon();
  };
  const timer = setTimeout(() => finish(true), LINGER_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > maxBytes) finish(true);
  });
  req.once('end', () => finish(false));
  req.once('close', () => finish(false));
  req.resume();
}

/** A file only this process can reach: created exclusively, then unlinked at once. */
async function openSpool(dir: string): Promise<FileHandle> {
  const path = join(dir, `fcgi-pool-body-${process.pid}-${randomBytes(8).toString('hex')}`);
  const f = await open(path, 'wx+', 0o600);
  await unlink(path).catch(() => {});
  return f;
}
