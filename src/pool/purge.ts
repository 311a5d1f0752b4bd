// Closes idle connections that have been idle too long (HAProxy pool-purge-delay). php-fpm kills
// a child parked on an idle connection after request_terminate_timeout, and every idle
// connection pins a child, so idle connections must not outlive need.
import { LockSite } from '../shm/lock.ts';
import { ListKind } from '../shm/slots.ts';
import type { PoolThread } from './pool-thread.ts';

/**
 * Closes this thread's idle connections idle for at least `minIdleMs` (each server's own purge
 * delay when undefined), for one server or all. Returns how many were closed.
 */
export function purgeIdle(pt: PoolThread, server: number | undefined, minIdleMs: number | undefined): number {
  const { lists, lock, slots } = pt.shm;
  const now = pt.shm.nowMs();
  const victims: number[] = [];
  lock.lock(pt.thread, LockSite.purge);
  for (const sp of pt.servers) {
    if (sp === undefined || (server !== undefined && sp.index !== server)) continue;
    const limit = minIdleMs ?? sp.settings.purgeDelayMs;
    for (const kind of [ListKind.IDLE, ListKind.SAFE]) {
      lists.forEach(pt.thread, sp.index, kind, (slot) => {
        if (now - slots.idleSince(slot) >= limit) victims.push(slot);
        return true;
      });
    }
  }
  for (const slot of victims) lists.remove(slot);
  lock.unlock(pt.thread);
  // out of the lists under the lock, so no thief can claim them; closing frees the slots
  for (const slot of victims) pt.tasklets.get(slot)?.conn.destroy();
  return victims.length;
}
