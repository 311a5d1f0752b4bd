// Embedded FastCGI responder: the default backend of `npm start` and a controllable test peer
// (delays, idle close, max requests per connection like pm.max_requests, garbage answers,
// multiplexing). Every response carries `X-Fcgi-Connection-Id`, so a test sees which
// connection served it.

import net from 'node:net';
import { builtinApp } from './responder-app.ts';
import { ResponderConnection, type ResponderHost } from './responder-connection.ts';
import type { ResponderAddress, ResponderApp, ResponderOptions, ResponderStats } from './responder-types.ts';

export type {
  ResponderAddress,
  ResponderApp,
  ResponderOptions,
  ResponderRequest,
  ResponderResponse,
  ResponderStats,
} from './responder-types.ts';

export interface ResponderListenOptions {
  port?: number;
  host?: string;
  /** A unix socket path instead of TCP. */
  path?: string;
}

export class FcgiResponder implements ResponderHost, ResponderStats {
  readonly options: ResponderOptions;
  readonly app: ResponderApp;
  readonly startedAt = Date.now();
  requestsServed = 0;
  /** Connections accepted so far (the last X-Fcgi-Connection-Id given). */
  connectionsAccepted = 0;
  readonly #server: net.Server;
  readonly #conns = new Set<ResponderConnection>();

  constructor(options: ResponderOptions = {}) {
    this.options = { ...options };
    this.app = options.app ?? builtinApp;
    this.#server = net.createServer((socket) => {
      const conn = new ResponderConnection(this, socket, ++this.connectionsAccepted);
      this.#conns.add(conn);
    });
  }

  get stats(): ResponderStats {
    return this;
  }

  get connectionCount(): number {
    return this.#conns.size;
  }

  /** Open client connections. */
  connections(): number {
    return this.#conns.size;
  }

  /** Listens on 127.0.0.1 and a free port unless told otherwise. */
  listen(port?: number | ResponderListenOptions, host?: string): Promise<ResponderAddress> {
    const opts: ResponderListenOptions = typeof port === 'object' ? port : { port, host };
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      const done = (): void => {
        this.#server.off('error', reject);
        const addr = this.#server.address();
        if (typeof addr === 'string') resolve({ host: '', port: 0, path: addr });
        else if (addr === null) reject(new Error('responder is not listening'));
        else resolve({ host: addr.address, port: addr.port });
      };
      if (opts.path !== undefined) this.#server.listen(opts.path, done);
      else this.#server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', done);
    });
  }

  /** Stops listening and destroys every connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const conn of this.#conns) conn.destroy();
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
    });
  }

  /** Destroys every client connection (a backend restart), keeping the listener. */
  dropConnections(): void {
    for (const conn of this.#conns) conn.destroy();
  }

  requestServed(): void {
    this.requestsServed++;
  }

  forget(conn: ResponderConnection): void {
    this.#conns.delete(conn);
  }
}
