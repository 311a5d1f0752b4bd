import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ShmErrorCode } from '../../src/errors.ts';
import { checkInvariants } from '../../src/shm/invariants.ts';
import { ListKind, LockSite, SharedState } from '../../src/shm/layout.ts';

const THREADS = 2;
const SERVERS = 2;
const SLOTS = 12;

type Op =
  | { op: 'insert'; pick: number; kind: number }
  | { op: 'remove'; pick: number }
  | { op: 'popHead' | 'popTail'; list: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), pick: fc.nat(SLOTS - 1), kind: fc.constantFrom(1, 2) }),
  fc.record({ op: fc.constant('remove' as const), pick: fc.nat(SLOTS - 1) }),
  fc.record({
    op: fc.constantFrom('popHead' as const, 'popTail' as const),
    list: fc.nat(THREADS * SERVERS * 2 - 1),
  }),
);

/** Runs `fn` holding `thread`'s lock, as the main thread may (try-lock only). */
function underLock<T>(state: SharedState, thread: number, fn: () => T): T {
  assert.ok(state.lock.tryLock(thread, LockSite.control));
  try {
    return fn();
  } finally {
    state.lock.unlock(thread);
  }
}

describe('idle lists', () => {
  it('random insert/remove/pop sequences agree with a model, links and counters consistent', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const state = SharedState.create({ threads: THREADS, maxServers: SERVERS, maxSlots: SLOTS });
        for (let s = 0; s < SERVERS; s++) state.counters.configure(s, SLOTS);
        // every slot allocated, spread over the threads and servers
        const where: Array<{ thread: number; server: number }> = [];
        for (let i = 0; i < SLOTS; i++) {
          const thread = i % THREADS;
          const server = (i >> 1) % SERVERS;
          assert.ok(state.counters.tryReserve(server));
          const slot = state.slots.allocSlot(thread, server);
          state.slots.setUsr1(slot);
          where[slot] = { thread, server };
        }
        // the model: per (thread, server, kind) the slots from head (most recent) to tail
        const model = new Map<string, number[]>();
        const key = (t: number, s: number, k: number) => `${t}/${s}/${k}`;
        const listOf = (n: number) => ({ t: n % THREADS, s: (n >> 1) % SERVERS, k: (n >> 2) + 1 });
        const modelList = (t: number, s: number, k: number) => {
          const k2 = key(t, s, k);
          if (!model.has(k2)) model.set(k2, []);
          return model.get(k2)!;
        };
        const kindOf = (slot: number): number => {
          for (const k of [ListKind.IDLE, ListKind.SAFE]) {
            if (modelList(where[slot].thread, where[slot].server, k).includes(slot)) return k;
          }
          return ListKind.NONE;
        };
        let now = 1;
        for (const o of ops) {
          if (o.op === 'insert') {
            const { thread, server } = where[o.pick];
            if (kindOf(o.pick) !== ListKind.NONE) {
              underLock(state, thread, () =>
                assert.throws(() => state.lists.insert(thread, server, o.pick, o.kind, now), {
                  code: ShmErrorCode.BAD_SLOT_STATE,
                }),
              );
              continue;
            }
            underLock(state, thread, () => state.lists.insert(thread, server, o.pick, o.kind, ++now));
            modelList(thread, server, o.kind).unshift(o.pick);
            assert.equal(state.slots.idleSince(o.pick), now);
          } else if (o.op === 'remove') {
            const expected = kindOf(o.pick);
            const got = underLock(state, where[o.pick].thread, () => state.lists.remove(o.pick));
            assert.equal(got, expected);
            if (expected !== ListKind.NONE) {
              const m = modelList(where[o.pick].thread, where[o.pick].server, expected);
              m.splice(m.indexOf(o.pick), 1);
            }
          } else {
            const { t, s, k } = listOf(o.list);
            const m = modelList(t, s, k);
            const got = underLock(state, t, () =>
              o.op === 'popHead' ? state.lists.popHead(t, s, k) : state.lists.popTail(t, s, k),
            );
            const want = m.length === 0 ? -1 : o.op === 'popHead' ? m.shift()! : m.pop()!;
            assert.equal(got, want);
          }
          for (let n = 0; n < THREADS * SERVERS * 2; n++) {
            const { t, s, k } = listOf(n);
            const walked: number[] = [];
            underLock(state, t, () => state.lists.forEach(t, s, k, (slot) => void walked.push(slot)));
            assert.deepEqual(walked, modelList(t, s, k));
            assert.equal(state.lists.count(t, s, k), walked.length);
          }
          assert.deepEqual(checkInvariants(state), []);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('pops the most recently idle connection for reuse and leaves the oldest for purge', () => {
    const state = SharedState.create({ threads: 1, maxServers: 1, maxSlots: 3 });
    state.counters.configure(0, 3);
    const slots = [0, 1, 2].map(() => {
      state.counters.tryReserve(0);
      const s = state.slots.allocSlot(0, 0);
      state.slots.setUsr1(s);
      return s;
    });
    underLock(state, 0, () => {
      slots.forEach((s, i) => {
        state.lists.insert(0, 0, s, ListKind.SAFE, 100 + i);
      });
      assert.equal(state.lists.peekTail(0, 0, ListKind.SAFE), slots[0]);
      assert.equal(state.lists.popHead(0, 0, ListKind.SAFE), slots[2], 'the warmest connection is reused');
      assert.equal(state.lists.popTail(0, 0, ListKind.SAFE), slots[0], 'the coldest one is purged');
      assert.equal(state.lists.count(0, 0, ListKind.SAFE), 1);
    });
  });

  it('a walk can stop early and may remove the connection it visits', () => {
    const state = SharedState.create({ threads: 1, maxServers: 1, maxSlots: 4 });
    state.counters.configure(0, 4);
    underLock(state, 0, () => {
      for (let i = 0; i < 4; i++) {
        state.counters.tryReserve(0);
        const s = state.slots.allocSlot(0, 0);
        state.slots.setUsr1(s);
        state.lists.insert(0, 0, s, ListKind.IDLE, i + 1);
      }
      const seen: number[] = [];
      state.lists.forEach(0, 0, ListKind.IDLE, (slot) => {
        seen.push(slot);
        state.lists.remove(slot);
        return seen.length < 3;
      });
      assert.deepEqual(seen, [3, 2, 1]);
      assert.equal(state.lists.count(0, 0, ListKind.IDLE), 1);
    });
    assert.deepEqual(checkInvariants(state), []);
  });
});
