import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FcgiProtocolError, ProtocolErrorCode } from '../../src/errors.ts';
import {
  FCGI_HEADER_LEN,
  MAX_CONTENT_LENGTH,
  MAX_RECORD_BODY,
  RecordType,
} from '../../src/fcgi/constants.ts';
import { RecordParser } from '../../src/fcgi/parser.ts';
import {
  decodeBeginRequest,
  decodeEndRequest,
  decodeUnknownType,
  encodeAbortRequest,
  encodeBeginRequest,
  encodeEndRequest,
  encodeHeader,
  encodeRecord,
  encodeStream,
  encodeStreamEnd,
  encodeUnknownType,
} from '../../src/fcgi/records.ts';
import { bodyArb, patterned, type RawRecord, recordArb } from './fcgi-arbitraries.ts';

function parseAll(buf: Buffer): RawRecord[] {
  const out: RawRecord[] = [];
  const p = new RecordParser((type, requestId, content) =>
    out.push({ type, requestId, content: Buffer.from(content) }),
  );
  p.push(buf);
  p.end();
  return out;
}

/** Walks the record headers of `buf` and checks the framing rules every encoder must keep. */
function assertWellFramed(buf: Buffer): void {
  let p = 0;
  while (p < buf.length) {
    assert.equal(buf[p], 1, 'version');
    assert.equal(buf[p + 7], 0, 'reserved byte');
    const len = buf.readUInt16BE(p + 4);
    const pad = buf[p + 6];
    assert.ok(len + pad <= MAX_CONTENT_LENGTH, 'content + padding fits php-fpm');
    assert.ok(len <= MAX_RECORD_BODY);
    assert.equal((len + pad) % 8, 0, 'padded to a multiple of 8');
    for (let i = 0; i < pad; i++) assert.equal(buf[p + FCGI_HEADER_LEN + len + i], 0, 'padding is zero');
    p += FCGI_HEADER_LEN + len + pad;
  }
  assert.equal(p, buf.length, 'whole records');
}

describe('records', () => {
  it('a record round-trips through the parser with zero padding to a multiple of 8', () => {
    fc.assert(
      fc.property(recordArb, (r) => {
        const buf = encodeRecord(r.type, r.requestId, r.content);
        assertWellFramed(buf);
        assert.deepEqual(parseAll(buf), [
          { type: r.type, requestId: r.requestId, content: Buffer.from(r.content) },
        ]);
      }),
      { numRuns: 2000 },
    );
  });

  it('never sends uninitialised memory: every byte is written even when allocUnsafe is dirty', (t) => {
    const real = Buffer.allocUnsafe;
    t.mock.method(Buffer, 'allocUnsafe', (n: number) => real(n).fill(0xee));
    for (let len = 0; len < 24; len++) {
      const body = Buffer.alloc(len, 0x11);
      for (const buf of [
        encodeRecord(RecordType.STDOUT, 1, body),
        encodeStream(RecordType.STDOUT, 1, body),
        encodeBeginRequest(1, 1, 1),
        encodeEndRequest(1, 0, 0),
        encodeUnknownType(len),
        encodeHeader(RecordType.STDIN, 1, 0, 0),
      ]) {
        assertWellFramed(buf);
        assert.equal(buf.indexOf(0xee), -1, `dirty byte in ${buf.toString('hex')}`);
      }
    }
  });

  it('a stream splits at MAX_RECORD_BODY, keeps every byte, and has no terminator', () => {
    const dataArb = fc.oneof(
      { weight: 4, arbitrary: bodyArb },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: MAX_RECORD_BODY, max: 3 * MAX_RECORD_BODY + 9 })
          .map((n) => patterned(n, n)),
      },
    );
    fc.assert(
      fc.property(dataArb, fc.integer({ min: 1, max: 0xffff }), (data, id) => {
        const buf = encodeStream(RecordType.STDIN, id, data);
        assertWellFramed(buf);
        const recs = parseAll(buf);
        assert.equal(recs.length, Math.ceil(data.length / MAX_RECORD_BODY));
        for (const r of recs) {
          assert.equal(r.type, RecordType.STDIN);
          assert.equal(r.requestId, id);
          assert.ok(r.content.length > 0, 'no empty record inside a stream');
        }
        assert.deepEqual(Buffer.concat(recs.map((r) => r.content)), Buffer.from(data));
      }),
      { numRuns: 500 },
    );
  });

  it('fixed bodies round-trip: BEGIN_REQUEST, END_REQUEST, UNKNOWN_TYPE, ABORT_REQUEST', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (id, role, byte, appStatus) => {
          const begin = encodeBeginRequest(id, role, byte);
          assertWellFramed(begin);
          const [b] = parseAll(begin);
          assert.equal(b.type, RecordType.BEGIN_REQUEST);
          assert.equal(b.requestId, id);
          assert.deepEqual(decodeBeginRequest(b.content), { role, flags: byte });

          const end = encodeEndRequest(id, appStatus, byte);
          assertWellFramed(end);
          const [e] = parseAll(end);
          assert.equal(e.requestId, id);
          assert.deepEqual(decodeEndRequest(e.content), { appStatus, protocolStatus: byte });

          const [u] = parseAll(encodeUnknownType(byte));
          assert.equal(u.type, RecordType.UNKNOWN_TYPE);
          assert.equal(u.requestId, 0);
          assert.equal(decodeUnknownType(u.content), byte);

          const [a] = parseAll(encodeAbortRequest(id));
          assert.deepEqual(a, { type: RecordType.ABORT_REQUEST, requestId: id, content: Buffer.alloc(0) });
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('fixed-body decoders refuse any other size with BAD_LENGTH', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }).filter((b) => b.length !== 8),
        (body) => {
          for (const decode of [decodeBeginRequest, decodeEndRequest, decodeUnknownType]) {
            assert.throws(
              () => decode(body),
              (err: unknown) => err instanceof FcgiProtocolError && err.code === ProtocolErrorCode.BAD_LENGTH,
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('encodes the header bytes of the spec exactly', () => {
    assert.deepEqual(
      [...encodeHeader(RecordType.STDOUT, 0x1234, 0xfff8, 7)],
      [1, 6, 0x12, 0x34, 0xff, 0xf8, 7, 0],
    );
    assert.deepEqual([...encodeStreamEnd(RecordType.PARAMS, 1)], [1, 4, 0, 1, 0, 0, 0, 0]);
    assert.deepEqual([...encodeBeginRequest(1, 1, 1)], [1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    assert.deepEqual(
      [...encodeEndRequest(2, 0x01020304, 3)],
      [1, 3, 0, 2, 0, 8, 0, 0, 1, 2, 3, 4, 3, 0, 0, 0],
    );
    assert.equal(encodeStream(RecordType.STDIN, 1, Buffer.alloc(0)).length, 0);
  });

  it('refuses a record body larger than MAX_RECORD_BODY instead of breaking php-fpm', () => {
    assert.equal(
      encodeRecord(RecordType.STDIN, 1, Buffer.alloc(MAX_RECORD_BODY)).length,
      8 + MAX_RECORD_BODY,
    );
    assert.throws(() => encodeRecord(RecordType.STDIN, 1, Buffer.alloc(MAX_RECORD_BODY + 1)), RangeError);
    assert.throws(() => encodeHeader(RecordType.STDIN, 0x10000, 0, 0), RangeError);
  });
});
