import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveScript, type ScriptPathConfig, splitRequestTarget } from '../../src/gateway/script-path.ts';

const app: ScriptPathConfig = {
  docroot: '/srv/www',
  index: 'index.php',
  pathInfoRegex: '^(.+?\\.php)(/.*)?$',
  scriptExtensions: ['.php'],
};

const resolve = (path: string) => resolveScript(path, app);

function errorOf(path: string): string {
  const r = resolve(path);
  assert.ok('error' in r, `${path} should be refused, got ${JSON.stringify(r)}`);
  return r.error;
}

describe('resolveScript', () => {
  test('a plain script maps to a file under the docroot', () => {
    assert.deepEqual(resolve('/hello.php'), {
      scriptName: '/hello.php',
      scriptFilename: '/srv/www/hello.php',
      pathInfo: '',
      documentUri: '/hello.php',
    });
  });

  test('a directory URI gets the index file', () => {
    assert.deepEqual(resolve('/'), {
      scriptName: '/index.php',
      scriptFilename: '/srv/www/index.php',
      pathInfo: '',
      documentUri: '/index.php',
    });
    assert.equal((resolve('/blog/') as { scriptName: string }).scriptName, '/blog/index.php');
  });

  test('PATH_INFO is split off after the script', () => {
    assert.deepEqual(resolve('/index.php/users/42'), {
      scriptName: '/index.php',
      scriptFilename: '/srv/www/index.php',
      pathInfo: '/users/42',
      documentUri: '/index.php/users/42',
    });
    // the first ".php" that ends a segment is the script
    assert.equal((resolve('/a.php.bak/b.php/c') as { scriptName: string }).scriptName, '/a.php.bak/b.php');
  });

  test('PATH_INFO is decoded and normalised like the rest of the path', () => {
    const r = resolve('/index.php/caf%C3%A9//x/./y');
    assert.ok(!('error' in r));
    assert.equal(r.pathInfo, '/café/x/y');
  });

  test('/x.jpg/y.php names y.php, never the image', () => {
    const r = resolve('/upload/evil.jpg/x.php');
    assert.ok(!('error' in r));
    assert.equal(r.scriptName, '/upload/evil.jpg/x.php');
    assert.equal(r.scriptFilename, '/srv/www/upload/evil.jpg/x.php');
    assert.equal(r.pathInfo, '');
  });

  test('a path that is not a script is never sent as one', () => {
    assert.equal(errorOf('/upload/evil.jpg'), 'not-script');
    assert.equal(errorOf('/x.php.jpg'), 'not-script');
    assert.equal(errorOf('/x.PHP'), 'not-script', 'extensions match case-sensitively, as php-fpm does');
    const r = resolve('/assets/app.css');
    assert.ok('error' in r);
    assert.equal(r.documentUri, '/assets/app.css', 'static-file lookups get the normalised path');
  });

  test('traversal above the docroot is forbidden', () => {
    assert.equal(errorOf('/../../etc/passwd'), 'forbidden');
    assert.equal(errorOf('/a/../../etc/passwd'), 'forbidden');
    assert.equal(errorOf('/%2e%2e/%2e%2e/etc/passwd'), 'forbidden');
    assert.equal(
      errorOf('/%2E%2E%2Fetc%2Fpasswd'),
      'forbidden',
      'an encoded slash is still a separator after decoding',
    );
    assert.equal(errorOf('/x.php/../../../etc/passwd'), 'forbidden', 'normalised before the split');
  });

  test('traversal that stays inside the docroot is resolved', () => {
    assert.equal((resolve('/a/b/../c.php') as { scriptFilename: string }).scriptFilename, '/srv/www/a/c.php');
    assert.equal((resolve('//a///./c.php') as { scriptFilename: string }).scriptFilename, '/srv/www/a/c.php');
  });

  test('percent-encoding is decoded exactly once', () => {
    const r = resolve('/%252e%252e/x.php');
    assert.ok(!('error' in r));
    assert.equal(r.scriptName, '/%2e%2e/x.php', '%252e is the literal text %2e, not a dot');
  });

  test('NUL is refused (%00 used to truncate file names in C)', () => {
    assert.equal(errorOf('/index.php%00.jpg'), 'bad-path');
  });

  test('CR/LF are refused: the CVE-2019-11043 payload never reaches php-fpm', () => {
    assert.equal(errorOf('/index.php/PHP%0Ais_the_shortest_idea'), 'bad-path');
    assert.equal(errorOf('/index.php/PHP%0ais_the_shortest_idea'), 'bad-path');
    assert.equal(errorOf('/a%0d.php'), 'bad-path');
  });

  test('bad encodings are refused', () => {
    assert.equal(errorOf('/%zz.php'), 'bad-path');
    assert.equal(errorOf('/%C3.php'), 'bad-path', 'a cut UTF-8 sequence');
    assert.equal(errorOf('/\xff.php'), 'bad-path', 'a raw byte that is not UTF-8');
    assert.equal(errorOf('index.php'), 'bad-path');
  });

  test('raw UTF-8 bytes in the request line are read as UTF-8', () => {
    const raw = Buffer.from('/café.php', 'utf8').toString('latin1'); // how Node hands them over
    assert.equal((resolve(raw) as { scriptName: string }).scriptName, '/café.php');
  });

  test('the split is on the real path, never a case-folded copy', () => {
    // "İ" lower-cases to two UTF-16 units; splitting a folded copy would shift every index.
    const r = resolve('/%C4%B0%C4%B0/x.php/rest');
    assert.ok(!('error' in r));
    assert.equal(r.scriptName, '/İİ/x.php');
    assert.equal(r.pathInfo, '/rest');
  });

  test('a custom regex whose group is not a whole segment does not split mid-name', () => {
    const r = resolveScript('/a.phpx/b', { ...app, pathInfoRegex: '^(.+\\.php)(.*)$' });
    assert.ok('error' in r);
    assert.equal(r.error, 'not-script');
  });

  test('a docroot of "/" does not double the slash', () => {
    const r = resolveScript('/x.php', { ...app, docroot: '/' });
    assert.equal((r as { scriptFilename: string }).scriptFilename, '/x.php');
  });
});

describe('splitRequestTarget', () => {
  test('separates path and query, keeping both encoded', () => {
    assert.deepEqual(splitRequestTarget('/a%20b.php?x=1&y=%2F'), { path: '/a%20b.php', query: 'x=1&y=%2F' });
    assert.deepEqual(splitRequestTarget('/'), { path: '/', query: '' });
    assert.deepEqual(splitRequestTarget('/?'), { path: '/', query: '' });
  });

  test('absolute-form is reduced to its path', () => {
    assert.deepEqual(splitRequestTarget('http://example.com/x.php?q'), { path: '/x.php', query: 'q' });
    assert.deepEqual(splitRequestTarget('http://example.com'), { path: '/', query: '' });
  });

  test('targets without a path are refused', () => {
    assert.equal(splitRequestTarget('*'), undefined);
    assert.equal(splitRequestTarget('example.com:443'), undefined);
  });
});
