// A port for a test server: bind port 0 on 127.0.0.1, read what the kernel chose, close.
import { once } from 'node:events';
import net from 'node:net';

/** A port the kernel just handed out on 127.0.0.1 (free until someone else takes it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
