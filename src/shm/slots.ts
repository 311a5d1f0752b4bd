// Connection slots: one per backend connection, keyed by index, holding what other threads,
// the control plane and the metrics need to see of it — above all the owner tasklet's state word
// with USR1 and its context (valid, or claimed by a thief).
//
// Who writes what (DESIGN §4):
// - USR1 (STATE): only the thread that holds the connection's handle (rule 1): set on detach
//   before the idle-list insertion, cleared on attach; a thief never touches it.
// - CTX/THIEF: markStolen() by the thief under the owner's lock (rule 3), or by the owner itself
//   for a push of a connection that is in no list; adopt() by the thief once the handle arrived.
// - OWNER: a CAS decides every change of hands (alloc FREE→owner, adopt victim→thief, free
//   owner→FREEING mark→FREE), so when a thief adopts while the supervisor reclaims, or two parties
//   free the same slot, exactly one wins.
// - GEN: bumped on alloc, adopt and free; a wake message or a stale tasklet naming an old
//   generation is ignored (rule 2), and a slot reused since cannot be mistaken for the old one.

import { ShmError, ShmErrorCode } from '../errors.ts';
import { FREE, FREEING, ListKind, SlotWord, TaskletCtx, ThreadWord, USR1 } from './offsets.ts';
import type { ServerCounters } from './server-counters.ts';
import type { SharedState } from './shared-state.ts';

export { FREE, ListKind, TaskletCtx, USR1 } from './offsets.ts';

export class Slots {
  private readonly state: SharedState;
  private readonly counters: ServerCounters;
  private readonly i32: Int32Array;
  private readonly base: number;
  private readonly stride: number;
  private readonly maxSlots: number;
  private readonly threadBase: number;
  private readonly threadStride: number;
  /** OWNER value while this thread frees a slot. */
  private readonly freeingMark: number;

  /** `self`: the calling thread, recorded in OWNER while it frees a slot. */
  constructor(state: SharedState, counters: ServerCounters, self: number) {
    const L = state.layout;
    this.state = state;
    this.counters = counters;
    this.i32 = state.i32;
    this.base = L.slotBase;
    this.stride = L.slotStride;
    this.maxSlots = state.cfg.maxSlots;
    this.threadBase = L.threadBase;
    this.threadStride = L.threadStride;
    this.freeingMark = FREEING - self;
  }

  /**
   * A free slot for a new connection of `server` held by thread `owner`, or -1 when all slots are
   * taken. The connection starts attached: USR1 clear, context valid, a fresh generation and id.
   * Capacity (the server's cap) is separate: tryReserve() first, release() if this fails.
   */
  allocSlot(owner: number, server: number): number {
    if (owner >>> 0 >= this.state.cfg.threads || server >>> 0 >= this.state.cfg.maxServers) {
      throw new RangeError(`no worker thread ${owner} or server ${server} to own a connection`);
    }
    const n = this.maxSlots;
    const hint = this.threadBase + owner * this.threadStride + ThreadWord.ALLOC_HINT;
    let s = Atomics.load(this.i32, hint);
    if (s >>> 0 >= n) s = 0;
    for (let i = 0; i < n; i++) {
      const b = this.base + s * this.stride;
      if (
        Atomics.load(this.i32, b + SlotWord.OWNER) === FREE &&
        Atomics.compareExchange(this.i32, b + SlotWord.OWNER, FREE, owner) === FREE
      ) {
        Atomics.store(this.i32, b + SlotWord.STATE, 0);
        Atomics.store(this.i32, b + SlotWord.CTX, TaskletCtx.VALID);
        Atomics.store(this.i32, b + SlotWord.THIEF, -1);
        Atomics.store(this.i32, b + SlotWord.SERVER, server);
        Atomics.store(this.i32, b + SlotWord.LIST, ListKind.NONE);
        Atomics.store(this.i32, b + SlotWord.PREV, -1);
        Atomics.store(this.i32, b + SlotWord.NEXT, -1);
        Atomics.store(this.i32, b + SlotWord.CONN_ID, this.state.nextConnId());
        Atomics.store(this.i32, b + SlotWord.IDLE_SINCE, 0);
        Atomics.store(this.i32, b + SlotWord.REQUESTS, 0);
        Atomics.store(this.i32, b + SlotWord.LOCAL_IPV4, 0);
        Atomics.store(this.i32, b + SlotWord.LOCAL_PORT, 0);
        Atomics.add(this.i32, b + SlotWord.GEN, 1);
        Atomics.store(this.i32, hint, s + 1 === n ? 0 : s + 1);
        return s;
      }
      if (++s === n) s = 0;
    }
    return -1;
  }

  /**
   * Frees a slot that is in no idle list. With `expectGen`, returns false (and does nothing) when
   * the slot is no longer that generation or someone else freed or adopted it first — the way
   * for any party that may race the supervisor's reclaim. Without it, a stale free throws.
   * Capacity is not released here: closeSlot() does both.
   */
  freeSlot(slot: number, expectGen?: number): boolean {
    const b = this.at(slot);
    const owner = Atomics.load(this.i32, b + SlotWord.OWNER);
    if (owner < 0 || (expectGen !== undefined && Atomics.load(this.i32, b + SlotWord.GEN) !== expectGen)) {
      if (expectGen !== undefined) return false;
      throw new ShmError(ShmErrorCode.BAD_SLOT_STATE, `slot ${slot} freed twice`);
    }
    if (Atomics.load(this.i32, b + SlotWord.LIST) !== ListKind.NONE) {
      throw new ShmError(ShmErrorCode.BAD_SLOT_STATE, `slot ${slot} freed while in an idle list`);
    }
    // FREEING, not FREE: nobody may allocate the slot while its words are being reset.
    if (Atomics.compareExchange(this.i32, b + SlotWord.OWNER, owner, this.freeingMark) !== owner) {
      if (expectGen !== undefined) return false;
      throw new ShmError(ShmErrorCode.BAD_SLOT_STATE, `slot ${slot} changed hands while being freed`);
    }
    this.resetFreed(b);
    return true;
  }

  /**
   * Completes a free that thread `deadThread` started and died in (OWNER left at its FREEING
   * mark). Supervisor only, after the thread is gone. Returns true if there was one.
   */
  finishFree(slot: number, deadThread: number): boolean {
    const b = this.at(slot);
    if (
      Atomics.compareExchange(this.i32, b + SlotWord.OWNER, FREEING - deadThread, this.freeingMark) !==
      FREEING - deadThread
    ) {
      return false;
    }
    this.resetFreed(b);
    return true;
  }

  /** The reset half of a free, done while OWNER holds a FREEING mark; FREE is published last. */
  private resetFreed(b: number): void {
    Atomics.store(this.i32, b + SlotWord.STATE, 0);
    Atomics.store(this.i32, b + SlotWord.CTX, TaskletCtx.VALID);
    Atomics.store(this.i32, b + SlotWord.THIEF, -1);
    Atomics.store(this.i32, b + SlotWord.LIST, ListKind.NONE);
    Atomics.store(this.i32, b + SlotWord.PREV, -1);
    Atomics.store(this.i32, b + SlotWord.NEXT, -1);
    Atomics.store(this.i32, b + SlotWord.IDLE_SINCE, 0);
    Atomics.add(this.i32, b + SlotWord.GEN, 1);
    Atomics.store(this.i32, b + SlotWord.OWNER, FREE);
  }

  /** Ends a connection: freeSlot() and, if this call freed it, releases the server's capacity. */
  closeSlot(slot: number, expectGen?: number): boolean {
    const server = this.server(slot);
    if (!this.freeSlot(slot, expectGen)) return false;
    this.counters.release(server);
    return true;
  }

  // ---- USR1: the hot path, one Atomics op each ----

  setUsr1(slot: number): void {
    Atomics.or(this.i32, this.at(slot) + SlotWord.STATE, USR1);
  }

  clearUsr1(slot: number): void {
    Atomics.and(this.i32, this.at(slot) + SlotWord.STATE, ~USR1);
  }

  /** False: the connection is in no idle list and was not stolen, its wake-up needs no lock. */
  hasUsr1(slot: number): boolean {
    return (Atomics.load(this.i32, this.at(slot) + SlotWord.STATE) & USR1) !== 0;
  }

  // ---- takeover ----

  /**
   * The thief claims the connection (the victim's tasklet context becomes NULL): under the
   * owner's lock after taking it out of the idle list, or by the owner for a push. USR1 is left
   * alone (rule 1), so the victim's next wake-up takes the locked path and sees the theft.
   * Returns the victim tasklet's generation, which the wake message names.
   */
  markStolen(slot: number, thief: number): number {
    const b = this.at(slot);
    const owner = Atomics.load(this.i32, b + SlotWord.OWNER);
    if (
      owner < 0 ||
      owner === thief ||
      Atomics.load(this.i32, b + SlotWord.CTX) !== TaskletCtx.VALID ||
      Atomics.load(this.i32, b + SlotWord.LIST) !== ListKind.NONE
    ) {
      throw new ShmError(
        ShmErrorCode.BAD_SLOT_STATE,
        `slot ${slot} cannot be stolen by ${thief}: owner ${owner}, ctx ${this.ctx(slot)}, list ${this.list(slot)}`,
      );
    }
    Atomics.store(this.i32, b + SlotWord.THIEF, thief);
    Atomics.store(this.i32, b + SlotWord.CTX, TaskletCtx.STOLEN);
    return Atomics.load(this.i32, b + SlotWord.GEN);
  }

  /**
   * Optional: the victim records that it posted the handle (STOLEN → TRANSIT). If the victim then
   * dies, reclaimThread() leaves the slot to the thief, who will receive the handle.
   */
  markHandedOff(slot: number): boolean {
    const idx = this.at(slot) + SlotWord.CTX;
    return (
      Atomics.compareExchange(this.i32, idx, TaskletCtx.STOLEN, TaskletCtx.TRANSIT) === TaskletCtx.STOLEN
    );
  }

  /**
   * The thief received the handle: it becomes the owner with a fresh tasklet — new generation,
   * context valid, USR1 clear. Returns the new generation, or -1 if the slot is no longer the
   * stolen connection (`expectGen` given; e.g. the supervisor reclaimed it): then the handle is
   * not accounted anywhere and the caller only closes the socket. Without `expectGen` a stale
   * adopt throws.
   */
  adopt(slot: number, newOwner: number, expectGen?: number): number {
    const b = this.at(slot);
    const owner = Atomics.load(this.i32, b + SlotWord.OWNER);
    const ok =
      owner >= 0 &&
      owner !== newOwner &&
      Atomics.load(this.i32, b + SlotWord.CTX) !== TaskletCtx.VALID &&
      Atomics.load(this.i32, b + SlotWord.THIEF) === newOwner &&
      (expectGen === undefined || Atomics.load(this.i32, b + SlotWord.GEN) === expectGen) &&
      Atomics.compareExchange(this.i32, b + SlotWord.OWNER, owner, newOwner) === owner;
    if (!ok) {
      if (expectGen !== undefined) return -1;
      throw new ShmError(ShmErrorCode.BAD_SLOT_STATE, `slot ${slot} is not stolen by ${newOwner}`);
    }
    Atomics.and(this.i32, b + SlotWord.STATE, ~USR1);
    Atomics.store(this.i32, b + SlotWord.THIEF, -1);
    Atomics.store(this.i32, b + SlotWord.IDLE_SINCE, 0);
    const gen = Atomics.add(this.i32, b + SlotWord.GEN, 1) + 1;
    Atomics.store(this.i32, b + SlotWord.CTX, TaskletCtx.VALID);
    return gen;
  }

  /** The context is NULL: a thief claimed the connection (handle still here, or on its way). */
  isStolen(slot: number): boolean {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.CTX) !== TaskletCtx.VALID;
  }

  /** The slot still holds the connection whose tasklet has generation `gen`. */
  isCurrent(slot: number, gen: number): boolean {
    const b = this.at(slot);
    return (
      Atomics.load(this.i32, b + SlotWord.OWNER) >= 0 && Atomics.load(this.i32, b + SlotWord.GEN) === gen
    );
  }

  /** Requests served on the connection, after counting one more. */
  bumpRequests(slot: number): number {
    return Atomics.add(this.i32, this.at(slot) + SlotWord.REQUESTS, 1) + 1;
  }

  // ---- getters ----

  owner(slot: number): number {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.OWNER);
  }
  getOwner(slot: number): number {
    return this.owner(slot);
  }
  isFree(slot: number): boolean {
    return this.owner(slot) === FREE;
  }
  stateWord(slot: number): number {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.STATE);
  }
  ctx(slot: number): number {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.CTX);
  }
  thief(slot: number): number {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.THIEF);
  }
  server(slot: number): number {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.SERVER);
  }
  list(slot: number): number {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.LIST);
  }
  prev(slot: number): number {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.PREV);
  }
  next(slot: number): number {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.NEXT);
  }
  gen(slot: number): number {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.GEN);
  }
  /** Connection id (uint32), stable across takeovers. */
  connId(slot: number): number {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.CONN_ID) >>> 0;
  }
  /** nowMs() when the connection was last inserted into an idle list (0 = never). */
  idleSince(slot: number): number {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.IDLE_SINCE);
  }
  requests(slot: number): number {
    return Atomics.load(this.i32, this.at(slot) + SlotWord.REQUESTS) >>> 0;
  }
  /** The request on the connection ended now (shared ms clock): it is idle from here. */
  setIdleSince(slot: number, nowMs: number): void {
    Atomics.store(this.i32, this.at(slot) + SlotWord.IDLE_SINCE, nowMs);
  }

  /** Publishes the socket's local address (the owner, once connected) for the control plane. */
  setLocalAddress(slot: number, address: string | undefined, port: number | undefined): void {
    const b = this.at(slot);
    const parts = address?.split('.');
    const ipv4 =
      parts?.length === 4 ? (+parts[0] << 24) | (+parts[1] << 16) | (+parts[2] << 8) | +parts[3] : 0;
    Atomics.store(this.i32, b + SlotWord.LOCAL_IPV4, ipv4);
    Atomics.store(this.i32, b + SlotWord.LOCAL_PORT, port ?? 0);
  }

  /** "a.b.c.d:port", ":port" for an IPv6 socket, or "" when unknown. */
  localAddress(slot: number): string {
    const b = this.at(slot);
    const port = Atomics.load(this.i32, b + SlotWord.LOCAL_PORT);
    if (port === 0) return '';
    const ip = Atomics.load(this.i32, b + SlotWord.LOCAL_IPV4) >>> 0;
    return ip === 0
      ? `:${port}`
      : `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}:${port}`;
  }

  get size(): number {
    return this.maxSlots;
  }

  /** One unsigned compare guards every access: a stray index would write another slot's line. */
  private at(slot: number): number {
    if (slot >>> 0 >= this.maxSlots) throw new RangeError(`no connection slot ${slot}`);
    return this.base + slot * this.stride;
  }
}
