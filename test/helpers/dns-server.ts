// A tiny authoritative DNS server on 127.0.0.1 for tests: answers A and AAAA queries from a
// record table the test changes at will (pods appearing and disappearing).
import dgram from 'node:dgram';
import net from 'node:net';

export interface TestDnsServer {
  address: string;
  records: Map<string, string[]>;
  close(): Promise<void>;
}

function readName(msg: Buffer, pos: number): [string, number] {
  const labels: string[] = [];
  while (msg[pos] !== 0) {
    const len = msg[pos];
    labels.push(msg.toString('latin1', pos + 1, pos + 1 + len));
    pos += len + 1;
  }
  return [labels.join('.').toLowerCase(), pos + 1];
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(parseInt(groups[i], 16), i * 2);
  return out;
}

function answer(query: Buffer, records: Map<string, string[]>): Buffer {
  const [name, end] = readName(query, 12);
  const qtype = query.readUInt16BE(end);
  const question = query.subarray(12, end + 4);
  const ips = (records.get(name) ?? []).filter((ip) => net.isIP(ip) === (qtype === 28 ? 6 : 4));
  const known = records.has(name);
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8400 | (known ? 0 : 3), 2); // response, authoritative, NXDOMAIN if unknown
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(ips.length, 6);
  const answers = ips.map((ip) => {
    const rdata = net.isIP(ip) === 4 ? Buffer.from(ip.split('.').map(Number)) : ipv6Bytes(ip);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
    rr.writeUInt16BE(qtype, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(1, 6); // TTL 1 s
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([header, question, ...answers]);
}

export async function startDnsServer(records: Record<string, string[]> = {}): Promise<TestDnsServer> {
  const table = new Map(Object.entries(records));
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    try {
      socket.send(answer(msg, table), rinfo.port, rinfo.address);
    } catch {
      // a malformed query gets no answer
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  return {
    address: `127.0.0.1:${port}`,
    records: table,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
