import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createScriptChecker } from '../../src/gateway/script-check.ts';

const base = mkdtempSync(join(tmpdir(), 'fcgi-pool-docroot-'));
after(() => rmSync(base, { recursive: true, force: true }));
const docroot = join(base, 'www');
mkdirSync(join(docroot, 'upload'), { recursive: true });
writeFileSync(join(docroot, 'index.php'), '<?php echo 1;');
writeFileSync(join(docroot, 'upload', 'evil.jpg'), '<?php system($_GET["c"]);');
writeFileSync(join(base, 'secret.php'), '<?php');
symlinkSync(join(base, 'secret.php'), join(docroot, 'link.php'));

test('an existing script under the docroot passes', async () => {
  const check = createScriptChecker(docroot, { ttlMs: 0 });
  assert.equal(await check(join(docroot, 'index.php')), 'ok');
});

test('a missing script is caught before php-fpm can fall back to a parent file', async () => {
  const check = createScriptChecker(docroot, { ttlMs: 0 });
  assert.equal(await check(join(docroot, 'upload/evil.jpg/x.php')), 'missing');
  assert.equal(await check(join(docroot, 'upload')), 'missing', 'a directory is not a script');
});

test('a symlink leading out of the docroot is refused', async () => {
  const check = createScriptChecker(docroot, { ttlMs: 0 });
  assert.equal(await check(join(docroot, 'link.php')), 'outside');
});

test('answers are reused for the cache lifetime, then looked up again', async () => {
  let t = 0;
  const check = createScriptChecker(docroot, { ttlMs: 1000, now: () => t });
  const file = join(docroot, 'new.php');
  writeFileSync(file, '<?php');
  assert.equal(await check(file), 'ok');
  unlinkSync(file);
  t = 500;
  assert.equal(await check(file), 'ok', 'cached');
  t = 1500;
  assert.equal(await check(file), 'missing');
});
