// The supervisor's start gate: the workers' HTTP listeners open together, once the slowest worker
// has warmed up. A listener that opened early would get every client of a load generator that
// connects at once (the kernel only spreads connections over the listeners open at that moment).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { FcgiResponder } from '../../src/fcgi/responder.ts';
import { startTestPool } from '../helpers/pool.ts';
import { WARM_MS } from './fixtures/staggered-plane.ts';

const PLANE = new URL('./fixtures/staggered-plane.ts', import.meta.url).href;

test('workers open their listeners together, after the slowest has warmed up; a restarted one at once', async (t) => {
  const responder = new FcgiResponder();
  const { host, port } = await responder.listen(0, '127.0.0.1');
  t.after(() => responder.close());
  const passed = new SharedArrayBuffer(2 * 8);
  const at = new Float64Array(passed);
  const started = Date.now();
  const pool = await startTestPool({
    threads: 2,
    address: { kind: 'tcp', host, port },
    gateway: { module: PLANE, options: { passed } },
  });
  t.after(() => pool.stop(1000));
  assert.ok(at[1] - started >= WARM_MS - 10, `thread 1 waited for thread 0 (${at[1] - started} ms)`);
  assert.ok(Math.abs(at[0] - at[1]) < WARM_MS / 2, `both let through together (${at[0] - at[1]} ms apart)`);

  // a replacement worker does not wait for the others, which are serving already
  const before = at[1];
  const ready = once(pool.supervisor, 'ready');
  await pool.supervisor.kill(1);
  await ready;
  assert.ok(at[1] > before, 'the restarted worker passed its gate');
});
