// The least a Node.js HTTP → FastCGI proxy does per request, to measure what Node itself costs on
// this machine beside fcgi-pool and HAProxy: one event loop, N kept connections to the backend
// and a FIFO of clients waiting for one (so every client is served, as by fcgi-pool), the same
// socket calls (one read and one write on each side). Nothing else: one fixed set of params
// encoded once, no request parsing beyond finding the end of the head, no CGI head parsing
// beyond the blank line, no timeouts, no logs, no metrics, no errors handled. Not a product:
// it answers only wrk's GETs of one script, and assumes a client sends one request at a time.
//
// Usage: node bench/node-floor.ts LISTEN_PORT BACKEND_PORT CONNECTIONS SCRIPT_FILENAME
//   e.g. node bench/node-floor.ts 8090 9000 8 /var/www/html/index.php

import net from 'node:net';
import { FCGI_HEADER_LEN, FCGI_KEEP_CONN, RecordType, Role } from '../src/fcgi/constants.ts';
import { encodeParams } from '../src/fcgi/name-value.ts';
import { encodeBeginRequest, encodeStreamEnd } from '../src/fcgi/records.ts';

const [listenPort, backendPort, connections, scriptFilename] = process.argv.slice(2);
if (scriptFilename === undefined) {
  console.error('usage: node bench/node-floor.ts LISTEN_PORT BACKEND_PORT CONNECTIONS SCRIPT_FILENAME');
  process.exit(2);
}

const REQUEST = Buffer.concat([
  encodeBeginRequest(1, Role.RESPONDER, FCGI_KEEP_CONN),
  encodeParams(1, {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'node-floor',
    SCRIPT_FILENAME: scriptFilename,
    SCRIPT_NAME: '/index.php',
    REQUEST_URI: '/index.php',
    DOCUMENT_URI: '/index.php',
    QUERY_STRING: '',
    REQUEST_METHOD: 'GET',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_ADDR: '127.0.0.1',
    SERVER_PORT: listenPort!,
    REMOTE_ADDR: '127.0.0.1',
    HTTP_HOST: `127.0.0.1:${listenPort}`,
  }),
  encodeStreamEnd(RecordType.STDIN, 1),
]);

/** A kept backend connection and the client whose request it carries. */
class Backend {
  readonly socket: net.Socket;
  client: net.Socket | null = null;
  #pending: Buffer | null = null;

  constructor() {
    this.socket = net.connect(Number(backendPort), '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.#onData(chunk));
  }

  send(client: net.Socket): void {
    this.client = client;
    this.socket.write(REQUEST);
  }

  #onData(chunk: Buffer): void {
    const buf = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    const stdout: Buffer[] = [];
    let ended = false;
    let pos = 0;
    while (pos + FCGI_HEADER_LEN <= buf.length) {
      const length = buf.readUInt16BE(pos + 4);
      const end = pos + FCGI_HEADER_LEN + length + buf[pos + 6]!;
      if (end > buf.length) break;
      const type = buf[pos + 1];
      if (type === RecordType.STDOUT && length > 0)
        stdout.push(buf.subarray(pos + FCGI_HEADER_LEN, pos + FCGI_HEADER_LEN + length));
      if (type === RecordType.END_REQUEST) ended = true;
      pos = end;
    }
    if (!ended) {
      this.#pending = buf; // the whole response is parsed again when the rest comes: fine for a hello world
      return;
    }
    this.#pending = null;
    const cgi = stdout.length === 1 ? stdout[0]! : Buffer.concat(stdout);
    const blank = cgi.indexOf('\r\n\r\n');
    const body = cgi.subarray(blank + 4);
    const head = `HTTP/1.1 200 OK\r\n${cgi.toString('latin1', 0, blank)}\r\nContent-Length: ${body.length}\r\n\r\n`;
    const response = Buffer.allocUnsafe(head.length + body.length);
    response.write(head, 0, 'latin1');
    response.set(body, head.length);
    this.client!.write(response);
    this.client = null;
    const next = waiting.shift();
    if (next !== undefined) this.send(next);
    else idle.push(this);
  }
}

const idle: Backend[] = [];
const waiting: net.Socket[] = [];
for (let i = 0; i < Number(connections); i++) idle.push(new Backend());

net
  .createServer({ noDelay: true }, (client) => {
    client.on('error', () => {});
    client.on('data', (chunk: Buffer) => {
      if (chunk.indexOf('\r\n\r\n') < 0) return; // wrk's GET arrives in one read
      const backend = idle.pop();
      if (backend !== undefined) backend.send(client);
      else waiting.push(client);
    });
  })
  .listen(Number(listenPort), '127.0.0.1');
