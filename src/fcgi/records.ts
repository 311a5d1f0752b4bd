// FastCGI record encoding and the fixed-size bodies (BEGIN_REQUEST, END_REQUEST, UNKNOWN_TYPE).
// Pure byte code: no sockets. Every byte of every buffer returned here is written explicitly
// (headers, reserved bytes, padding), so Buffer.allocUnsafe never leaks old memory onto the wire.

import { FcgiProtocolError, ProtocolErrorCode } from '../errors.ts';
import {
  FCGI_HEADER_LEN,
  FCGI_NULL_REQUEST_ID,
  FCGI_VERSION_1,
  MAX_RECORD_BODY,
  RecordType,
} from './constants.ts';

/** Body length of BEGIN_REQUEST, END_REQUEST and UNKNOWN_TYPE records. */
export const FIXED_BODY_LEN = 8;

/** Shared zero bytes for padding written with separate socket writes. Never written to. */
export const ZERO_PADDING: Buffer = Buffer.alloc(8);

/** Padding that brings a body to the next multiple of 8 (the spec's recommendation). */
export function paddingFor(contentLength: number): number {
  return -contentLength & 7;
}

/** Writes an 8-byte record header into `buf` at `offset`. */
export function writeHeader(
  buf: Buffer,
  offset: number,
  type: number,
  requestId: number,
  contentLength: number,
  paddingLength: number,
): void {
  buf[offset] = FCGI_VERSION_1;
  buf[offset + 1] = type;
  buf[offset + 2] = requestId >>> 8;
  buf[offset + 3] = requestId & 0xff;
  buf[offset + 4] = contentLength >>> 8;
  buf[offset + 5] = contentLength & 0xff;
  buf[offset + 6] = paddingLength;
  buf[offset + 7] = 0;
}

export function encodeHeader(
  type: number,
  requestId: number,
  contentLength: number,
  paddingLength: number,
): Buffer {
  checkU16('requestId', requestId);
  checkU16('contentLength', contentLength);
  if (!Number.isInteger(paddingLength) || paddingLength < 0 || paddingLength > 0xff) {
    throw new RangeError(`paddingLength out of range: ${paddingLength}`);
  }
  const buf = Buffer.allocUnsafe(FCGI_HEADER_LEN);
  writeHeader(buf, 0, type, requestId, contentLength, paddingLength);
  return buf;
}

/** One record: header, body (at most MAX_RECORD_BODY bytes), zero padding to a multiple of 8. */
export function encodeRecord(type: number, requestId: number, body?: Uint8Array): Buffer {
  const len = body === undefined ? 0 : body.length;
  if (len > MAX_RECORD_BODY) {
    throw new RangeError(`record body of ${len} bytes exceeds ${MAX_RECORD_BODY}`);
  }
  checkU16('requestId', requestId);
  const pad = paddingFor(len);
  const buf = Buffer.allocUnsafe(FCGI_HEADER_LEN + len + pad);
  writeHeader(buf, 0, type, requestId, len, pad);
  if (len > 0) buf.set(body as Uint8Array, FCGI_HEADER_LEN);
  if (pad > 0) buf.fill(0, FCGI_HEADER_LEN + len);
  return buf;
}

/** Bytes that encodeStream() produces for `dataLength` bytes of data. */
export function encodedStreamLength(dataLength: number): number {
  const full = Math.floor(dataLength / MAX_RECORD_BODY);
  const rest = dataLength - full * MAX_RECORD_BODY;
  // MAX_RECORD_BODY is 8-aligned, so only the last record needs padding.
  return (
    full * (FCGI_HEADER_LEN + MAX_RECORD_BODY) + (rest > 0 ? FCGI_HEADER_LEN + rest + paddingFor(rest) : 0)
  );
}

/**
 * Writes `data` as stream records (STDIN, STDOUT, ...) into `buf` at `offset`, split at
 * MAX_RECORD_BODY; returns the offset after the last record. No empty terminator.
 */
export function writeStream(
  buf: Buffer,
  offset: number,
  type: number,
  requestId: number,
  data: Uint8Array,
): number {
  let pos = offset;
  for (let start = 0; start < data.length; start += MAX_RECORD_BODY) {
    const len = Math.min(MAX_RECORD_BODY, data.length - start);
    const pad = paddingFor(len);
    writeHeader(buf, pos, type, requestId, len, pad);
    pos += FCGI_HEADER_LEN;
    buf.set(data.subarray(start, start + len), pos);
    pos += len;
    if (pad > 0) {
      buf.fill(0, pos, pos + pad);
      pos += pad;
    }
  }
  return pos;
}

/** `data` as stream records split at MAX_RECORD_BODY, without the empty terminator record. */
export function encodeStream(type: number, requestId: number, data: Uint8Array): Buffer {
  checkU16('requestId', requestId);
  const buf = Buffer.allocUnsafe(encodedStreamLength(data.length));
  writeStream(buf, 0, type, requestId, data);
  return buf;
}

/** The empty record that ends a stream (PARAMS, STDIN, STDOUT, ...). */
export function encodeStreamEnd(type: number, requestId: number): Buffer {
  return encodeHeader(type, requestId, 0, 0);
}

/** Writes a 16-byte BEGIN_REQUEST record into `buf` at `offset`. */
export function writeBeginRequest(
  buf: Buffer,
  offset: number,
  requestId: number,
  role: number,
  flags: number,
): void {
  writeHeader(buf, offset, RecordType.BEGIN_REQUEST, requestId, FIXED_BODY_LEN, 0);
  buf[offset + 8] = role >>> 8;
  buf[offset + 9] = role & 0xff;
  buf[offset + 10] = flags;
  buf.fill(0, offset + 11, offset + 16);
}

export function encodeBeginRequest(requestId: number, role: number, flags: number): Buffer {
  checkU16('requestId', requestId);
  checkU16('role', role);
  const buf = Buffer.allocUnsafe(FCGI_HEADER_LEN + FIXED_BODY_LEN);
  writeBeginRequest(buf, 0, requestId, role, flags & 0xff);
  return buf;
}

export function encodeEndRequest(requestId: number, appStatus: number, protocolStatus: number): Buffer {
  checkU16('requestId', requestId);
  const buf = Buffer.allocUnsafe(FCGI_HEADER_LEN + FIXED_BODY_LEN);
  writeHeader(buf, 0, RecordType.END_REQUEST, requestId, FIXED_BODY_LEN, 0);
  buf.writeUInt32BE(appStatus >>> 0, 8);
  buf[12] = protocolStatus;
  buf.fill(0, 13, 16);
  return buf;
}

export function encodeAbortRequest(requestId: number): Buffer {
  return encodeHeader(RecordType.ABORT_REQUEST, requestId, 0, 0);
}

/** The management answer to a record whose type the application does not know. */
export function encodeUnknownType(type: number): Buffer {
  const buf = Buffer.allocUnsafe(FCGI_HEADER_LEN + FIXED_BODY_LEN);
  writeHeader(buf, 0, RecordType.UNKNOWN_TYPE, FCGI_NULL_REQUEST_ID, FIXED_BODY_LEN, 0);
  buf[8] = type;
  buf.fill(0, 9, 16);
  return buf;
}

export interface BeginRequestBody {
  role: number;
  flags: number;
}

export interface EndRequestBody {
  appStatus: number;
  protocolStatus: number;
}

export function decodeBeginRequest(body: Uint8Array): BeginRequestBody {
  checkFixed(body, 'BEGIN_REQUEST');
  return { role: (body[0] << 8) | body[1], flags: body[2] };
}

export function decodeEndRequest(body: Uint8Array): EndRequestBody {
  checkFixed(body, 'END_REQUEST');
  return { appStatus: readU32(body, 0), protocolStatus: body[4] };
}

/** appStatus of an END_REQUEST body, without allocating (hot path of the client). */
export function endRequestAppStatus(body: Uint8Array): number {
  checkFixed(body, 'END_REQUEST');
  return readU32(body, 0);
}

export function decodeUnknownType(body: Uint8Array): number {
  checkFixed(body, 'UNKNOWN_TYPE');
  return body[0];
}

function readU32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

function checkFixed(body: Uint8Array, what: string): void {
  if (body.length !== FIXED_BODY_LEN) {
    throw new FcgiProtocolError(
      ProtocolErrorCode.BAD_LENGTH,
      `${what} body must be ${FIXED_BODY_LEN} bytes, got ${body.length}`,
    );
  }
}

function checkU16(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`${what} out of range: ${n}`);
}
