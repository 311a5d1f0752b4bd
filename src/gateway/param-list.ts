// The FastCGI params of one request, ready to encode: the app's static pairs, encoded once per
// app (PreEncodedParams), then the request's own pairs with the UTF-8 sizes the builder already
// measured. Encoding is then a copy and one string write per pair: no pair arrays, and no
// string measured twice (each measuring is a regex test, and the many internal shapes of the
// strings turned the writer's length loads megamorphic; perf, DESIGN.md §8). Encoded again for
// each attempt, so a retry sends the same bytes.

import type { ParamsEncoder } from '../fcgi/connection-types.ts';
import { ParamsWriter, type PreEncodedParams } from '../fcgi/params-writer.ts';

/** Room beyond the pairs for the writer's record headers and padding (8 + 7 per record). */
const RECORD_SLACK = 64;

export class ParamList implements ParamsEncoder {
  readonly #statics: PreEncodedParams;
  readonly #staticPairs: ReadonlyArray<readonly [string, string]>;
  /** The request's own pairs; names are ASCII (generated, or HTTP_ from a header token). */
  readonly #names: string[] = [];
  readonly #values: string[] = [];
  readonly #valueBytes: number[] = [];
  /** Encoded size of every pair, the static ones included. */
  bytes: number;

  constructor(statics: PreEncodedParams, staticPairs: ReadonlyArray<readonly [string, string]>) {
    this.#statics = statics;
    this.#staticPairs = staticPairs;
    this.bytes = statics.bytes.length;
  }

  /** Adds a pair, `valueBytes` long in UTF-8; returns its index among the request's own. */
  push(name: string, value: string, valueBytes: number): number {
    this.#names.push(name);
    this.#values.push(value);
    return this.#valueBytes.push(valueBytes) - 1;
  }

  value(index: number): string {
    return this.#values[index];
  }

  valueBytes(index: number): number {
    return this.#valueBytes[index];
  }

  /** Replaces the value of the request's own pair `index` (the caller keeps `bytes` right). */
  set(index: number, value: string, valueBytes: number): void {
    this.#values[index] = value;
    this.#valueBytes[index] = valueBytes;
  }

  /** Number of the request's own pairs (the next push's index). */
  get length(): number {
    return this.#names.length;
  }

  encode(): ParamsWriter {
    const w = new ParamsWriter(this.bytes + RECORD_SLACK);
    w.addEncoded(this.#statics);
    const names = this.#names;
    const values = this.#values;
    const sizes = this.#valueBytes;
    for (let i = 0; i < names.length; i++) w.addSized(names[i], names[i].length, values[i], sizes[i]);
    return w;
  }

  /** Every pair in the order sent, static ones first (for tests and diagnostics). */
  pairs(): Array<[string, string]> {
    const out: Array<[string, string]> = this.#staticPairs.map(([n, v]) => [n, v]);
    for (let i = 0; i < this.#names.length; i++) out.push([this.#names[i], this.#values[i]]);
    return out;
  }
}
