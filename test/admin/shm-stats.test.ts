// The shared-memory words behind the request, hand-off and event-loop metrics: what a thread
// writes with requestDone / handoffLatency / eventLoopUtilization is what the main thread's
// StatsReader reports at the next scrape, summed over threads, in Prometheus's bucket form.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  computeLayout,
  HistWord,
  LINE_WORDS,
  REQUEST_BUCKETS_S,
  RequestWord,
  SharedState,
  STATUS_CODE_NAMES,
} from '../../src/shm/layout.ts';
import { StatsReader } from '../../src/shm/stats-reader.ts';
import { statusCodeLabel } from '../../src/shm/thread-stats.ts';

describe('request and hand-off statistics in shared memory', () => {
  it('maps every HTTP status to a bounded code label: listed ones as themselves, the rest by class', () => {
    assert.equal(statusCodeLabel(200), '200');
    assert.equal(statusCodeLabel(502), '502');
    assert.equal(statusCodeLabel(418), '4xx');
    assert.equal(statusCodeLabel(103), '1xx');
    assert.equal(statusCodeLabel(299), '2xx');
    assert.equal(statusCodeLabel(599), '5xx');
    assert.equal(statusCodeLabel(0), '5xx', 'no status sent counts as a server-side failure');
    assert.equal(statusCodeLabel(600), '5xx');
    assert.equal(statusCodeLabel(Number.NaN), '5xx');
    const labels = new Set<string>();
    for (let s = -5; s < 1000; s++) labels.add(statusCodeLabel(s));
    assert.ok(labels.size <= STATUS_CODE_NAMES.length, 'no status makes a label outside the set');
  });

  it('keeps the histogram region on whole lines with every 64-bit sum at an even word', () => {
    for (const cfg of [
      { threads: 1, maxServers: 1, maxSlots: 1 },
      { threads: 3, maxServers: 5, maxSlots: 7 },
      { threads: 64, maxServers: 33, maxSlots: 100 },
    ]) {
      const L = computeLayout(cfg);
      assert.equal(L.histBase % LINE_WORDS, 0);
      assert.equal(L.histStride % LINE_WORDS, 0, 'each thread writes its own lines only');
      assert.ok(L.histBase >= L.lockStatsBase + (cfg.threads + 1) * L.lockStatsAcquirerStride);
      assert.ok(L.histBase + (cfg.threads + 1) * L.histStride <= L.listBase);
      assert.equal(RequestWord.SIZE % 2, 0);
      for (let t = 0; t <= cfg.threads; t++) {
        const h = L.histBase + t * L.histStride;
        assert.equal((h + HistWord.HANDOFF_US) % 2, 0);
        for (let s = 0; s < cfg.maxServers; s++) {
          const b = h + HistWord.SERVERS + s * RequestWord.SIZE;
          assert.equal((b + RequestWord.DURATION_US) % 2, 0);
          assert.ok(b + RequestWord.SIZE <= h + L.histStride);
        }
      }
    }
  });

  it('sums requests by code and duration buckets over threads, per server', () => {
    const state = SharedState.create({ threads: 2, maxServers: 3, maxSlots: 4 });
    state.counters.configure(0, 4);
    state.counters.configure(2, 4);
    const reader = new StatsReader(state);
    const before = reader.snapshot().servers.find((s) => s.server === 2)!;
    assert.equal(before.duration.count, 0);
    assert.ok(Object.values(before.requests).every((n) => n === 0));

    state.stats.requestDone(0, 2, 200, 300); // 0.3 ms
    state.stats.requestDone(1, 2, 200, 500); // exactly on the 0.5 ms bound: le="0.0005"
    state.stats.requestDone(1, 2, 418, 2_000_000); // 2 s
    state.stats.requestDone(0, 2, 503, 100_000_000); // 100 s: +Inf only
    state.stats.requestDone(1, 0, 404, 1000);

    const snap = reader.snapshot();
    const srv2 = snap.servers.find((s) => s.server === 2)!;
    const srv0 = snap.servers.find((s) => s.server === 0)!;
    assert.equal(srv2.requests['200'], 2);
    assert.equal(srv2.requests['4xx'], 1);
    assert.equal(srv2.requests['503'], 1);
    assert.equal(srv2.requests['404'], 0, 'the 404 went to server 0');
    assert.equal(srv0.requests['404'], 1);
    const d = srv2.duration;
    assert.deepEqual(d.bounds, REQUEST_BUCKETS_S);
    const le = (bound: number) => d.buckets[REQUEST_BUCKETS_S.indexOf(bound as never)];
    assert.equal(le(0.0005), 2);
    assert.equal(le(1), 2);
    assert.equal(le(2.5), 3);
    assert.equal(le(60), 3);
    assert.equal(d.buckets.at(-1), 4, '+Inf counts them all');
    assert.equal(d.count, 4);
    assert.ok(Math.abs(d.sumSeconds - 102.0008) < 1e-9, `sum ${d.sumSeconds}`);
    for (let i = 1; i < d.buckets.length; i++) assert.ok(d.buckets[i] >= d.buckets[i - 1], 'cumulative');
  });

  it('records hand-off latencies per receiving thread, from 1 ms up, and the event-loop gauge', () => {
    const state = SharedState.create({ threads: 2, maxServers: 1, maxSlots: 4 });
    const reader = new StatsReader(state);
    state.stats.handoffLatency(1, 0); // under a millisecond on the shared clock
    state.stats.handoffLatency(1, 3);
    state.stats.handoffLatency(1, 0.25);
    state.stats.handoffLatency(0, 5000);
    state.stats.eventLoopUtilization(0, 0.25);
    state.stats.eventLoopUtilization(1, 1.5);
    const [t0, t1] = reader.snapshot().threads;
    assert.equal(t1.handoffs, 3);
    assert.equal(t1.handoff.count, 3);
    assert.equal(t1.handoff.buckets[0], 2, 'le="0.001" holds the sub-millisecond ones');
    assert.equal(t1.handoff.buckets[t1.handoff.bounds.indexOf(0.005)], 3);
    assert.ok(Math.abs(t1.handoff.sumSeconds - 0.00325) < 1e-12);
    assert.equal(t0.handoff.count, 1);
    assert.equal(t0.handoff.buckets.at(-2), 0, 'a 5 s hand-off is beyond the last bound');
    assert.equal(t0.handoff.buckets.at(-1), 1);
    assert.equal(t0.eventLoopUtilization, 0.25);
    assert.equal(t1.eventLoopUtilization, 1, 'clamped to a ratio');
  });
});
