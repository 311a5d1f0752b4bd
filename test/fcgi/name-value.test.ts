import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FcgiProtocolError, ProtocolErrorCode } from '../../src/errors.ts';
import { MAX_NV_PAIR_LENGTH, MAX_RECORD_BODY, RecordType } from '../../src/fcgi/constants.ts';
import {
  decodeNameValuePairs,
  encodeGetValues,
  encodeNameValuePair,
  encodeNameValuePairs,
  encodeParams,
  packNameValuePairs,
} from '../../src/fcgi/name-value.ts';
import { ParamsWriter, PreEncodedParams, requestHeadFromRecords } from '../../src/fcgi/params-writer.ts';
import { RecordParser } from '../../src/fcgi/parser.ts';
import { decodeBeginRequest } from '../../src/fcgi/records.ts';
import { nvStringArb, pairArb } from './fcgi-arbitraries.ts';

const isCode = (code: string) => (err: unknown) => err instanceof FcgiProtocolError && err.code === code;

interface Rec {
  type: number;
  requestId: number;
  content: Buffer;
}

function records(buf: Buffer): Rec[] {
  const out: Rec[] = [];
  const p = new RecordParser((type, requestId, content) => out.push({ type, requestId, content }));
  p.push(buf);
  p.end();
  return out;
}

/** Decodes PARAMS records the way php-fpm does: each record on its own. */
function paramsOf(recs: Rec[], requestId: number): Array<[string, string]> {
  const params = recs.filter((r) => r.type === RecordType.PARAMS);
  assert.ok(params.length >= 1);
  const last = params[params.length - 1];
  assert.equal(last.content.length, 0, 'ends with the empty PARAMS record');
  assert.ok(
    params.slice(0, -1).every((r) => r.content.length > 0),
    'no empty record before the end',
  );
  for (const r of params) {
    assert.equal(r.requestId, requestId);
    assert.ok(r.content.length <= MAX_RECORD_BODY);
  }
  return params.flatMap((r) => decodeNameValuePairs(r.content));
}

/** Pairs big enough to need several PARAMS records. */
const bigPairsArb = fc.array(
  fc.tuple(
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 30 }),
    fc.integer({ min: 0, max: 30_000 }).map((n) => 'v'.repeat(n)),
  ),
  { minLength: 1, maxLength: 10 },
);

describe('name-value pairs', () => {
  it('round-trip with 1- and 4-byte lengths and multi-byte UTF-8', () => {
    fc.assert(
      fc.property(fc.array(pairArb, { maxLength: 20 }), (pairs) => {
        const bodies = encodeNameValuePairs(pairs);
        for (const b of bodies) assert.ok(b.length > 0 && b.length <= MAX_RECORD_BODY);
        assert.deepEqual(
          bodies.flatMap((b) => decodeNameValuePairs(b)),
          pairs,
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('never splits a pair across PARAMS records (each record decodes on its own)', () => {
    let multiRecord = 0;
    fc.assert(
      fc.property(bigPairsArb, fc.integer({ min: 1, max: 0xffff }), (pairs, id) => {
        const bodies = encodeNameValuePairs(pairs);
        if (bodies.length > 1) multiRecord++;
        const perBody = bodies.map((b) => decodeNameValuePairs(b)); // throws if a pair was split
        assert.deepEqual(perBody.flat(), pairs);
        assert.deepEqual(paramsOf(records(encodeParams(id, pairs)), id), pairs);
      }),
      { numRuns: 300 },
    );
    assert.ok(multiRecord > 10, 'the generator exercised multi-record params');
  });

  it('ParamsWriter builds BEGIN_REQUEST + PARAMS + empty PARAMS (+ STDIN) that decode to the same pairs', () => {
    fc.assert(
      fc.property(
        fc.array(pairArb, { maxLength: 12 }),
        fc.array(pairArb, { maxLength: 12 }),
        fc.integer({ min: 1, max: 0xffff }),
        fc.option(fc.uint8Array({ maxLength: 100 })),
        (staticPairs, perRequest, id, stdin) => {
          const pre = new PreEncodedParams(staticPairs);
          const w = new ParamsWriter(64);
          w.addEncoded(pre);
          for (const [n, v] of perRequest) w.add(n, v);
          const recs = records(w.finish(id, 1, 1, stdin));
          assert.equal(recs[0].type, RecordType.BEGIN_REQUEST);
          assert.equal(recs[0].requestId, id);
          assert.deepEqual(decodeBeginRequest(recs[0].content), { role: 1, flags: 1 });
          assert.deepEqual(paramsOf(recs, id), [...staticPairs, ...perRequest]);
          const stdinRecs = recs.filter((r) => r.type === RecordType.STDIN);
          if (stdin === null) assert.equal(stdinRecs.length, 0);
          else {
            assert.equal(stdinRecs[stdinRecs.length - 1].content.length, 0);
            assert.deepEqual(Buffer.concat(stdinRecs.map((r) => r.content)), Buffer.from(stdin));
          }
          // the head built from encodeParams() records says the same thing
          const again = records(
            requestHeadFromRecords(id, 1, 1, encodeParams(7, [...staticPairs, ...perRequest])),
          );
          assert.deepEqual(paramsOf(again, id), [...staticPairs, ...perRequest]);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('ParamsWriter keeps pairs whole across records, from static and per-request params alike', () => {
    fc.assert(
      fc.property(bigPairsArb, bigPairsArb, (staticPairs, perRequest) => {
        const w = new ParamsWriter();
        w.addPairs(perRequest.slice(0, 2));
        w.addEncoded(new PreEncodedParams(staticPairs));
        w.addPairs(perRequest.slice(2));
        const recs = records(w.finish(1, 1, 0));
        assert.deepEqual(paramsOf(recs, 1), [
          ...perRequest.slice(0, 2),
          ...staticPairs,
          ...perRequest.slice(2),
        ]);
      }),
      { numRuns: 200 },
    );
  });

  it('a pair cut anywhere gives BAD_NAME_VALUE', () => {
    fc.assert(
      fc.property(nvStringArb, nvStringArb, fc.nat(), (name, value, cutSeed) => {
        const pair = encodeNameValuePair(name, value);
        const cut = cutSeed % pair.length; // 0 < length, so [0, length)
        if (cut === 0) return; // the empty body is a valid empty list
        assert.throws(
          () => decodeNameValuePairs(pair.subarray(0, cut)),
          isCode(ProtocolErrorCode.BAD_NAME_VALUE),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes decode to pairs or fail with BAD_NAME_VALUE, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
        try {
          decodeNameValuePairs(body);
        } catch (err) {
          assert.ok(isCode(ProtocolErrorCode.BAD_NAME_VALUE)(err), String(err));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('counts lengths in UTF-8 bytes and switches to the 4-byte form above 127', () => {
    assert.deepEqual([...encodeNameValuePair('a', 'é')], [1, 2, 0x61, 0xc3, 0xa9]);
    const long = encodeNameValuePair('x'.repeat(127), 'y'.repeat(128));
    assert.deepEqual([...long.subarray(0, 5)], [127, 0x80, 0, 0, 128]);
    assert.equal(long.length, 1 + 4 + 127 + 128);
    const emoji = encodeNameValuePair('😀'.repeat(32), ''); // 128 bytes, 64 UTF-16 units
    assert.deepEqual([...emoji.subarray(0, 5)], [0x80, 0, 0, 128, 0]);
  });

  it('refuses a pair larger than one record with NAME_VALUE_TOO_LARGE (the gateway answers 431)', () => {
    const fits = 'v'.repeat(MAX_NV_PAIR_LENGTH - 1 - 4 - 4); // 1-byte name length, 4-byte value length, 'HTTP'
    assert.equal(encodeNameValuePair('HTTP', fits).length, MAX_NV_PAIR_LENGTH);
    const huge = `${fits}v`;
    assert.throws(() => encodeNameValuePair('HTTP', huge), isCode(ProtocolErrorCode.NAME_VALUE_TOO_LARGE));
    assert.throws(() => encodeNameValuePairs({ HTTP: huge }), isCode(ProtocolErrorCode.NAME_VALUE_TOO_LARGE));
    assert.throws(() => encodeParams(1, [['HTTP', huge]]), isCode(ProtocolErrorCode.NAME_VALUE_TOO_LARGE));
    assert.throws(() => new ParamsWriter().add('HTTP', huge), isCode(ProtocolErrorCode.NAME_VALUE_TOO_LARGE));
    assert.throws(
      () => new PreEncodedParams([['HTTP', huge]]),
      isCode(ProtocolErrorCode.NAME_VALUE_TOO_LARGE),
    );
    assert.throws(() => packNameValuePairs([Buffer.alloc(MAX_RECORD_BODY + 1)]), FcgiProtocolError);
  });

  it('accepts a plain object and encodes GET_VALUES as one management record', () => {
    assert.deepEqual(
      encodeNameValuePairs({ A: '1', B: '' }).flatMap((b) => decodeNameValuePairs(b)),
      [
        ['A', '1'],
        ['B', ''],
      ],
    );
    const [r] = records(encodeGetValues(['FCGI_MPXS_CONNS']));
    assert.equal(r.type, RecordType.GET_VALUES);
    assert.equal(r.requestId, 0);
    assert.deepEqual(decodeNameValuePairs(r.content), [['FCGI_MPXS_CONNS', '']]);
  });
});
