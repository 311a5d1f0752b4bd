import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Role } from '../../src/fcgi/constants.ts';
import { encodeNameValuePairs } from '../../src/fcgi/name-value.ts';
import { ParamsWriter } from '../../src/fcgi/params-writer.ts';
import {
  type CgiRequest,
  createParamsBuilder,
  type ParamsAppConfig,
  SERVER_SOFTWARE,
  translateHeaderName,
} from '../../src/gateway/cgi-params.ts';
import { resolveScript, type ScriptPath } from '../../src/gateway/script-path.ts';

const app: ParamsAppConfig = {
  docroot: '/srv/www',
  params: {},
  serverName: 'shop.example',
  trustedProxies: ['10.0.0.0/8'],
  maxParamsBytes: 64 * 1024,
};
const server = { listen: { host: '0.0.0.0', port: 8080 } };

function request(url: string, headers: string[] = [], overrides: Partial<CgiRequest> = {}): CgiRequest {
  return {
    method: 'GET',
    url,
    httpVersion: '1.1',
    rawHeaders: headers,
    socket: { remoteAddress: '203.0.113.9', remotePort: 51234, localAddress: '192.0.2.1', localPort: 8080 },
    ...overrides,
  };
}

function scriptOf(url: string): ScriptPath {
  const r = resolveScript(url.split('?')[0], {
    docroot: '/srv/www',
    index: 'index.php',
    pathInfoRegex: '^(.+?\\.php)(/.*)?$',
    scriptExtensions: ['.php'],
  });
  assert.ok(!('error' in r));
  return r;
}

/** Builds and returns the params as a Map, checking that no name appears twice. */
function build(req: CgiRequest, contentLength = 0, config: ParamsAppConfig = app): Map<string, string> {
  const r = createParamsBuilder(config, server)(req, scriptOf(req.url ?? '/'), contentLength);
  assert.ok(r.ok, JSON.stringify(r));
  const pairs = r.params.pairs();
  const map = new Map(pairs);
  assert.equal(map.size, pairs.length, 'every name is sent once');
  return map;
}

describe('CGI params', () => {
  test('every CGI variable PHP expects is set', () => {
    const p = build(
      request('/index.php/users/42?x=1&y=%2F', [
        'Host',
        'shop.example:8080',
        'Content-Type',
        'application/json',
      ]),
      17,
    );
    assert.deepEqual(Object.fromEntries(p), {
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_SOFTWARE,
      DOCUMENT_ROOT: '/srv/www',
      SERVER_NAME: 'shop.example',
      REDIRECT_STATUS: '200',
      CONTENT_LENGTH: '17',
      HTTP_HOST: 'shop.example:8080',
      CONTENT_TYPE: 'application/json',
      REQUEST_METHOD: 'GET',
      REQUEST_URI: '/index.php/users/42?x=1&y=%2F',
      QUERY_STRING: 'x=1&y=%2F',
      SCRIPT_NAME: '/index.php',
      SCRIPT_FILENAME: '/srv/www/index.php',
      DOCUMENT_URI: '/index.php/users/42',
      PATH_INFO: '/users/42',
      PATH_TRANSLATED: '/srv/www/users/42',
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '203.0.113.9',
      REMOTE_PORT: '51234',
      SERVER_ADDR: '192.0.2.1',
      SERVER_PORT: '8080',
      REQUEST_SCHEME: 'http',
    });
    assert.match(SERVER_SOFTWARE, /^fcgi-pool\/\d+\.\d+\.\d+/);
  });

  test('no PATH_INFO: neither PATH_INFO nor PATH_TRANSLATED is sent', () => {
    const p = build(request('/index.php'));
    assert.equal(p.has('PATH_INFO'), false);
    assert.equal(p.has('PATH_TRANSLATED'), false);
    assert.equal(p.get('QUERY_STRING'), '');
  });

  test('TLS connections get HTTPS=on and REQUEST_SCHEME=https', () => {
    const p = build(
      request('/x.php', [], { socket: { remoteAddress: '203.0.113.9', remotePort: 1, encrypted: true } }),
    );
    assert.equal(p.get('HTTPS'), 'on');
    assert.equal(p.get('REQUEST_SCHEME'), 'https');
  });

  test('CONTENT_LENGTH is the exact body size passed in, never the header', () => {
    const p = build(request('/x.php', ['Content-Length', '999', 'Transfer-Encoding', 'chunked']), 12);
    assert.equal(p.get('CONTENT_LENGTH'), '12');
    assert.equal(p.has('HTTP_CONTENT_LENGTH'), false);
    assert.equal(p.has('HTTP_TRANSFER_ENCODING'), false);
  });

  test('httpoxy: a Proxy header never becomes HTTP_PROXY', () => {
    const p = build(request('/x.php', ['Proxy', 'http://evil:3128', 'proxy', 'http://evil:3128']));
    assert.equal(p.has('HTTP_PROXY'), false);
  });

  test('header names with "_" or "." are dropped so they cannot alias X-Foo', () => {
    const p = build(request('/x.php', ['X_Foo', 'under', 'X.Foo', 'dot', 'X-Foo', 'real']));
    assert.equal(p.get('HTTP_X_FOO'), 'real');
    const q = build(request('/x.php', ['X_Foo', 'under', 'X.Foo', 'dot']));
    assert.equal(q.has('HTTP_X_FOO'), false);
  });

  test('a header cannot produce a generated param, and PHP_VALUE never comes from the client', () => {
    const p = build(
      request('/x.php', [
        'PHP_VALUE',
        'auto_prepend_file=/etc/passwd',
        'PHP-VALUE',
        'auto_prepend_file=/etc/passwd',
        'PHP_ADMIN_VALUE',
        'x',
        'Script-Filename',
        '/etc/passwd',
        'Remote-Addr',
        '1.1.1.1',
      ]),
    );
    assert.equal(p.has('PHP_VALUE'), false);
    assert.equal(p.has('PHP_ADMIN_VALUE'), false);
    assert.equal(p.get('SCRIPT_FILENAME'), '/srv/www/x.php');
    assert.equal(p.get('REMOTE_ADDR'), '203.0.113.9');
    assert.equal(p.get('HTTP_SCRIPT_FILENAME'), '/etc/passwd', 'it stays a harmless HTTP_ variable');
  });

  test('configured params may set PHP_VALUE and win over generated ones and headers', () => {
    const config = {
      ...app,
      params: { PHP_VALUE: 'memory_limit=256M', HTTPS: 'on', HTTP_HOST: 'pinned.example' },
    };
    const p = build(request('/x.php', ['Host', 'attacker.example']), 0, config);
    assert.equal(p.get('PHP_VALUE'), 'memory_limit=256M');
    assert.equal(p.get('HTTPS'), 'on');
    assert.equal(p.get('HTTP_HOST'), 'pinned.example');
  });

  test('repeated headers are joined with ", ", cookies with "; "', () => {
    const p = build(
      request('/x.php', ['Accept', 'text/html', 'Cookie', 'a=1', 'accept', 'text/plain', 'cookie', 'b=2']),
    );
    assert.equal(p.get('HTTP_ACCEPT'), 'text/html, text/plain');
    assert.equal(p.get('HTTP_COOKIE'), 'a=1; b=2');
  });

  test('one builder, request after request: a header repeated in one is not joined into the next', () => {
    const builder = createParamsBuilder(app, server);
    const params = (req: CgiRequest) => {
      const r = builder(req, scriptOf('/x.php'), 0);
      assert.ok(r.ok);
      return new Map(r.params.pairs());
    };
    assert.equal(params(request('/x.php', ['Accept', 'a', 'accept', 'b'])).get('HTTP_ACCEPT'), 'a, b');
    const second = params(request('/x.php', ['Cookie', 'c=1', 'ACCEPT', 'c']));
    assert.equal(second.get('HTTP_ACCEPT'), 'c');
    assert.equal(second.get('HTTP_COOKIE'), 'c=1');
    assert.equal(params(request('/x.php', ['Accept', 'd'])).get('HTTP_ACCEPT'), 'd');
  });

  test('hop-by-hop headers are not passed', () => {
    const p = build(
      request('/x.php', ['Connection', 'keep-alive', 'Keep-Alive', '5', 'Upgrade', 'h2c', 'TE', 'trailers']),
    );
    for (const name of ['HTTP_CONNECTION', 'HTTP_KEEP_ALIVE', 'HTTP_UPGRADE', 'HTTP_TE'])
      assert.equal(p.has(name), false);
  });

  test('SERVER_NAME comes from the configuration, not from Host', () => {
    assert.equal(build(request('/x.php', ['Host', 'attacker.example'])).get('SERVER_NAME'), 'shop.example');
  });

  test('behind a trusted proxy the client address and scheme are the forwarded ones', () => {
    const req = request('/x.php', ['X-Forwarded-For', '198.51.100.7', 'X-Forwarded-Proto', 'https'], {
      socket: { remoteAddress: '10.1.1.1', remotePort: 5000 },
    });
    const p = build(req);
    assert.equal(p.get('REMOTE_ADDR'), '198.51.100.7');
    assert.equal(p.get('HTTPS'), 'on');
    assert.equal(p.get('HTTP_X_FORWARDED_FOR'), '198.51.100.7', 'the header itself is still passed');
    const untrusted = build(
      request('/x.php', ['X-Forwarded-For', '198.51.100.7', 'X-Forwarded-Proto', 'https']),
    );
    assert.equal(untrusted.get('REMOTE_ADDR'), '203.0.113.9');
    assert.equal(untrusted.has('HTTPS'), false);
  });

  test('UTF-8 bytes in headers and paths reach PHP as the same bytes', () => {
    const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1'); // how Node hands them over
    const p = build(request(latin1('/café.php?q=ü'), ['X-Name', latin1('Zoë')]));
    assert.equal(p.get('HTTP_X_NAME'), 'Zoë');
    assert.equal(p.get('REQUEST_URI'), '/café.php?q=ü');
    assert.equal(p.get('SCRIPT_FILENAME'), '/srv/www/café.php');
  });

  test('header bytes that are not UTF-8 are a 400, not silently changed', () => {
    const r = createParamsBuilder(app, server)(
      request('/x.php', ['X-Name', 'Zo\xeb']),
      scriptOf('/x.php'),
      0,
    );
    assert.deepEqual(r.ok ? 'ok' : r.status, 400);
  });

  test('params over the limit are a 431, never truncated', () => {
    const small = { ...app, maxParamsBytes: 2048 };
    const r = createParamsBuilder(small, server)(
      request('/x.php', ['X-Big', 'a'.repeat(4000)]),
      scriptOf('/x.php'),
      0,
    );
    assert.deepEqual(r.ok ? 'ok' : r.status, 431);
    const huge = createParamsBuilder({ ...app, maxParamsBytes: 1 << 20 }, server);
    const r2 = huge(request('/x.php', ['X-Big', 'a'.repeat(70_000)]), scriptOf('/x.php'), 0);
    assert.deepEqual(r2.ok ? 'ok' : r2.status, 431, 'one pair must fit one FastCGI record');
  });

  test('the reported size is the exact encoded size', () => {
    const r = createParamsBuilder(app, server)(
      request('/index.php/%C3%A9?q', [
        'Cookie',
        'a=1',
        'cookie',
        `b=${'x'.repeat(200)}`,
        'X-A',
        Buffer.from('é').toString('latin1'),
      ]),
      scriptOf('/index.php/%C3%A9'),
      5,
    );
    assert.ok(r.ok);
    const encoded = encodeNameValuePairs(r.params.pairs()).reduce((n, b) => n + b.length, 0);
    assert.equal(r.params.bytes, encoded);
    assert.equal(r.params.value(r.contentLengthIndex), '5');
    // the sizes measured while building encode exactly what measuring each string again would
    assert.deepEqual(
      r.params.encode().finish(1, Role.RESPONDER, 0),
      ParamsWriter.from(r.params.pairs()).finish(1, Role.RESPONDER, 0),
    );
  });

  test('absolute-form targets give an origin-form REQUEST_URI', () => {
    const req = request('http://shop.example/x.php?a=1');
    const r = createParamsBuilder(app, server)(req, scriptOf('/x.php'), 0);
    assert.ok(r.ok);
    const p = new Map(r.params.pairs());
    assert.equal(p.get('REQUEST_URI'), '/x.php?a=1');
    assert.equal(p.get('QUERY_STRING'), 'a=1');
  });

  test('header names translate like nginx', () => {
    assert.equal(translateHeaderName('User-Agent'), 'HTTP_USER_AGENT');
    assert.equal(translateHeaderName('x-forwarded-for'), 'HTTP_X_FORWARDED_FOR');
    assert.equal(translateHeaderName('Content-Type'), 'CONTENT_TYPE');
    assert.equal(translateHeaderName('X!Odd'), null);
  });
});
