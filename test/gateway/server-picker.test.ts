// The server choice of the gateway, on a stand-in PoolThread (only the fields the picker reads).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DOWN_MS, ServerPicker } from '../../src/gateway/server-picker.ts';
import type { PoolThread } from '../../src/pool/pool-thread.ts';
import { ServerState } from '../../src/shm/server-counters.ts';

function threadWith(states: number[]): PoolThread {
  return {
    servers: states.map(() => ({})),
    shm: { counters: { state: (s: number) => states[s] } },
  } as unknown as PoolThread;
}

test('the server with the fewest outstanding requests is picked', () => {
  const picker = new ServerPicker(
    threadWith([ServerState.READY, ServerState.READY, ServerState.READY]),
    [0, 1, 2],
  );
  picker.begin(0);
  picker.begin(0);
  picker.begin(2);
  assert.equal(picker.pick(), 1);
  picker.begin(1);
  picker.begin(1);
  assert.equal(picker.pick(), 2);
});

test('a server that failed to connect is skipped, then tried again after DOWN_MS', (t) => {
  t.mock.timers.enable({ apis: ['Date'] });
  const picker = new ServerPicker(threadWith([ServerState.READY, ServerState.READY]), [0, 1]);
  picker.begin(0);
  picker.end(0, false);
  for (let i = 0; i < 4; i++) assert.equal(picker.pick(), 1);
  t.mock.timers.tick(DOWN_MS + 1);
  const picks = new Set(Array.from({ length: 4 }, () => picker.pick()));
  assert.ok(picks.has(0), 'probed again by real traffic');
});

test('excluded and draining servers are never picked; with every server down one is tried anyway', () => {
  const picker = new ServerPicker(
    threadWith([ServerState.READY, ServerState.DRAIN, ServerState.READY]),
    [0, 1, 2],
  );
  for (let i = 0; i < 4; i++) assert.notEqual(picker.pick(), 1);
  assert.equal(picker.pick([0]), 2);
  assert.equal(picker.pick([0, 2]), -1);
  picker.begin(0);
  picker.end(0, false);
  picker.begin(2);
  picker.end(2, false);
  assert.ok([0, 2].includes(picker.pick()));
});

test('without a fixed list, a server added at run time takes traffic', () => {
  const pt = threadWith([ServerState.READY]);
  const picker = new ServerPicker(pt);
  assert.equal(picker.pick(), 0);
  (pt.servers as unknown[])[3] = {};
  (pt.shm.counters as unknown as { state: (s: number) => number }).state = () => ServerState.READY;
  picker.begin(0);
  assert.equal(picker.pick(), 3, 'the new server, with nothing outstanding');
});
