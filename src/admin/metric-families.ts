// Metric families whose values are read from one shared-memory snapshot per scrape (prom-client
// collect(), DESIGN §3: metrics cost no messages). A scrape runs every family's collect() in one
// synchronous pass (Registry.metrics() maps over the metrics and each get() calls collect() before
// its first await), so the snapshot is taken by the first family and dropped in a microtask: all
// families of one scrape see the same instant, the next scrape takes a fresh one.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { HistogramSnapshot, ShmSnapshot, StatsReader } from '../shm/stats-reader.ts';

/** The snapshot of the scrape in progress. */
export class ScrapeSnapshot {
  readonly #reader: StatsReader;
  #current: ShmSnapshot | null = null;

  constructor(reader: StatsReader) {
    this.#reader = reader;
  }

  get(): ShmSnapshot {
    if (this.#current === null) {
      this.#current = this.#reader.snapshot();
      queueMicrotask(() => {
        this.#current = null;
      });
    }
    return this.#current;
  }
}

type Labels<L extends string> = Record<L, string>;
/** Fills one family from the snapshot: `put(labels, value)` once per series. */
export type Fill<L extends string> = (
  put: (labels: Labels<L>, value: number) => void,
  snap: ShmSnapshot,
) => void;
/** One histogram series per labels. */
export type HistogramFill<L extends string> = (
  put: (labels: Labels<L>, hist: HistogramSnapshot) => void,
  snap: ShmSnapshot,
) => void;

/**
 * A histogram whose buckets are kept elsewhere (shared memory) and only exposed here: prom-client's
 * own Histogram can only observe(), so get() is replaced by a read of the snapshot.
 */
class SnapshotHistogram<L extends string> extends Histogram<L> {
  readonly #name: string;
  readonly #help: string;
  readonly #scrape: ScrapeSnapshot;
  readonly #fill: HistogramFill<L>;

  constructor(
    config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] },
    scrape: ScrapeSnapshot,
    fill: HistogramFill<L>,
  ) {
    super({ ...config, buckets: [] });
    this.#name = config.name;
    this.#help = config.help;
    this.#scrape = scrape;
    this.#fill = fill;
  }

  // The registry prefers getForPromString() when a metric has one (prom-client's Histogram does).
  getForPromString(): ReturnType<Histogram<L>['get']> {
    return this.get();
  }

  override async get(): ReturnType<Histogram<L>['get']> {
    const name = this.#name;
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    this.#fill((labels, h) => {
      h.bounds.forEach((le, i) => {
        values.push({ labels: { ...labels, le }, value: h.buckets[i], metricName: `${name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: h.count, metricName: `${name}_bucket` });
      values.push({ labels, value: h.sumSeconds, metricName: `${name}_sum` });
      values.push({ labels, value: h.count, metricName: `${name}_count` });
    }, this.#scrape.get());
    // prom-client's typings say `type: MetricType` (an enum) where the registry writes the string
    const out: unknown = { name, help: this.#help, type: 'histogram', values, aggregator: 'sum' };
    return out as Awaited<ReturnType<Histogram<L>['get']>>;
  }
}

/** Registers families on one registry, all reading the same per-scrape snapshot. */
export class Families {
  readonly registry: Registry;
  readonly scrape: ScrapeSnapshot;

  constructor(registry: Registry, scrape: ScrapeSnapshot) {
    this.registry = registry;
    this.scrape = scrape;
  }

  /**
   * A counter that mirrors totals kept in shared memory: each scrape resets it and sets every
   * series to its current total (never lower than before: the reader extends 32-bit words).
   */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[], fill: Fill<L>): void {
    const scrape = this.scrape;
    const metric: Counter<L> = new Counter<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        metric.reset();
        fill((labels, value) => metric.inc(labels, value), scrape.get());
      },
    });
  }

  /** A gauge set from the snapshot; series of servers that are gone disappear with the reset. */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], fill: Fill<L>): void {
    const scrape = this.scrape;
    const metric: Gauge<L> = new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        metric.reset();
        fill((labels, value) => metric.set(labels, value), scrape.get());
      },
    });
  }

  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: HistogramFill<L>,
  ): void {
    new SnapshotHistogram<L>({ name, help, labelNames, registers: [this.registry] }, this.scrape, fill);
  }
}
