import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveClient, TrustedProxies, unmapIPv4 } from '../../src/gateway/forwarded.ts';

const lb = new TrustedProxies(['10.0.0.0/8', '192.168.1.5', 'fd00::/8']);
const plain = (address: string) => ({ address, port: 40000, encrypted: false });

describe('X-Forwarded-For / -Proto', () => {
  test('an untrusted peer cannot claim another address or https', () => {
    const c = resolveClient(plain('203.0.113.9'), '1.2.3.4', 'https', lb);
    assert.deepEqual(c, { remoteAddr: '203.0.113.9', remotePort: '40000', https: false });
  });

  test('behind a trusted load balancer the client is the forwarded address', () => {
    const c = resolveClient(plain('10.1.2.3'), '198.51.100.7', 'https', lb);
    assert.deepEqual(c, { remoteAddr: '198.51.100.7', remotePort: '0', https: true });
  });

  test('the right-most untrusted hop wins: a client cannot prepend a fake address', () => {
    const c = resolveClient(plain('10.1.2.3'), '6.6.6.6, 198.51.100.7, 192.168.1.5', undefined, lb);
    assert.equal(c.remoteAddr, '198.51.100.7');
  });

  test('when every hop is trusted the left-most one is the client', () => {
    assert.equal(
      resolveClient(plain('10.1.2.3'), '10.9.9.9, 10.8.8.8', undefined, lb).remoteAddr,
      '10.9.9.9',
    );
  });

  test('a garbage hop stops the walk and never becomes REMOTE_ADDR', () => {
    const c = resolveClient(plain('10.1.2.3'), '198.51.100.7, unknown, 10.4.4.4', undefined, lb);
    assert.equal(c.remoteAddr, '10.4.4.4');
    assert.equal(resolveClient(plain('10.1.2.3'), '<script>', undefined, lb).remoteAddr, '10.1.2.3');
  });

  test('IPv6 peers and CIDRs, and ports in hops', () => {
    assert.equal(resolveClient(plain('fd12::1'), '2001:db8::1', undefined, lb).remoteAddr, '2001:db8::1');
    const c = resolveClient(plain('fd12::1'), '[2001:db8::2]:5555', undefined, lb);
    assert.deepEqual([c.remoteAddr, c.remotePort], ['2001:db8::2', '5555']);
    assert.equal(resolveClient(plain('10.0.0.1'), '198.51.100.7:1234', undefined, lb).remotePort, '1234');
  });

  test('an IPv4-mapped IPv6 peer matches IPv4 entries and is shown as IPv4', () => {
    const c = resolveClient(plain('::ffff:10.1.2.3'), '198.51.100.7', undefined, lb);
    assert.equal(c.remoteAddr, '198.51.100.7');
    assert.equal(
      resolveClient(plain('::ffff:203.0.113.9'), undefined, undefined, lb).remoteAddr,
      '203.0.113.9',
    );
    assert.equal(unmapIPv4('::ffff:1.2.3.4'), '1.2.3.4');
    assert.equal(unmapIPv4('::1'), '::1');
  });

  test('X-Forwarded-Proto: the right-most value counts; unknown values change nothing', () => {
    assert.equal(resolveClient(plain('10.1.2.3'), undefined, 'https, http', lb).https, false);
    assert.equal(resolveClient(plain('10.1.2.3'), undefined, 'HTTPS', lb).https, true);
    assert.equal(
      resolveClient({ ...plain('10.1.2.3'), encrypted: true }, undefined, 'gopher', lb).https,
      true,
    );
  });

  test('with no trusted proxies configured the headers are ignored', () => {
    const none = new TrustedProxies([]);
    assert.equal(resolveClient(plain('10.1.2.3'), '198.51.100.7', 'https', none).remoteAddr, '10.1.2.3');
  });
});
