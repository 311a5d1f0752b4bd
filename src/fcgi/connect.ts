// Opening a backend socket with a deadline; failures are BackendError CONNECT / CONNECT_TIMEOUT.

import net from 'node:net';
import { BackendError, BackendErrorCode } from '../errors.ts';

/** `label` (e.g. the backend's address) names the peer in the error messages. */
export function connectSocket(
  connectOpts: net.NetConnectOpts,
  timeoutMs: number,
  label?: string,
): Promise<net.Socket> {
  const what = label === undefined ? 'connect' : `connect to ${label}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(connectOpts);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const onError = (err: NodeJS.ErrnoException): void =>
      fail(
        new BackendError(BackendErrorCode.CONNECT, `${what} failed: ${err.code ?? err.message}`, {
          cause: err,
        }),
      );
    const timer = setTimeout(
      () =>
        fail(new BackendError(BackendErrorCode.CONNECT_TIMEOUT, `${what} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
