import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress, parseBackendAddress, parseListenAddress } from '../../src/config/address.ts';
import { formatByteSize, parseBoolean, parseByteSize } from '../../src/config/units.ts';

test('sizes are read the way php.ini and nginx write them (powers of 1024)', () => {
  assert.equal(parseByteSize('8m'), 8 * 1024 * 1024);
  assert.equal(parseByteSize('8M'), 8 * 1024 * 1024);
  assert.equal(parseByteSize('8MiB'), 8 * 1024 * 1024);
  assert.equal(parseByteSize('512k'), 512 * 1024);
  assert.equal(parseByteSize('1g'), 1024 ** 3);
  assert.equal(parseByteSize('1234'), 1234);
  assert.equal(parseByteSize('-1'), undefined);
  assert.equal(parseByteSize('1.5m'), undefined);
  assert.equal(parseByteSize('8 parsecs'), undefined);
  for (const n of [0, 1000, 1024, 8 * 1024 * 1024, 3 * 1024 ** 3])
    assert.equal(parseByteSize(formatByteSize(n)), n);
});

test('on/off switches accept the usual spellings and nothing else', () => {
  for (const t of ['on', 'ON', 'true', 'yes', '1']) assert.equal(parseBoolean(t), true);
  for (const t of ['off', 'False', 'no', '0']) assert.equal(parseBoolean(t), false);
  assert.equal(parseBoolean('maybe'), undefined);
});

test('backend addresses: TCP, bracketed IPv6, DNS names and unix sockets', () => {
  assert.deepEqual(parseBackendAddress('127.0.0.1:9000'), { kind: 'tcp', host: '127.0.0.1', port: 9000 });
  assert.deepEqual(parseBackendAddress('[::1]:9000'), { kind: 'tcp', host: '::1', port: 9000 });
  assert.deepEqual(parseBackendAddress('php-fpm.default.svc.cluster.local:9000'), {
    kind: 'tcp',
    host: 'php-fpm.default.svc.cluster.local',
    port: 9000,
  });
  assert.deepEqual(parseBackendAddress('unix:/run/php/php-fpm.sock'), {
    kind: 'unix',
    path: '/run/php/php-fpm.sock',
  });
  assert.throws(() => parseBackendAddress(`unix:/${'x'.repeat(200)}`), /longer than 107 bytes/);
  for (const text of ['[::1]:9000', '10.1.2.3:9000', 'unix:/run/fpm.sock', 'fpm:9000']) {
    assert.equal(formatAddress(parseBackendAddress(text)), text);
  }
});

test('listen addresses allow port 0 and the ":port" shorthand', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListenAddress(':8080'), { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(parseListenAddress('[::]:8080'), { host: '::', port: 8080 });
  assert.throws(() => parseListenAddress('8080'), /needs a port/);
});
