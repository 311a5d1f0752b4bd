// GET_VALUES on a dedicated connection: php-fpm answers FCGI_MPXS_CONNS=0 and then closes the
// connection, so the question never shares a connection with requests.

import net from 'node:net';
import { BackendError, BackendErrorCode, FcgiProtocolError, ProtocolErrorCode } from '../errors.ts';
import { FCGI_NULL_REQUEST_ID, RecordType } from './constants.ts';
import { decodeNameValuePairs, encodeGetValues } from './name-value.ts';
import { RecordParser } from './parser.ts';

/** Asks the backend for management variables (FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS). */
export function getValues(
  connectOpts: net.NetConnectOpts,
  names: readonly string[],
  timeoutMs: number,
): Promise<Record<string, string>> {
  const query = encodeGetValues(names); // throws before any socket is opened
  return new Promise((resolve, reject) => {
    let connected = false;
    let settled = false;
    const socket = net.connect(connectOpts);
    const finish = (err: Error | null, values?: Record<string, string>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err !== null) reject(err);
      else resolve(values as Record<string, string>);
    };
    const timer = setTimeout(() => {
      finish(
        connected
          ? new BackendError(BackendErrorCode.READ_TIMEOUT, `no GET_VALUES_RESULT within ${timeoutMs} ms`)
          : new BackendError(BackendErrorCode.CONNECT_TIMEOUT, `connect timed out after ${timeoutMs} ms`),
      );
    }, timeoutMs);
    const parser = new RecordParser((type, requestId, content) => {
      if (type === RecordType.GET_VALUES_RESULT && requestId === FCGI_NULL_REQUEST_ID) {
        // fromEntries defines own properties, so a name like __proto__ cannot touch the prototype
        finish(null, Object.fromEntries(decodeNameValuePairs(content)));
      } else {
        throw new FcgiProtocolError(
          ProtocolErrorCode.UNEXPECTED_RECORD,
          type === RecordType.UNKNOWN_TYPE
            ? 'the backend does not support GET_VALUES'
            : `unexpected record type ${type} (request ${requestId}) in answer to GET_VALUES`,
        );
      }
    });
    socket.on('connect', () => {
      connected = true;
      socket.setNoDelay(true);
      socket.write(query);
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.push(chunk);
      } catch (err) {
        finish(err as Error);
      }
    });
    socket.on('end', () =>
      finish(
        new BackendError(
          BackendErrorCode.CLOSED,
          'the backend closed the connection before answering GET_VALUES',
        ),
      ),
    );
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish(
        connected
          ? new BackendError(
              BackendErrorCode.RESET,
              `GET_VALUES connection failed: ${err.code ?? err.message}`,
              {
                cause: err,
              },
            )
          : new BackendError(BackendErrorCode.CONNECT, `connect failed: ${err.code ?? err.message}`, {
              cause: err,
            }),
      ),
    );
    socket.on('close', () =>
      finish(new BackendError(BackendErrorCode.CLOSED, 'the connection closed before GET_VALUES_RESULT')),
    );
  });
}
