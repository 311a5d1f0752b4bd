// Reads a request body, bounded. CONTENT_LENGTH must equal the bytes sent on STDIN (php-fpm
// hangs or desyncs otherwise), so a chunked body is collected before the request is sent.
import type http from 'node:http';

export class BodyError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function readBody(
  req: http.IncomingMessage,
  maxBytes: number,
  cb: (err: BodyError | null, body: Buffer | null) => void,
): void {
  const declared = req.headers['content-length'];
  const te = req.headers['transfer-encoding'];
  if (declared === undefined && te === undefined) {
    cb(null, null);
    return;
  }
  if (declared !== undefined && Number(declared) > maxBytes) {
    req.resume();
    cb(new BodyError(413, `request body of ${declared} bytes is over the ${maxBytes}-byte limit`), null);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    size += chunk.length;
    if (size > maxBytes) {
      failed = true;
      cb(new BodyError(413, `request body is over the ${maxBytes}-byte limit`), null);
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (!failed)
      cb(null, size === 0 ? Buffer.alloc(0) : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
  });
  req.on('error', (err) => {
    if (failed) return;
    failed = true;
    cb(new BodyError(400, `request body could not be read: ${err.message}`), null);
  });
}
