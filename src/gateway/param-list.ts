// The FastCGI params of one request, ready to encode: the app's static pairs, encoded once per
// app (StaticParams), then the request's own pairs with the UTF-8 sizes the builder measured.
// The list keeps its encoded size and its largest pair as pairs are added or changed, for the
// builder's 431 checks. Encoding is then a copy and one string write per pair: no pair arrays,
// and no string measured twice (each measuring is a regex test, and the many internal shapes of
// the strings turned the writer's length loads megamorphic; perf, DESIGN.md §8). Encoded again
// for each attempt, so a retry sends the same bytes.

import type { ParamsEncoder } from '../fcgi/connection-types.ts';
import { MAX_NV_PAIR_LENGTH } from '../fcgi/constants.ts';
import { pairSize, utf8Length } from '../fcgi/name-value.ts';
import { ParamsWriter, PreEncodedParams } from '../fcgi/params-writer.ts';

/** Room beyond the pairs for the writer's record headers and padding (8 + 7 per record). */
const RECORD_SLACK = 64;

/** An app's params that are the same for every request: encoded once, with their sizes. */
export class StaticParams {
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  readonly encoded: PreEncodedParams;
  /** Encoded size of the pairs, and of the largest one. */
  readonly bytes: number;
  readonly largest: number;

  constructor(pairs: ReadonlyArray<readonly [string, string]>) {
    let bytes = 0;
    let largest = 0;
    for (const [name, value] of pairs) {
      const size = pairSize(utf8Length(name), utf8Length(value));
      bytes += size;
      largest = Math.max(largest, size);
    }
    this.pairs = pairs;
    this.bytes = bytes;
    this.largest = largest;
    // a pair too large for any record makes every request a 431, before any encoding
    this.encoded = new PreEncodedParams(largest > MAX_NV_PAIR_LENGTH ? [] : pairs);
  }
}

export class ParamList implements ParamsEncoder {
  readonly #statics: StaticParams;
  /** The request's own pairs; names are ASCII (generated, or HTTP_ from a header token). */
  readonly #names: string[] = [];
  readonly #values: string[] = [];
  readonly #valueBytes: number[] = [];
  /** Encoded size of every pair, the static ones included, and of the largest pair. */
  bytes: number;
  largest: number;

  constructor(statics: StaticParams) {
    this.#statics = statics;
    this.bytes = statics.bytes;
    this.largest = statics.largest;
  }

  /** Adds a pair, `valueBytes` long in UTF-8; returns its index among the request's own. */
  push(name: string, value: string, valueBytes: number): number {
    this.#names.push(name);
    this.#values.push(value);
    this.#grow(pairSize(name.length, valueBytes));
    return this.#valueBytes.push(valueBytes) - 1;
  }

  value(index: number): string {
    return this.#values[index];
  }

  valueBytes(index: number): number {
    return this.#valueBytes[index];
  }

  /** Replaces the value of the request's own pair `index`. */
  set(index: number, value: string, valueBytes: number): void {
    const nameBytes = this.#names[index].length;
    this.bytes -= pairSize(nameBytes, this.#valueBytes[index]);
    this.#values[index] = value;
    this.#valueBytes[index] = valueBytes;
    this.#grow(pairSize(nameBytes, valueBytes));
  }

  /** Number of the request's own pairs (the next push's index). */
  get length(): number {
    return this.#names.length;
  }

  encode(): ParamsWriter {
    const w = new ParamsWriter(this.bytes + RECORD_SLACK);
    w.addEncoded(this.#statics.encoded);
    const names = this.#names;
    const values = this.#values;
    const sizes = this.#valueBytes;
    for (let i = 0; i < names.length; i++) w.addSized(names[i], names[i].length, values[i], sizes[i]);
    return w;
  }

  /** Every pair in the order sent, static ones first (for tests and diagnostics). */
  pairs(): Array<[string, string]> {
    const out: Array<[string, string]> = this.#statics.pairs.map(([n, v]) => [n, v]);
    for (let i = 0; i < this.#names.length; i++) out.push([this.#names[i], this.#values[i]]);
    return out;
  }

  #grow(size: number): void {
    this.bytes += size;
    if (size > this.largest) this.largest = size;
  }
}
