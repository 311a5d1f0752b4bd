import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SharedState } from '../../src/shm/layout.ts';

describe('published waiters', () => {
  it('a thread whose connection goes idle finds the thread whose request waited longest', () => {
    const state = SharedState.create({ threads: 64, maxServers: 2, maxSlots: 1 });
    const { waits } = state;
    const now = 10_000;
    assert.equal(waits.anyWaiting(0), false);
    assert.equal(waits.oldestWaiter(0), -1);
    waits.publish(3, 0, 2, now - 40);
    waits.publish(40, 0, 1, now - 90); // bit 8 of the second bitmap word
    waits.publish(63, 0, 5, now - 10);
    waits.publish(5, 1, 1, now - 500); // another server: does not count
    assert.equal(waits.anyWaiting(0), true);
    assert.equal(waits.oldestWaiter(0), 40);
    assert.equal(waits.oldestWaiter(0, 40), 3, 'a thread does not push to itself');
    assert.equal(waits.oldestWaiter(0, -1, now - 50), 40, 'only waiters past the starvation bound');
    assert.equal(waits.oldestWaiter(0, 40, now - 50), -1);
    assert.equal(waits.queueLength(63, 0), 5);

    waits.publish(40, 0, 0, 0);
    assert.equal(waits.isWaiting(40, 0), false, 'an empty queue clears the bit');
    assert.equal(waits.oldestSince(40, 0), 0);
    assert.equal(waits.oldestWaiter(0), 3);
    waits.publish(3, 0, 0, 0);
    waits.publish(63, 0, 0, 0);
    assert.equal(waits.anyWaiting(0), false);
    assert.equal(waits.anyWaiting(1, 5), false, 'the only waiter of server 1 is the asking thread');
    assert.equal(waits.anyWaiting(1), true);
  });

  it('compares waiting times across the wrap of the shared clock', () => {
    const state = SharedState.create({ threads: 2, maxServers: 1, maxSlots: 1 });
    state.waits.publish(0, 0, 1, 0x7fff_fff0); // just before the wrap
    state.waits.publish(1, 0, 1, (0x7fff_fff0 + 0x20) | 0); // 32 ms later, after the wrap
    assert.equal(state.waits.oldestWaiter(0), 0);
  });
});
