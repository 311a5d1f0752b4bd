// Opens backend sockets. Injected into the pool (undici's `factory` habit) so tests can count
// or fail connects; the default opens a real TCP or Unix-domain socket with a connect timeout.
import net from 'node:net';
import { type BackendAddress, formatAddress } from '../config/address.ts';
import { BackendError, BackendErrorCode } from '../errors.ts';

export type { BackendAddress };
export { formatAddress };

export type Connector = (address: BackendAddress, timeoutMs: number) => Promise<net.Socket>;

export const connectSocket: Connector = (address, timeoutMs) =>
  new Promise((resolve, reject) => {
    const socket =
      address.kind === 'unix'
        ? net.connect({ path: address.path })
        : net.connect({ host: address.host, port: address.port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new BackendError(
          BackendErrorCode.CONNECT_TIMEOUT,
          `connect to ${formatAddress(address)} timed out after ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new BackendError(
          BackendErrorCode.CONNECT,
          `connect to ${formatAddress(address)} failed: ${err.code ?? err.message}`,
          { cause: err },
        ),
      );
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
