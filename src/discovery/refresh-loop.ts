// Runs an async refresh every `intervalMs`, one at a time (the next is scheduled when the last has
// settled, so a slow DNS server never stacks lookups), without keeping the process alive.
export class RefreshLoop {
  readonly #refresh: () => Promise<void>;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(refresh: () => Promise<void>, intervalMs: number) {
    this.#refresh = refresh;
    this.#intervalMs = intervalMs;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  start(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.#refresh().then(() => this.start());
    }, this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
