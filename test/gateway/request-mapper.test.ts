import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULTS } from '../../src/config/schema.ts';
import { encodeNameValuePairs } from '../../src/fcgi/name-value.ts';
import { RequestMapper } from '../../src/gateway/request-mapper.ts';

const mapper = new RequestMapper({ app: DEFAULTS.app, listen: { host: '127.0.0.1', port: 8080 } });
const req = (url: string, rawHeaders: string[] = []) => ({
  method: 'POST',
  url,
  httpVersion: '1.1',
  rawHeaders,
  socket: { remoteAddress: '127.0.0.1', remotePort: 4000, localAddress: '127.0.0.1', localPort: 8080 },
});

test('a script request maps to params whose CONTENT_LENGTH is the body actually sent', () => {
  const m = mapper.map(req('/shop/index.php/cart?id=3', ['Content-Length', '10']));
  assert.ok(!('error' in m));
  assert.equal(m.script.scriptFilename, '/srv/www/shop/index.php');
  const list = m.params(42);
  const params = new Map(list.pairs());
  assert.equal(params.get('CONTENT_LENGTH'), '42');
  assert.equal(
    list.bytes,
    encodeNameValuePairs(list.pairs()).reduce((n, b) => n + b.length, 0),
    'the encoded size follows the patched CONTENT_LENGTH',
  );
  assert.equal(params.get('PATH_INFO'), '/cart');
  assert.equal(params.get('SERVER_NAME'), '127.0.0.1');
});

test('refusals carry the HTTP status to answer with', () => {
  const cases: Array<[string, string[], number, string]> = [
    ['/../etc/passwd', [], 403, 'forbidden'],
    ['/index.php/PHP%0Ais_the_shortest_idea', [], 400, 'bad-path'],
    ['/logo.png', [], 404, 'not-script'],
    ['*', [], 400, 'bad-target'],
    ['/x.php', ['X-Big', 'a'.repeat(70 * 1024)], 431, 'too-large'],
    ['/x.php', ['X-Name', 'Zo\xeb'], 400, 'bad-header'],
  ];
  for (const [url, headers, status, error] of cases) {
    const m = mapper.map(req(url, headers));
    assert.ok('error' in m, url);
    assert.deepEqual([m.status, m.error], [status, error], url);
  }
  const m = mapper.map(req('/assets/logo.png'));
  assert.ok('error' in m);
  assert.equal(m.documentUri, '/assets/logo.png', 'where a static file would be looked up');
});
