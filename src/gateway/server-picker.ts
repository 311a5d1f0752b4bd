// Picks the backend server for a request among the app's servers (by default every server of
// the pool, so servers added at run time by gRPC or DNS discovery take traffic at once): the
// one with the fewest outstanding requests on this thread. A server whose connect failed is skipped for a moment
// (DOWN_MS); after that the next request probes it, and a request whose connect fails goes to
// another server (nothing was sent), so a server that recovers serves again within DOWN_MS plus
// one request, and clients never see the probe fail.
import type { PoolThread } from '../pool/pool-thread.ts';
import { ServerState } from '../shm/server-counters.ts';

/** How long a server that refused a connection is left alone before it is tried again. */
export const DOWN_MS = 1000;

export class ServerPicker {
  readonly #pt: PoolThread;
  /** Fixed server indexes, or null: every server of the pool, also those added at run time. */
  readonly #servers: readonly number[] | null;
  readonly #outstanding: number[] = [];
  /** Until when (ms) a server that failed to connect is skipped. */
  readonly #downUntil: number[] = [];
  #rotor = 0;

  constructor(pt: PoolThread, servers?: readonly number[]) {
    this.#pt = pt;
    this.#servers = servers ?? null;
  }

  /** A server index, or -1 when none is usable. `exclude`: servers this request already failed on. */
  pick(exclude?: readonly number[]): number {
    const now = Date.now();
    let best = -1;
    let fallback = -1;
    const list = this.#servers;
    const n = list === null ? this.#pt.servers.length : list.length;
    for (let i = 0; i < n; i++) {
      const s = list === null ? (this.#rotor + i) % n : list[(this.#rotor + i) % n];
      if (this.#pt.servers[s] === undefined || this.#pt.shm.counters.state(s) !== ServerState.READY) continue;
      if (exclude?.includes(s)) continue;
      if (fallback < 0) fallback = s;
      if ((this.#downUntil[s] ?? 0) > now) continue;
      if (best < 0 || (this.#outstanding[s] ?? 0) < (this.#outstanding[best] ?? 0)) best = s;
    }
    this.#rotor++;
    // every server is marked down: try one anyway, so recovery is noticed by real traffic
    return best >= 0 ? best : fallback;
  }

  begin(server: number): void {
    this.#outstanding[server] = (this.#outstanding[server] ?? 0) + 1;
  }

  /** `ok`: the server answered (even with an error page); false marks it down for DOWN_MS. */
  end(server: number, ok: boolean): void {
    this.#outstanding[server]--;
    this.#downUntil[server] = ok ? 0 : Date.now() + DOWN_MS;
  }
}
