// fast-check arbitraries shared by the FastCGI codec property tests.
import fc from 'fast-check';
import { MAX_RECORD_BODY, RecordType } from '../../src/fcgi/constants.ts';

export interface RawRecord {
  type: number;
  requestId: number;
  content: Uint8Array;
}

const FIXED_TYPES = new Set<number>([
  RecordType.BEGIN_REQUEST,
  RecordType.END_REQUEST,
  RecordType.UNKNOWN_TYPE,
  RecordType.ABORT_REQUEST,
]);

/** Record bodies: mostly small, sometimes near or at the largest record body. */
export const bodyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 65, maxLength: 2048 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: MAX_RECORD_BODY - 16, max: MAX_RECORD_BODY }), fc.integer())
      .map(([n, seed]) => patterned(n, seed)),
  },
);

/** `n` pseudo-random bytes from `seed`: large bodies without generating each byte in fast-check. */
export function patterned(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Any record the parser must accept: raw types 0..255, fixed-size types with a legal size. */
export const recordArb: fc.Arbitrary<RawRecord> = fc
  .record({ type: fc.integer({ min: 0, max: 255 }), requestId: fc.integer({ min: 0, max: 0xffff }) })
  .chain(({ type, requestId }) => {
    const content =
      type === RecordType.ABORT_REQUEST
        ? fc.constant(new Uint8Array(0))
        : FIXED_TYPES.has(type)
          ? fc.uint8Array({ minLength: 8, maxLength: 8 })
          : bodyArb;
    return content.map((c) => ({ type, requestId, content: c }));
  });

/**
 * One code point of 1, 2, 3 or 4 UTF-8 bytes, never a lone surrogate. (fast-check's own
 * 'binary' unit costs two seconds to build, longer than all our properties take to run.)
 */
const codePointArb: fc.Arbitrary<string> = fc
  .oneof(
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0x7ff }),
    fc.integer({ min: 0x800, max: 0xffff }).filter((c) => c < 0xd800 || c > 0xdfff),
    fc.integer({ min: 0x10000, max: 0x10ffff }),
  )
  .map((c) => String.fromCodePoint(c));

/** Strings of any Unicode code point (no lone surrogates), sometimes longer than 127 bytes. */
export const nvStringArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: codePointArb, maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 120, maxLength: 300 }) },
  { weight: 1, arbitrary: fc.string({ unit: codePointArb, minLength: 40, maxLength: 200 }) },
);

export const pairArb: fc.Arbitrary<[string, string]> = fc.tuple(nvStringArb, nvStringArb);

/** Sorted cut points inside [1, len-1] that split a stream into chunks. */
export function cutsArb(len: number): fc.Arbitrary<number[]> {
  if (len < 2) return fc.constant([]);
  return fc
    .uniqueArray(fc.integer({ min: 1, max: len - 1 }), { maxLength: Math.min(32, len - 1) })
    .map((a) => a.sort((x, y) => x - y));
}

export function splitAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (const c of cuts) {
    out.push(buf.subarray(start, c));
    start = c;
  }
  out.push(buf.subarray(start));
  return out;
}
