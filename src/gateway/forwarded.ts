// Who the client is when fcgi-pool sits behind a load balancer. X-Forwarded-For and
// X-Forwarded-Proto are client-writable, so they are believed only when the direct peer is
// a configured trusted proxy, and then only as far back as the chain stays trusted: the
// client is the right-most address that is not a trusted proxy (nginx real_ip_recursive on).
// Anything to the left of it was written by that client and proves nothing.

import { BlockList, isIP } from 'node:net';

export interface ClientInfo {
  /** REMOTE_ADDR, IPv4-mapped IPv6 shown as plain IPv4. */
  readonly remoteAddr: string;
  /** REMOTE_PORT: the peer's, or the forwarded one, or "0" when a proxy did not say. */
  readonly remotePort: string;
  readonly https: boolean;
}

export class TrustedProxies {
  readonly #list = new BlockList();
  readonly size: number;
  // Keep-alive connections from one load balancer repeat the same peer: remember the last answer.
  #lastPeer = '';
  #lastTrusted = false;

  /** IPs and CIDRs, v4 and v6 (validated by the config schema; a bad entry throws here). */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const slash = entry.indexOf('/');
      const ip = slash < 0 ? entry : entry.slice(0, slash);
      const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
      if (slash < 0) this.#list.addAddress(ip, type);
      else this.#list.addSubnet(ip, Number(entry.slice(slash + 1)), type);
    }
    this.size = entries.length;
  }

  /** IPv4-mapped IPv6 addresses match IPv4 entries. */
  has(ip: string): boolean {
    if (ip === this.#lastPeer) return this.#lastTrusted;
    const family = isIP(ip);
    const trusted = family !== 0 && this.#list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
    this.#lastPeer = ip;
    this.#lastTrusted = trusted;
    return trusted;
  }
}

export interface Peer {
  readonly address: string;
  readonly port: number;
  /** The connection to us is TLS. */
  readonly encrypted: boolean;
}

/**
 * `forwardedFor` and `forwardedProto` are the header values, repeated headers joined with
 * ", " (undefined when absent).
 */
export function resolveClient(
  peer: Peer,
  forwardedFor: string | undefined,
  forwardedProto: string | undefined,
  trusted: TrustedProxies,
): ClientInfo {
  const peerAddr = unmapIPv4(peer.address);
  const direct: ClientInfo = { remoteAddr: peerAddr, remotePort: String(peer.port), https: peer.encrypted };
  if (trusted.size === 0 || (forwardedFor === undefined && forwardedProto === undefined)) return direct;
  if (!trusted.has(peer.address)) return direct;

  let remoteAddr = peerAddr;
  let remotePort = direct.remotePort;
  if (forwardedFor !== undefined) {
    const hops = forwardedFor.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseHop(hops[i]);
      // A malformed hop ends the walk: the last good address is the best we know, and a
      // garbage string must never become REMOTE_ADDR.
      if (hop === undefined) break;
      remoteAddr = hop.ip;
      remotePort = hop.port;
      if (!trusted.has(hop.ip)) break;
    }
  }

  let https = peer.encrypted;
  if (forwardedProto !== undefined) {
    // The right-most value is the one the trusted proxy next to us saw or set.
    const comma = forwardedProto.lastIndexOf(',');
    const proto = forwardedProto
      .slice(comma + 1)
      .trim()
      .toLowerCase();
    if (proto === 'https') https = true;
    else if (proto === 'http') https = false;
  }
  return { remoteAddr, remotePort, https };
}

/** "::ffff:10.0.0.1" → "10.0.0.1": what PHP code comparing IPv4 addresses expects. */
export function unmapIPv4(ip: string): string {
  if (ip.length > 7 && ip.charCodeAt(0) === 0x3a && /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip))
    return ip.slice(7);
  return ip;
}

/** "1.2.3.4", "1.2.3.4:5678", "2001:db8::1", "[2001:db8::1]:443" (ports are rare but seen). */
function parseHop(text: string): { ip: string; port: string } | undefined {
  const t = text.trim();
  if (isIP(t) !== 0) return { ip: unmapIPv4(t), port: '0' };
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    const ip = t.slice(1, close);
    const rest = t.slice(close + 1);
    if (close < 0 || isIP(ip) !== 6 || (rest !== '' && !/^:\d{1,5}$/.test(rest))) return undefined;
    return { ip: unmapIPv4(ip), port: rest === '' ? '0' : rest.slice(1) };
  }
  const colon = t.indexOf(':');
  if (colon > 0 && t.indexOf(':', colon + 1) < 0) {
    const ip = t.slice(0, colon);
    const port = t.slice(colon + 1);
    if (isIP(ip) === 4 && /^\d{1,5}$/.test(port)) return { ip, port };
  }
  return undefined;
}
