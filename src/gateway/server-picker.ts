// Picks the backend server for a request among the app's servers: the one with the fewest
// outstanding requests on this thread; a server that failed is skipped until it is probed
// healthy again (issue 4: serves again within 2 s of recovering).
import type { PoolThread } from '../pool/pool-thread.ts';
import { ServerState } from '../shm/server-counters.ts';

export class ServerPicker {
  readonly #pt: PoolThread;
  readonly #servers: number[];
  readonly #outstanding: number[] = [];
  /** Until when (ms) a server that failed to connect is skipped. */
  readonly #downUntil: number[] = [];
  #rotor = 0;

  constructor(pt: PoolThread, servers: number[]) {
    this.#pt = pt;
    this.#servers = servers;
  }

  /** A server index, or -1 when none is usable. */
  pick(): number {
    const now = Date.now();
    let best = -1;
    let fallback = -1;
    const n = this.#servers.length;
    for (let i = 0; i < n; i++) {
      const s = this.#servers[(this.#rotor + i) % n];
      if (this.#pt.servers[s] === undefined || this.#pt.shm.counters.state(s) !== ServerState.READY) continue;
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

  /** `ok`: the server answered (even with an error page); false marks it down for a moment. */
  end(server: number, ok: boolean): void {
    this.#outstanding[server]--;
    this.#downUntil[server] = ok ? 0 : Date.now() + 1000;
  }
}
