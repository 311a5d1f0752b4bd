// Per thread × server idle lists (HAProxy's per_thr[tid].idle_conns / safe_conns): IDLE holds
// connections not proven on this thread yet, SAFE connections that already served a request.
// Index-linked through the slots' PREV/NEXT words, doubly linked so a wake-up removes its
// connection in O(1), with HEAD, TAIL and COUNT words per list.
//
// Rule 3 (DESIGN §4): every insertion, removal, pop and walk happens under the lock of the thread
// that owns the list — the owner itself, a thief (takeover), or the main thread (try-lock). Each
// mutation asserts it (heldByMe: one Atomics.load). count() alone may be read without the lock,
// as a hint (HAProxy's curr_idle_thr): a thief skips empty threads without touching their lock.
//
// Order: insert() pushes at the HEAD and popHead() takes the HEAD, so reuse is LIFO — the most
// recently used connection goes out first. Its php-fpm child is warm (opcache, CPU caches) and
// the cold connections sink to the TAIL, age there and are the ones purge closes (peekTail,
// popTail). A FIFO would keep every connection lukewarm and none old enough to purge, so the
// pool would never shrink after a burst.

import { ShmError, ShmErrorCode } from '../errors.ts';
import type { TakeoverLocks } from './lock.ts';
import { ListKind, ListWord, SlotWord, TaskletCtx, USR1 } from './offsets.ts';
import type { SharedState } from './shared-state.ts';

export class IdleLists {
  private readonly i32: Int32Array;
  private readonly locks: TakeoverLocks;
  private readonly checks: boolean;
  private readonly threads: number;
  private readonly maxServers: number;
  private readonly maxSlots: number;
  private readonly listBase: number;
  private readonly listThreadStride: number;
  private readonly listServerStride: number;
  private readonly slotBase: number;
  private readonly slotStride: number;

  /**
   * `locks` are the calling thread's (its `self` is who must hold the list's lock). `checks:
   * false` drops the lock and slot-state assertions (benchmarks only).
   */
  constructor(state: SharedState, locks: TakeoverLocks, checks = true) {
    const L = state.layout;
    this.i32 = state.i32;
    this.locks = locks;
    this.checks = checks;
    this.threads = state.cfg.threads;
    this.maxServers = state.cfg.maxServers;
    this.maxSlots = state.cfg.maxSlots;
    this.listBase = L.listBase;
    this.listThreadStride = L.listThreadStride;
    this.listServerStride = L.listServerStride;
    this.slotBase = L.slotBase;
    this.slotStride = L.slotStride;
  }

  /**
   * The connection in `slot` goes idle on `thread` (its owner): pushed at the head of `kind`.
   * USR1 must already be set (the patch's order: a listed tasklet always has USR1).
   */
  insert(thread: number, server: number, slot: number, kind: number, nowMs: number): void {
    const h = this.head(thread, server, kind);
    this.assertLocked(thread);
    const b = this.slotAt(slot);
    if (this.checks) this.assertInsertable(thread, server, slot, b);
    const first = Atomics.load(this.i32, h + ListWord.HEAD);
    Atomics.store(this.i32, b + SlotWord.PREV, -1);
    Atomics.store(this.i32, b + SlotWord.NEXT, first);
    if (first >= 0) Atomics.store(this.i32, this.slotBase + first * this.slotStride + SlotWord.PREV, slot);
    else Atomics.store(this.i32, h + ListWord.TAIL, slot);
    Atomics.store(this.i32, h + ListWord.HEAD, slot);
    Atomics.add(this.i32, h + ListWord.COUNT, 1);
    Atomics.store(this.i32, b + SlotWord.IDLE_SINCE, nowMs);
    Atomics.store(this.i32, b + SlotWord.LIST, kind);
  }

  /**
   * Takes `slot` out of whatever list it is in (O(1)); returns that ListKind, or NONE when it
   * was in none (attached, stolen, or free). Needs the lock of the slot's owner.
   */
  remove(slot: number): number {
    const b = this.slotAt(slot);
    const owner = Atomics.load(this.i32, b + SlotWord.OWNER);
    if (owner < 0) return ListKind.NONE;
    this.assertLocked(owner);
    const kind = Atomics.load(this.i32, b + SlotWord.LIST);
    if (kind === ListKind.NONE) return ListKind.NONE;
    this.unlink(this.head(owner, Atomics.load(this.i32, b + SlotWord.SERVER), kind), b);
    return kind;
  }

  /** Most recently idle connection of the list (reuse: LIFO), removed; -1 when empty. */
  popHead(thread: number, server: number, kind: number): number {
    const h = this.head(thread, server, kind);
    this.assertLocked(thread);
    const slot = Atomics.load(this.i32, h + ListWord.HEAD);
    if (slot >= 0) this.unlink(h, this.slotAt(slot));
    return slot;
  }

  /** Longest idle connection of the list (purge), removed; -1 when empty. */
  popTail(thread: number, server: number, kind: number): number {
    const h = this.head(thread, server, kind);
    this.assertLocked(thread);
    const slot = Atomics.load(this.i32, h + ListWord.TAIL);
    if (slot >= 0) this.unlink(h, this.slotAt(slot));
    return slot;
  }

  /** Longest idle connection of the list, left in place; -1 when empty. */
  peekTail(thread: number, server: number, kind: number): number {
    const h = this.head(thread, server, kind);
    this.assertLocked(thread);
    return Atomics.load(this.i32, h + ListWord.TAIL);
  }

  /** Connections in the list. Lock-free reads are allowed as a hint (may be stale). */
  count(thread: number, server: number, kind: number): number {
    return Atomics.load(this.i32, this.head(thread, server, kind) + ListWord.COUNT);
  }

  /**
   * Walks the list from the most to the least recently idle; `fn` returning false stops the walk.
   * `fn` may remove the slot it is given (the next link is read before the call), nothing else.
   */
  forEach(thread: number, server: number, kind: number, fn: (slot: number) => boolean | undefined): void {
    const h = this.head(thread, server, kind);
    this.assertLocked(thread);
    let slot = Atomics.load(this.i32, h + ListWord.HEAD);
    for (let steps = 0; slot >= 0; steps++) {
      if (steps > this.maxSlots) {
        throw new ShmError(
          ShmErrorCode.BAD_SLOT_STATE,
          `idle list of thread ${thread} server ${server} loops`,
        );
      }
      const next = Atomics.load(this.i32, this.slotAt(slot) + SlotWord.NEXT);
      if (fn(slot) === false) return;
      slot = next;
    }
  }

  private unlink(h: number, b: number): void {
    const prev = Atomics.load(this.i32, b + SlotWord.PREV);
    const next = Atomics.load(this.i32, b + SlotWord.NEXT);
    if (prev >= 0) Atomics.store(this.i32, this.slotBase + prev * this.slotStride + SlotWord.NEXT, next);
    else Atomics.store(this.i32, h + ListWord.HEAD, next);
    if (next >= 0) Atomics.store(this.i32, this.slotBase + next * this.slotStride + SlotWord.PREV, prev);
    else Atomics.store(this.i32, h + ListWord.TAIL, prev);
    Atomics.sub(this.i32, h + ListWord.COUNT, 1);
    Atomics.store(this.i32, b + SlotWord.PREV, -1);
    Atomics.store(this.i32, b + SlotWord.NEXT, -1);
    Atomics.store(this.i32, b + SlotWord.LIST, ListKind.NONE);
  }

  /** First word of the (thread, server, kind) list block. */
  private head(thread: number, server: number, kind: number): number {
    if (thread >>> 0 >= this.threads || server >>> 0 >= this.maxServers) {
      throw new RangeError(`no idle list for thread ${thread} server ${server}`);
    }
    if (kind !== ListKind.IDLE && kind !== ListKind.SAFE)
      throw new RangeError(`no idle list of kind ${kind}`);
    return (
      this.listBase +
      thread * this.listThreadStride +
      server * this.listServerStride +
      (kind - 1) * ListWord.KIND_STRIDE
    );
  }

  private slotAt(slot: number): number {
    if (slot >>> 0 >= this.maxSlots) throw new RangeError(`no connection slot ${slot}`);
    return this.slotBase + slot * this.slotStride;
  }

  private assertLocked(thread: number): void {
    if (this.checks && !this.locks.heldByMe(thread)) {
      throw new ShmError(
        ShmErrorCode.LOCK_NOT_HELD,
        `thread ${this.locks.self} edits thread ${thread}'s idle lists without its lock (holder ${this.locks.holder(thread)})`,
      );
    }
  }

  /** The invariants of a listed connection, checked before they become true by insertion. */
  private assertInsertable(thread: number, server: number, slot: number, b: number): void {
    const i32 = this.i32;
    let why = '';
    if (Atomics.load(i32, b + SlotWord.LIST) !== ListKind.NONE) why = 'it is already in a list';
    else if (Atomics.load(i32, b + SlotWord.OWNER) !== thread) why = `its owner is ${this.ownerOf(b)}`;
    else if (Atomics.load(i32, b + SlotWord.CTX) !== TaskletCtx.VALID) why = 'it was stolen';
    else if ((Atomics.load(i32, b + SlotWord.STATE) & USR1) === 0) why = 'USR1 is not set (set it first)';
    else if (Atomics.load(i32, b + SlotWord.SERVER) !== server) why = 'it belongs to another server';
    if (why !== '') {
      throw new ShmError(
        ShmErrorCode.BAD_SLOT_STATE,
        `slot ${slot} cannot go into thread ${thread}'s idle list of server ${server}: ${why}`,
      );
    }
  }

  private ownerOf(b: number): number {
    return Atomics.load(this.i32, b + SlotWord.OWNER);
  }
}
