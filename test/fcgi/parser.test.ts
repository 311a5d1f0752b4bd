import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FcgiProtocolError, ProtocolErrorCode } from '../../src/errors.ts';
import { RecordType } from '../../src/fcgi/constants.ts';
import { RecordParser } from '../../src/fcgi/parser.ts';
import { encodeHeader, encodeRecord } from '../../src/fcgi/records.ts';
import { cutsArb, type RawRecord, recordArb, splitAt } from './fcgi-arbitraries.ts';

const isCode = (code: string) => (err: unknown) => err instanceof FcgiProtocolError && err.code === code;

function encodeAll(recs: readonly RawRecord[]): Buffer {
  return Buffer.concat(recs.map((r) => encodeRecord(r.type, r.requestId, r.content)));
}

function parseChunks(chunks: readonly Buffer[]): RawRecord[] {
  const out: RawRecord[] = [];
  const p = new RecordParser((type, requestId, content) =>
    out.push({ type, requestId, content: Buffer.from(content) }),
  );
  for (const c of chunks) p.push(c);
  p.end();
  assert.equal(p.buffered, 0);
  return out;
}

const normal = (recs: readonly RawRecord[]) =>
  recs.map((r) => ({ type: r.type, requestId: r.requestId, content: Buffer.from(r.content) }));

/** A stream of records with random padding lengths (peers other than us pad as they like). */
function encodeWithPadding(recs: readonly RawRecord[], pads: readonly number[]): Buffer {
  return Buffer.concat(
    recs.flatMap((r, i) => [
      encodeHeader(r.type, r.requestId, r.content.length, pads[i % pads.length]),
      Buffer.from(r.content),
      Buffer.alloc(pads[i % pads.length], 0x5a), // padding content is never looked at
    ]),
  );
}

describe('RecordParser', () => {
  it('gives the same records for every chunking of the stream', () => {
    const arb = fc.array(recordArb, { maxLength: 8 }).chain((recs) => {
      const buf = encodeAll(recs);
      return fc.tuple(fc.constant(recs), fc.constant(buf), cutsArb(buf.length));
    });
    fc.assert(
      fc.property(arb, ([recs, buf, cuts]) => {
        assert.deepEqual(parseChunks(splitAt(buf, cuts)), normal(recs));
      }),
      { numRuns: 2000 },
    );
  });

  it('parses byte by byte, with any padding length', () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { maxLength: 4 }).filter((a) => a.every((r) => r.content.length < 300)),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }),
        (recs, pads) => {
          const buf = encodeWithPadding(recs, pads);
          const bytes: Buffer[] = [];
          for (let i = 0; i < buf.length; i++) bytes.push(buf.subarray(i, i + 1));
          assert.deepEqual(parseChunks(bytes), normal(recs));
          assert.deepEqual(parseChunks([buf]), normal(recs));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('every single split point of a small stream gives the same records', () => {
    const recs: RawRecord[] = [
      { type: RecordType.STDOUT, requestId: 1, content: Buffer.from('Status: 200\r\n\r\nhello') },
      { type: RecordType.STDERR, requestId: 1, content: Buffer.from('warn') },
      { type: RecordType.STDOUT, requestId: 1, content: Buffer.alloc(0) },
      { type: RecordType.END_REQUEST, requestId: 1, content: Buffer.from([0, 0, 0, 7, 0, 0, 0, 0]) },
    ];
    const buf = encodeAll(recs);
    for (let i = 0; i <= buf.length; i++) {
      for (let j = i; j <= buf.length; j++) {
        assert.deepEqual(
          parseChunks([buf.subarray(0, i), buf.subarray(i, j), buf.subarray(j)]),
          normal(recs),
        );
      }
    }
  });

  it('random garbage throws only FcgiProtocolError, and the parser then stays failed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }),
        fc.boolean(),
        (chunks, validVersion) => {
          const p = new RecordParser(() => {});
          let failed: unknown = null;
          try {
            for (const c of chunks) {
              const b = Buffer.from(c);
              if (validVersion && b.length > 0) b[0] = 1; // reach the deeper checks too
              p.push(b);
            }
            p.end();
          } catch (err) {
            failed = err;
          }
          if (failed !== null) {
            assert.ok(failed instanceof FcgiProtocolError, `unexpected ${String(failed)}`);
            assert.equal(p.error, failed);
            assert.throws(
              () => p.push(Buffer.from([1, 6, 0, 1, 0, 0, 0, 0])),
              (e: unknown) => e === failed,
            );
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('a stream cut inside a record gives TRUNCATED at end(), after the whole records before it', () => {
    const arb = fc.array(recordArb, { minLength: 1, maxLength: 5 }).chain((recs) => {
      const buf = encodeAll(recs);
      return fc.tuple(fc.constant(recs), fc.constant(buf), fc.integer({ min: 1, max: buf.length - 1 }));
    });
    fc.assert(
      fc.property(arb, ([recs, buf, cut]) => {
        // a record is delivered as soon as its content is in (its padding may follow later)
        let boundary = 0;
        let delivered = 0;
        for (const r of recs) {
          const size = encodeRecord(r.type, r.requestId, r.content).length;
          if (boundary + 8 + r.content.length <= cut) delivered++;
          if (boundary + size > cut) break;
          boundary += size;
        }
        const got: number[] = [];
        const p = new RecordParser((type) => got.push(type));
        p.push(buf.subarray(0, cut));
        assert.equal(got.length, delivered);
        if (boundary === cut) {
          p.end(); // a cut between records is a clean end
        } else {
          assert.equal(p.buffered, cut - boundary);
          assert.throws(() => p.end(), isCode(ProtocolErrorCode.TRUNCATED));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses a version other than 1 and impossible fixed body sizes', () => {
    const badVersion = Buffer.from([2, 6, 0, 1, 0, 0, 0, 0]);
    assert.throws(() => new RecordParser(() => {}).push(badVersion), isCode(ProtocolErrorCode.BAD_VERSION));
    const http = Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n');
    assert.throws(() => new RecordParser(() => {}).push(http), isCode(ProtocolErrorCode.BAD_VERSION));
    for (const [type, len] of [
      [RecordType.BEGIN_REQUEST, 7],
      [RecordType.END_REQUEST, 9],
      [RecordType.UNKNOWN_TYPE, 0],
      [RecordType.ABORT_REQUEST, 8],
    ]) {
      const p = new RecordParser(() => {});
      assert.throws(() => p.push(encodeHeader(type, 1, len, 0)), isCode(ProtocolErrorCode.BAD_LENGTH));
    }
  });

  it('passes unknown record types through raw for the consumer to judge', () => {
    const recs: RawRecord[] = [
      { type: 0, requestId: 0, content: Buffer.from('x') },
      { type: 12, requestId: 0, content: Buffer.alloc(0) },
      { type: 255, requestId: 9, content: Buffer.from('yz') },
    ];
    assert.deepEqual(parseChunks([encodeAll(recs)]), normal(recs));
  });

  it('hands out a zero-copy view when the content lies in one chunk, a copy when it spans chunks', () => {
    const buf = encodeRecord(RecordType.STDOUT, 1, Buffer.from('abcdefghij'));
    const seen: Buffer[] = [];
    const p = new RecordParser((_t, _id, content) => seen.push(content));
    p.push(buf);
    assert.equal(seen[0].buffer, buf.buffer);
    assert.equal(seen[0].byteOffset, buf.byteOffset + 8);
    // header in one chunk, content in the next: still a view of the second chunk
    const second = buf.subarray(8);
    p.push(buf.subarray(0, 8));
    p.push(second);
    assert.equal(seen[1].buffer, second.buffer);
    p.push(buf.subarray(0, 12));
    p.push(buf.subarray(12));
    const overlaps = (a: Buffer, b: Buffer) =>
      a.buffer === b.buffer &&
      a.byteOffset < b.byteOffset + b.length &&
      b.byteOffset < a.byteOffset + a.length;
    assert.ok(!overlaps(seen[2], buf), 'assembled content is a copy');
    assert.deepEqual(
      seen.map((s) => s.toString()),
      ['abcdefghij', 'abcdefghij', 'abcdefghij'],
    );
  });

  it('an error thrown by the consumer fails the parser for good', () => {
    const boom = new FcgiProtocolError(ProtocolErrorCode.UNKNOWN_REQUEST, 'record for request 9');
    const p = new RecordParser(() => {
      throw boom;
    });
    assert.throws(
      () => p.push(encodeRecord(RecordType.STDOUT, 9, Buffer.from('x'))),
      (e: unknown) => e === boom,
    );
    assert.throws(
      () => p.push(Buffer.alloc(0)),
      (e: unknown) => e === boom,
    );
    assert.throws(
      () => p.end(),
      (e: unknown) => e === boom,
    );
  });
});
