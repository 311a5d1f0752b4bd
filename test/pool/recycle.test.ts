import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { body, getParams, poolOnPhpFpm, run } from '../helpers/pool.ts';

describe('php-fpm recycling its children (pm.max_requests)', () => {
  it('once the recycle point is seen, no request is sent on a connection about to close', async (t) => {
    const { fpm, pool } = await poolOnPhpFpm(t, { children: 2, maxRequests: 5 }, { maxConnections: 2 });
    const script = `${fpm.docroot}/pid.php`;
    // warm-up with GETs (retried once if they meet a closing connection): the pool learns the point
    for (let i = 0; i < 12; i++) await run(pool, i % 2, getParams('/pid.php', script));
    // POSTs are never retried: each one must land on a connection php-fpm keeps open
    const post = { ...getParams('/pid.php', script), REQUEST_METHOD: 'POST' };
    const failures: string[] = [];
    const pids = new Set<string>();
    await Promise.all(
      [0, 1, 0, 1].map(async (thread) => {
        for (let i = 0; i < 15; i++) {
          try {
            pids.add(body(await run(pool, thread, post)).trim());
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      }),
    );
    assert.deepEqual(failures, [], 'no POST met a connection php-fpm was closing');
    assert.ok(pids.size > 2, `children were recycled under the load (${pids.size} pids)`);
  });
});
