// Opens backend sockets. Injected into the pool (undici's `factory` habit) so tests can count
// or fail connects; the default opens a real TCP or Unix-domain socket with a connect timeout.
import type net from 'node:net';
import { type BackendAddress, formatAddress } from '../config/address.ts';
import { connectSocket as connectWithDeadline } from '../fcgi/connect.ts';

export type { BackendAddress };
export { formatAddress };

export type Connector = (address: BackendAddress, timeoutMs: number) => Promise<net.Socket>;

export const connectSocket: Connector = (address, timeoutMs) =>
  connectWithDeadline(
    address.kind === 'unix'
      ? { path: address.path }
      : { host: address.host, port: address.port, noDelay: true },
    timeoutMs,
    formatAddress(address),
  );
