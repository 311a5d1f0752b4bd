// app.staticFiles against a real docroot next to a real php-fpm: files that are not scripts are
// served here (as nginx try_files does), with validators and byte ranges; scripts still go to
// php-fpm; nothing outside the docroot, no hidden file, no script source and no listing leaks.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type PhpFpm, startPhpFpm } from '../helpers/php-fpm.ts';
import { send, startTestGateway, type TestGateway } from './gateway-harness.ts';

let fpm: PhpFpm;
let gw: TestGateway;
const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

before(async () => {
  fpm = await startPhpFpm({ children: 2 });
  const d = fpm.docroot;
  mkdirSync(join(d, 'assets/img'), { recursive: true });
  mkdirSync(join(d, '.well-known'));
  writeFileSync(join(d, 'assets/style.css'), 'body { color: red }\n');
  writeFileSync(join(d, 'assets/data.bin'), data);
  writeFileSync(join(d, 'assets/a b.txt'), 'spaced\n');
  writeFileSync(join(d, '.env'), 'DB_PASSWORD=hunter2\n');
  writeFileSync(join(d, '.well-known/acme.txt'), 'token\n');
  writeFileSync(join(d, 'config.php.bak'), '<?php $password = "hunter2";\n');
  writeFileSync(join(d, 'Echo.PHP'), '<?php $password = "hunter2";\n');
  symlinkSync('/etc/passwd', join(d, 'assets/passwd'));
  gw = await startTestGateway({ servers: [fpm.address], app: { docroot: d, staticFiles: true } });
});

after(async () => {
  await gw?.stop();
  await fpm?.stop();
});

test('a file is served with its type, length and validators; a script still runs in php-fpm', async () => {
  const css = await send(gw.port, '/assets/style.css');
  assert.equal(css.status, 200);
  assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
  assert.equal(css.headers['content-length'], '20');
  assert.equal(css.headers['accept-ranges'], 'bytes');
  assert.match(css.headers.etag ?? '', /^"[0-9a-f]+-14"$/);
  assert.ok(css.headers['last-modified']);
  assert.equal(css.body.toString(), 'body { color: red }\n');
  assert.equal((await send(gw.port, '/assets/a%20b.txt')).body.toString(), 'spaced\n');
  assert.equal((await send(gw.port, '/hello.php')).body.toString(), 'hello\n');
  const head = await send(gw.port, '/assets/data.bin', { method: 'HEAD' });
  assert.equal(head.headers['content-length'], '1000');
  assert.equal(head.headers['content-type'], 'application/octet-stream');
  assert.equal(head.body.length, 0);
});

test('If-None-Match and If-Modified-Since answer 304 without a body', async () => {
  const first = await send(gw.port, '/assets/style.css');
  const etag = await send(gw.port, '/assets/style.css', { headers: { 'If-None-Match': first.headers.etag } });
  assert.equal(etag.status, 304);
  assert.equal(etag.body.length, 0);
  const date = await send(gw.port, '/assets/style.css', {
    headers: { 'If-Modified-Since': first.headers['last-modified'] },
  });
  assert.equal(date.status, 304);
  const changed = await send(gw.port, '/assets/style.css', { headers: { 'If-None-Match': '"other"' } });
  assert.equal(changed.status, 200);
});

test('Range: one range is a 206 with exactly those bytes; outside the file is a 416', async () => {
  const mid = await send(gw.port, '/assets/data.bin', { headers: { Range: 'bytes=10-19' } });
  assert.equal(mid.status, 206);
  assert.equal(mid.headers['content-range'], 'bytes 10-19/1000');
  assert.deepEqual(mid.body, data.subarray(10, 20));
  const suffix = await send(gw.port, '/assets/data.bin', { headers: { Range: 'bytes=-100' } });
  assert.equal(suffix.headers['content-range'], 'bytes 900-999/1000');
  assert.deepEqual(suffix.body, data.subarray(900));
  const open = await send(gw.port, '/assets/data.bin', { headers: { Range: 'bytes=990-' } });
  assert.deepEqual(open.body, data.subarray(990));
  const beyond = await send(gw.port, '/assets/data.bin', { headers: { Range: 'bytes=5000-' } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers['content-range'], 'bytes */1000');
  const stale = await send(gw.port, '/assets/data.bin', {
    headers: { Range: 'bytes=0-9', 'If-Range': '"old"' },
  });
  assert.equal(stale.status, 200, 'a stale If-Range gets the whole file');
  assert.equal(stale.body.length, 1000);
  const several = await send(gw.port, '/assets/data.bin', { headers: { Range: 'bytes=0-1,5-6' } });
  assert.equal(several.status, 200, 'several ranges: the whole file');
});

test('only GET and HEAD; a directory redirects to its "/" form and is never listed', async () => {
  const post = await send(gw.port, '/assets/style.css', { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  const dir = await send(gw.port, '/assets?x=1');
  assert.equal(dir.status, 301);
  assert.equal(dir.headers.location, '/assets/?x=1');
  const listing = await send(gw.port, '/assets/img/');
  assert.equal(listing.status, 404, 'its index script does not exist');
  assert.ok(!listing.body.toString().includes('style.css'));
});

test('hidden files, script sources, missing files and paths out of the docroot are 404 or 403', async () => {
  const cases: Array<[string, number]> = [
    ['/.env', 404],
    ['/config.php.bak', 404],
    ['/Echo.PHP', 404],
    ['/assets/passwd', 404],
    ['/assets/nope.css', 404],
    ['/assets/%2e%2e/%2e%2e/etc/passwd', 403],
    ['/..%2f..%2fetc%2fpasswd', 403],
  ];
  for (const [path, status] of cases) {
    const r = await send(gw.port, path);
    assert.equal(r.status, status, path);
    const text = r.body.toString();
    assert.ok(!text.includes('hunter2') && !text.includes('root:'), path);
  }
  const acme = await send(gw.port, '/.well-known/acme.txt');
  assert.equal(acme.status, 200, '.well-known is served');
});
