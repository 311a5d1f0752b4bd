// A port for a test server. Not port 0's answer: the kernel hands out the same range for the
// local ends of outgoing connections (ip_local_port_range, 32768-60999 here), and with the
// tests' many connections one took a port between freePort() and the server's listen
// (EADDRINUSE in CI). Ports below that range are picked at random and checked free instead.
import { once } from 'node:events';
import net from 'node:net';

const LOW = 20_000;
const HIGH = 32_000;

/** A port on 127.0.0.1 that nothing listened on a moment ago, outside the ephemeral range. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await canListen(port)) return port;
  }
}

async function canListen(port: number): Promise<boolean> {
  const server = net.createServer();
  server.listen(port, '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch {
    return false;
  }
  server.close();
  await once(server, 'close');
  return true;
}

/** Free ports for `fcgi-pool serve`'s three listeners, and the flags that give them to it. */
export interface ListenPorts {
  readonly http: number;
  readonly grpc: number;
  readonly admin: number;
  /** `--http 127.0.0.1:P --grpc 127.0.0.1:P --admin 127.0.0.1:P` */
  readonly flags: string[];
}

export async function listenPorts(): Promise<ListenPorts> {
  const [http, grpc, admin] = [await freePort(), await freePort(), await freePort()];
  const flags = [
    '--http',
    `127.0.0.1:${http}`,
    '--grpc',
    `127.0.0.1:${grpc}`,
    '--admin',
    `127.0.0.1:${admin}`,
  ];
  return { http, grpc, admin, flags };
}
