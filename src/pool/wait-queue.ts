// FIFO of requests waiting for a backend connection on one thread, for one server.
// A ring buffer: push/shift are O(1) and allocate nothing once grown (undici's fixed-queue idea).

export interface Waiter<T> {
  /** Shared-clock ms when the request started waiting: the age other threads compare against. */
  readonly since: number;
  /** Called once with a lease, or with an error (timeout, pool closed). */
  settle(value: T | null, err: Error | null): void;
  /** Set when the waiter timed out or was cancelled: skip it when dequeuing. */
  done: boolean;
}

export class WaitQueue<T> {
  // filled with undefined, not holes of small integers: storing the first waiter then changes no
  // array shape, which would throw away the code optimised on another (e.g. the warm-up's) queue
  #items: Array<Waiter<T> | undefined> = new Array(16).fill(undefined);
  #head = 0;
  #size = 0;

  get length(): number {
    return this.#size;
  }

  push(w: Waiter<T>): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = w;
    this.#size++;
  }

  /** The oldest live waiter, dropping the ones that already timed out. */
  peek(): Waiter<T> | undefined {
    this.#dropDone();
    return this.#size > 0 ? this.#items[this.#head] : undefined;
  }

  shift(): Waiter<T> | undefined {
    this.#dropDone();
    if (this.#size === 0) return undefined;
    const w = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#size--;
    return w;
  }

  /** Settles every waiter with `err` (shutdown, server removed). */
  rejectAll(err: Error): void {
    for (let w = this.shift(); w !== undefined; w = this.shift()) {
      w.done = true;
      w.settle(null, err);
    }
  }

  #dropDone(): void {
    while (this.#size > 0 && this.#items[this.#head]!.done) {
      this.#items[this.#head] = undefined;
      this.#head = (this.#head + 1) & (this.#items.length - 1);
      this.#size--;
    }
  }

  #grow(): void {
    const next: Array<Waiter<T> | undefined> = new Array(this.#items.length * 2).fill(undefined);
    for (let i = 0; i < this.#size; i++) next[i] = this.#items[(this.#head + i) & (this.#items.length - 1)];
    this.#items = next;
    this.#head = 0;
  }
}
