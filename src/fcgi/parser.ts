// Streaming FastCGI record parser: bytes in, (type, requestId, content) out, for any chunking
// of the input. Content is a zero-copy subarray of the chunk when the record's content lies in
// one chunk; it is assembled into a fresh buffer only when it spans chunks. Padding is skipped.
//
// The parser reports raw record types and leaves it to its consumer to decide what a type
// means (the client refuses unexpected types, the responder answers UNKNOWN_TYPE). It only
// refuses what no consumer can use: a version other than 1, and a fixed-size body (BEGIN_REQUEST,
// END_REQUEST, UNKNOWN_TYPE: 8 bytes; ABORT_REQUEST: 0) of the wrong size.
//
// Once an error is thrown — its own, or one thrown by the onRecord callback — the parser stays
// failed and every later push() throws that same error: a byte stream that went wrong once
// cannot be resynchronised. No closure or object is allocated per record.

import { FcgiProtocolError, ProtocolErrorCode } from '../errors.ts';
import { FCGI_HEADER_LEN, FCGI_VERSION_1, RecordType } from './constants.ts';

export type RecordCallback = (type: number, requestId: number, content: Buffer) => void;

const S_HEADER = 0;
const S_CONTENT = 1;
const S_PADDING = 2;

const EMPTY: Buffer = Buffer.alloc(0);

export class RecordParser {
  private readonly onRecord: RecordCallback;
  /** Header bytes when a header spans chunks. */
  private readonly header: Buffer = Buffer.alloc(FCGI_HEADER_LEN);
  private state = S_HEADER;
  private headerFilled = 0;
  private type = 0;
  private requestId = 0;
  private contentLength = 0;
  private paddingLength = 0;
  /** Content assembled across chunks, null when the content is read from a single chunk. */
  private assembly: Buffer | null = null;
  private contentFilled = 0;
  private paddingLeft = 0;
  private failure: Error | null = null;

  constructor(onRecord: RecordCallback) {
    this.onRecord = onRecord;
  }

  /** Bytes of a record not yet complete (0 exactly at a record boundary). */
  get buffered(): number {
    switch (this.state) {
      case S_HEADER:
        return this.headerFilled;
      case S_CONTENT:
        return FCGI_HEADER_LEN + this.contentFilled;
      default:
        return FCGI_HEADER_LEN + this.contentLength + this.paddingLength - this.paddingLeft;
    }
  }

  /** The error that failed the parser, or null. */
  get error(): Error | null {
    return this.failure;
  }

  push(chunk: Buffer): void {
    if (this.failure !== null) throw this.failure;
    try {
      this.parse(chunk);
    } catch (err) {
      this.failure = err as Error;
      throw err;
    }
  }

  /** Declares the end of input; throws TRUNCATED when it stopped inside a record. */
  end(): void {
    if (this.failure !== null) throw this.failure;
    const held = this.buffered;
    if (held > 0) {
      this.failure = new FcgiProtocolError(
        ProtocolErrorCode.TRUNCATED,
        `input ended inside a record (${held} bytes of it received)`,
      );
      throw this.failure;
    }
  }

  private parse(chunk: Buffer): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      if (this.state === S_HEADER) {
        if (this.headerFilled === 0 && len - pos >= FCGI_HEADER_LEN) {
          this.readHeader(chunk, pos);
          pos += FCGI_HEADER_LEN;
        } else {
          const n = Math.min(FCGI_HEADER_LEN - this.headerFilled, len - pos);
          chunk.copy(this.header, this.headerFilled, pos, pos + n);
          this.headerFilled += n;
          pos += n;
          if (this.headerFilled < FCGI_HEADER_LEN) return;
          this.headerFilled = 0;
          this.readHeader(this.header, 0);
        }
        if (this.contentLength === 0) {
          this.emit(EMPTY);
          continue;
        }
        this.state = S_CONTENT;
        // Nothing of the content in this chunk: allocate nothing yet, the next chunk may hold
        // all of it (then it is handed out as a view).
        if (pos === len) return;
      }
      if (this.state === S_CONTENT) {
        const want = this.contentLength - this.contentFilled;
        if (this.contentFilled === 0 && len - pos >= want) {
          pos += want;
          this.emit(chunk.subarray(pos - want, pos));
          continue;
        }
        if (this.assembly === null) this.assembly = Buffer.allocUnsafe(this.contentLength);
        const n = Math.min(want, len - pos);
        chunk.copy(this.assembly, this.contentFilled, pos, pos + n);
        this.contentFilled += n;
        pos += n;
        if (this.contentFilled < this.contentLength) return;
        const content = this.assembly;
        this.assembly = null;
        this.emit(content);
        continue;
      }
      // S_PADDING
      const n = Math.min(this.paddingLeft, len - pos);
      this.paddingLeft -= n;
      pos += n;
      if (this.paddingLeft === 0) this.state = S_HEADER;
    }
  }

  private readHeader(b: Buffer, i: number): void {
    if (b[i] !== FCGI_VERSION_1) {
      throw new FcgiProtocolError(
        ProtocolErrorCode.BAD_VERSION,
        `record version ${b[i]} (expected ${FCGI_VERSION_1}): the peer does not speak FastCGI`,
      );
    }
    const type = b[i + 1];
    const contentLength = (b[i + 4] << 8) | b[i + 5];
    const expected = fixedLength(type);
    if (expected >= 0 && contentLength !== expected) {
      throw new FcgiProtocolError(
        ProtocolErrorCode.BAD_LENGTH,
        `record type ${type} must carry ${expected} bytes, header says ${contentLength}`,
      );
    }
    this.type = type;
    this.requestId = (b[i + 2] << 8) | b[i + 3];
    this.contentLength = contentLength;
    this.paddingLength = b[i + 6];
    this.contentFilled = 0;
  }

  /** Hands a complete record over; the state moves on first so the callback sees a boundary. */
  private emit(content: Buffer): void {
    if (this.paddingLength > 0) {
      this.state = S_PADDING;
      this.paddingLeft = this.paddingLength;
    } else {
      this.state = S_HEADER;
    }
    this.contentFilled = 0;
    this.onRecord(this.type, this.requestId, content);
  }
}

/** Body size a record type must have, or -1 when it varies. */
function fixedLength(type: number): number {
  switch (type) {
    case RecordType.BEGIN_REQUEST:
    case RecordType.END_REQUEST:
    case RecordType.UNKNOWN_TYPE:
      return 8;
    case RecordType.ABORT_REQUEST:
      return 0;
    default:
      return -1;
  }
}
