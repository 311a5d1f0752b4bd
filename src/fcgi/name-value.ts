// FastCGI name-value pairs (PARAMS, GET_VALUES, GET_VALUES_RESULT bodies).
// Lengths count UTF-8 bytes: 1 byte when <= 127, else 4 bytes big-endian with the top bit set.
// php-fpm parses each PARAMS record on its own, so a pair is never split across records: a
// pair that cannot fit one record (MAX_NV_PAIR_LENGTH) is refused, never truncated.

import { FcgiProtocolError, ProtocolErrorCode } from '../errors.ts';
import {
  FCGI_HEADER_LEN,
  FCGI_NULL_REQUEST_ID,
  MAX_NV_PAIR_LENGTH,
  MAX_RECORD_BODY,
  RecordType,
} from './constants.ts';
import { encodeRecord, encodeStreamEnd, paddingFor, writeHeader } from './records.ts';

export type NameValueInput = Iterable<readonly [string, string]> | Record<string, string>;

/** Largest length the 4-byte form can carry (31 bits). */
const MAX_NV_LENGTH = 0x7fffffff;

/** Size of the length prefix for a name or value of `n` bytes. */
export function lengthFieldSize(n: number): number {
  return n > 127 ? 4 : 1;
}

/** Encoded size of a pair whose name and value take `nameBytes` and `valueBytes` UTF-8 bytes. */
export function pairSize(nameBytes: number, valueBytes: number): number {
  return lengthFieldSize(nameBytes) + lengthFieldSize(valueBytes) + nameBytes + valueBytes;
}

export function tooLarge(name: string, size: number): FcgiProtocolError {
  return new FcgiProtocolError(
    ProtocolErrorCode.NAME_VALUE_TOO_LARGE,
    `name-value pair ${JSON.stringify(name.slice(0, 64))} takes ${size} bytes, more than the ${MAX_NV_PAIR_LENGTH} that fit one record`,
  );
}

/** Writes a length prefix at `pos`, returns the position after it. */
export function writeLength(buf: Buffer, pos: number, n: number): number {
  if (n > 127) {
    buf.writeUInt32BE((n | 0x80000000) >>> 0, pos);
    return pos + 4;
  }
  buf[pos] = n;
  return pos + 1;
}

/**
 * Strings up to this length that are plain ASCII (nearly every param name and value) are
 * measured without a call into Buffer's UTF-8 code and written as latin1: a request has some
 * forty of them (7.5 µs per request head before, under 3 µs after, micro-benchmark).
 */
const SHORT_STRING = 64;
const NON_ASCII = /[^\x00-\x7f]/;

/** Bytes of `s` in UTF-8. */
export function utf8Length(s: string): number {
  // a regex, not a charCodeAt loop: param strings come in many internal shapes (sliced,
  // concatenated, internalised), which turns a loop's property loads megamorphic
  return s.length > SHORT_STRING || NON_ASCII.test(s) ? Buffer.byteLength(s, 'utf8') : s.length;
}

/** Writes `s`, `bytes` long in UTF-8 (utf8Length), at `pos`; returns the position after it. */
function writeString(buf: Buffer, pos: number, s: string, bytes: number): number {
  // as many bytes as characters: all ASCII, which latin1 writes without UTF-8 encoding
  return pos + buf.write(s, pos, bytes, bytes === s.length ? 'latin1' : 'utf8');
}

/**
 * Writes one pair at `pos` (the caller has checked the room: pairSize bytes);
 * returns the position after it.
 */
export function writePair(
  buf: Buffer,
  pos: number,
  name: string,
  nameBytes: number,
  value: string,
  valueBytes: number,
): number {
  let p = writeLength(buf, pos, nameBytes);
  p = writeLength(buf, p, valueBytes);
  p = writeString(buf, p, name, nameBytes);
  return writeString(buf, p, value, valueBytes);
}

/** One encoded pair (length prefixes + bytes); throws NAME_VALUE_TOO_LARGE if it fits no record. */
export function encodeNameValuePair(name: string, value: string): Buffer {
  const nameBytes = utf8Length(name);
  const valueBytes = utf8Length(value);
  const size = pairSize(nameBytes, valueBytes);
  if (size > MAX_NV_PAIR_LENGTH) throw tooLarge(name, size);
  const buf = Buffer.allocUnsafe(size);
  writePair(buf, 0, name, nameBytes, value, valueBytes);
  return buf;
}

export function pairsOf(pairs: NameValueInput): Iterable<readonly [string, string]> {
  return Symbol.iterator in pairs
    ? (pairs as Iterable<readonly [string, string]>)
    : Object.entries(pairs as Record<string, string>);
}

/**
 * Groups encoded pairs into record bodies of at most MAX_RECORD_BODY bytes, keeping each pair
 * whole and the order unchanged.
 */
export function packNameValuePairs(encoded: Iterable<Uint8Array>): Buffer[] {
  const bodies: Buffer[] = [];
  let group: Uint8Array[] = [];
  let groupBytes = 0;
  for (const pair of encoded) {
    if (pair.length > MAX_RECORD_BODY) throw tooLarge('(encoded pair)', pair.length);
    if (groupBytes + pair.length > MAX_RECORD_BODY) {
      bodies.push(Buffer.concat(group, groupBytes));
      group = [];
      groupBytes = 0;
    }
    group.push(pair);
    groupBytes += pair.length;
  }
  if (groupBytes > 0) bodies.push(Buffer.concat(group, groupBytes));
  return bodies;
}

/** PARAMS bodies, each at most MAX_RECORD_BODY bytes, no pair split across two of them. */
export function encodeNameValuePairs(pairs: NameValueInput): Buffer[] {
  const encoded: Buffer[] = [];
  for (const [name, value] of pairsOf(pairs)) encoded.push(encodeNameValuePair(name, value));
  return packNameValuePairs(encoded);
}

/** All PARAMS records of `pairs` followed by the empty PARAMS record, in one buffer. */
export function encodeParams(requestId: number, pairs: NameValueInput): Buffer {
  const bodies = encodeNameValuePairs(pairs);
  let total = FCGI_HEADER_LEN;
  for (const body of bodies) total += FCGI_HEADER_LEN + body.length + paddingFor(body.length);
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const body of bodies) {
    const pad = paddingFor(body.length);
    writeHeader(buf, pos, RecordType.PARAMS, requestId, body.length, pad);
    pos += FCGI_HEADER_LEN;
    buf.set(body, pos);
    pos += body.length;
    buf.fill(0, pos, pos + pad);
    pos += pad;
  }
  writeHeader(buf, pos, RecordType.PARAMS, requestId, 0, 0);
  return buf;
}

/** Decodes one record body of pairs; throws BAD_NAME_VALUE when a pair is cut off. */
export function decodeNameValuePairs(body: Uint8Array): Array<[string, string]> {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length);
  const out: Array<[string, string]> = [];
  const end = buf.length;
  let pos = 0;
  while (pos < end) {
    let nameLen = buf[pos];
    if (nameLen > 127) {
      if (pos + 4 > end) throw truncated('name length');
      nameLen = buf.readUInt32BE(pos) & MAX_NV_LENGTH;
      pos += 4;
    } else pos += 1;
    if (pos >= end) throw truncated('value length');
    let valueLen = buf[pos];
    if (valueLen > 127) {
      if (pos + 4 > end) throw truncated('value length');
      valueLen = buf.readUInt32BE(pos) & MAX_NV_LENGTH;
      pos += 4;
    } else pos += 1;
    if (nameLen > end - pos || valueLen > end - pos - nameLen) throw truncated('name or value');
    const name = buf.toString('utf8', pos, pos + nameLen);
    pos += nameLen;
    const value = buf.toString('utf8', pos, pos + valueLen);
    pos += valueLen;
    out.push([name, value]);
  }
  return out;
}

function truncated(what: string): FcgiProtocolError {
  return new FcgiProtocolError(ProtocolErrorCode.BAD_NAME_VALUE, `name-value pair cut off in its ${what}`);
}

/** A GET_VALUES record asking for `names` (empty values, request id 0, one record). */
export function encodeGetValues(names: readonly string[]): Buffer {
  return encodeManagementPairs(
    RecordType.GET_VALUES,
    names.map((n) => [n, ''] as const),
  );
}

/** A GET_VALUES_RESULT record answering with `values`. */
export function encodeGetValuesResult(values: NameValueInput): Buffer {
  return encodeManagementPairs(RecordType.GET_VALUES_RESULT, values);
}

function encodeManagementPairs(type: number, pairs: NameValueInput): Buffer {
  const bodies = encodeNameValuePairs(pairs);
  // Management records are single records by the spec: there is no stream to continue.
  if (bodies.length > 1) throw tooLarge('(management record)', MAX_RECORD_BODY + 1);
  return bodies.length === 0
    ? encodeStreamEnd(type, FCGI_NULL_REQUEST_ID)
    : encodeRecord(type, FCGI_NULL_REQUEST_ID, bodies[0]);
}
