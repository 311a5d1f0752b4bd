// Builds the head of a request — BEGIN_REQUEST, PARAMS records, the empty PARAMS record and,
// for small bodies, STDIN up to its empty record — in ONE buffer, so the client sends it with
// one socket write (DESIGN.md §8). An app's static params are encoded once (PreEncodedParams)
// and copied per request; per-request params are encoded straight into the same buffer.
//
// Invariant: every byte in [0, pos) has been written explicitly, so the allocUnsafe memory
// behind `buf` never reaches the wire; no pair straddles two PARAMS records.

import type { FcgiParamsInput, ParamsEncoder } from './connection-types.ts';
import { FCGI_HEADER_LEN, MAX_NV_PAIR_LENGTH, MAX_RECORD_BODY, RecordType, Role } from './constants.ts';
import { type NameValueInput, pairSize, pairsOf, tooLarge, utf8Length, writePair } from './name-value.ts';
import { encodedStreamLength, paddingFor, writeBeginRequest, writeHeader, writeStream } from './records.ts';

const BEGIN_REQUEST_LEN = 16;

/** Static params encoded once: the pair bytes back to back plus where each pair ends. */
export class PreEncodedParams {
  readonly bytes: Buffer;
  /** End offset of each pair in `bytes`, so a writer can split between pairs. */
  readonly pairEnds: Uint32Array;

  constructor(pairs: NameValueInput) {
    const list: Array<[string, number, string, number]> = [];
    let total = 0;
    for (const [name, value] of pairsOf(pairs)) {
      const nb = Buffer.byteLength(name, 'utf8');
      const vb = Buffer.byteLength(value, 'utf8');
      const size = pairSize(nb, vb);
      if (size > MAX_NV_PAIR_LENGTH) throw tooLarge(name, size);
      list.push([name, nb, value, vb]);
      total += size;
    }
    this.bytes = Buffer.alloc(total);
    this.pairEnds = new Uint32Array(list.length);
    let pos = 0;
    for (let i = 0; i < list.length; i++) {
      const [name, nb, value, vb] = list[i];
      pos = writePair(this.bytes, pos, name, nb, value, vb);
      this.pairEnds[i] = pos;
    }
  }

  get count(): number {
    return this.pairEnds.length;
  }
}

export class ParamsWriter {
  private buf: Buffer;
  private pos = BEGIN_REQUEST_LEN;
  /** Offset of the open PARAMS record's header, -1 when none is open. */
  private recordStart = -1;
  private finished = false;

  /** `capacity` is a hint; the buffer grows as needed. */
  constructor(capacity = 2048) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 64));
  }

  static from(pairs: NameValueInput | PreEncodedParams): ParamsWriter {
    const w = new ParamsWriter();
    if (pairs instanceof PreEncodedParams) w.addEncoded(pairs);
    else w.addPairs(pairs);
    return w;
  }

  /** Adds one pair; throws NAME_VALUE_TOO_LARGE (the gateway answers 431) if it fits no record. */
  add(name: string, value: string): this {
    return this.addSized(name, utf8Length(name), value, utf8Length(value));
  }

  /** Adds one pair whose UTF-8 sizes the caller has measured (utf8Length). */
  addSized(name: string, nameBytes: number, value: string, valueBytes: number): this {
    const size = pairSize(nameBytes, valueBytes);
    if (size > MAX_NV_PAIR_LENGTH) throw tooLarge(name, size);
    this.room(size);
    this.pos = writePair(this.buf, this.pos, name, nameBytes, value, valueBytes);
    return this;
  }

  addPairs(pairs: NameValueInput): this {
    for (const [name, value] of pairsOf(pairs)) this.add(name, value);
    return this;
  }

  /** Copies pre-encoded pairs, in one copy when they fit the open record. */
  addEncoded(params: PreEncodedParams): this {
    const bytes = params.bytes;
    if (bytes.length === 0) return this;
    if (
      this.recordStart >= 0 &&
      this.pos - this.recordStart - FCGI_HEADER_LEN + bytes.length <= MAX_RECORD_BODY
    ) {
      this.ensure(bytes.length);
      bytes.copy(this.buf, this.pos);
      this.pos += bytes.length;
      return this;
    }
    let start = 0;
    for (let i = 0; i < params.pairEnds.length; i++) {
      const end = params.pairEnds[i];
      this.room(end - start);
      bytes.copy(this.buf, this.pos, start, end);
      this.pos += end - start;
      start = end;
    }
    return this;
  }

  /** Bytes written so far (BEGIN_REQUEST room included). */
  get byteLength(): number {
    return this.pos;
  }

  /**
   * Closes the params and returns the request head: BEGIN_REQUEST, PARAMS records, the empty
   * PARAMS record and, when `stdin` is given, its STDIN records and the empty STDIN record.
   * The writer cannot be used again: the returned buffer shares its memory.
   */
  finish(requestId: number, role: number, flags: number, stdin?: Uint8Array | null): Buffer {
    if (this.finished) throw new Error('ParamsWriter.finish() called twice');
    this.finished = true;
    this.closeRecord();
    const stdinBytes = stdin == null ? 0 : encodedStreamLength(stdin.length) + FCGI_HEADER_LEN;
    this.ensure(FCGI_HEADER_LEN + stdinBytes);
    const buf = this.buf;
    // Request ids go in last: records are closed before the id is known (static params).
    let p = BEGIN_REQUEST_LEN;
    while (p < this.pos) {
      buf[p + 2] = requestId >>> 8;
      buf[p + 3] = requestId & 0xff;
      p += FCGI_HEADER_LEN + ((buf[p + 4] << 8) | buf[p + 5]) + buf[p + 6];
    }
    writeBeginRequest(buf, 0, requestId, role, flags);
    writeHeader(buf, this.pos, RecordType.PARAMS, requestId, 0, 0);
    this.pos += FCGI_HEADER_LEN;
    if (stdin != null) {
      this.pos = writeStream(buf, this.pos, RecordType.STDIN, requestId, stdin);
      writeHeader(buf, this.pos, RecordType.STDIN, requestId, 0, 0);
      this.pos += FCGI_HEADER_LEN;
    }
    return buf.subarray(0, this.pos);
  }

  /** Makes room for a pair of `size` bytes in the open record, opening a new record if needed. */
  private room(size: number): void {
    if (this.finished) throw new Error('ParamsWriter used after finish()');
    if (this.recordStart < 0 || this.pos - this.recordStart - FCGI_HEADER_LEN + size > MAX_RECORD_BODY) {
      this.closeRecord();
      this.ensure(FCGI_HEADER_LEN + size);
      this.recordStart = this.pos;
      this.pos += FCGI_HEADER_LEN;
    } else {
      this.ensure(size);
    }
  }

  private closeRecord(): void {
    if (this.recordStart < 0) return;
    const len = this.pos - this.recordStart - FCGI_HEADER_LEN;
    const pad = paddingFor(len);
    this.ensure(pad);
    this.buf.fill(0, this.pos, this.pos + pad);
    writeHeader(this.buf, this.recordStart, RecordType.PARAMS, 0, len, pad);
    this.pos += pad;
    this.recordStart = -1;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

/**
 * BEGIN_REQUEST (responder role), the params in any of their input forms and, when given, the
 * whole STDIN: the bytes of one request's first write.
 */
export function requestHead(
  params: FcgiParamsInput,
  id: number,
  flags: number,
  stdin: Uint8Array | null,
): Buffer {
  if (params instanceof ParamsWriter) return params.finish(id, Role.RESPONDER, flags, stdin);
  if (params instanceof Uint8Array) return requestHeadFromRecords(id, Role.RESPONDER, flags, params, stdin);
  if (isEncoder(params)) return params.encode().finish(id, Role.RESPONDER, flags, stdin);
  return ParamsWriter.from(params).finish(id, Role.RESPONDER, flags, stdin);
}

function isEncoder(params: FcgiParamsInput): params is ParamsEncoder {
  return typeof (params as Partial<ParamsEncoder>).encode === 'function';
}

/**
 * Request head from PARAMS records already encoded (encodeParams() output, terminator
 * included), for callers that keep whole records: copies them and rewrites their request id.
 */
export function requestHeadFromRecords(
  requestId: number,
  role: number,
  flags: number,
  paramsRecords: Uint8Array,
  stdin?: Uint8Array | null,
): Buffer {
  const stdinBytes = stdin == null ? 0 : encodedStreamLength(stdin.length) + FCGI_HEADER_LEN;
  const buf = Buffer.allocUnsafe(BEGIN_REQUEST_LEN + paramsRecords.length + stdinBytes);
  writeBeginRequest(buf, 0, requestId, role, flags);
  buf.set(paramsRecords, BEGIN_REQUEST_LEN);
  let p = BEGIN_REQUEST_LEN;
  const end = BEGIN_REQUEST_LEN + paramsRecords.length;
  while (p + FCGI_HEADER_LEN <= end) {
    buf[p + 2] = requestId >>> 8;
    buf[p + 3] = requestId & 0xff;
    p += FCGI_HEADER_LEN + ((buf[p + 4] << 8) | buf[p + 5]) + buf[p + 6];
  }
  if (p !== end) throw new RangeError('paramsRecords is not a whole number of records');
  p = end;
  if (stdin != null) {
    p = writeStream(buf, p, RecordType.STDIN, requestId, stdin);
    writeHeader(buf, p, RecordType.STDIN, requestId, 0, 0);
  }
  return buf;
}
