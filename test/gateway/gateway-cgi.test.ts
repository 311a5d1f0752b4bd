// The HTTP → FastCGI mapping against a real php-fpm running real scripts: every CGI variable
// echo.php sees, and the requests that must never reach PHP as they were sent (traversal,
// NUL and CR/LF, header aliasing, httpoxy, PHP_VALUE from a client, oversized params).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SERVER_SOFTWARE } from '../../src/gateway/cgi-params.ts';
import { type PhpFpm, startPhpFpm } from '../helpers/php-fpm.ts';
import { freePort, json, send, sendRaw, startTestGateway, type TestGateway } from './gateway-harness.ts';

let fpm: PhpFpm;
/** Defaults, plus extra params (one of them PHP_VALUE) and a fixed SERVER_NAME. */
let plain: TestGateway;
/** Trusts 127.0.0.1 as a proxy, checks that scripts exist, no PATH_INFO split, small params. */
let strict: TestGateway;

before(async () => {
  // two gateways, two connections each: together never more than php-fpm's children, or an
  // idle kept connection of one would pin a child the other waits for (DESIGN.md §1)
  fpm = await startPhpFpm({ children: 4 });
  mkdirSync(join(fpm.docroot, 'sub'));
  writeFileSync(join(fpm.docroot, 'sub/index.php'), '<?php echo $_SERVER["SCRIPT_NAME"], "\\n";');
  mkdirSync(join(fpm.docroot, 'upload'));
  writeFileSync(join(fpm.docroot, 'upload/evil.jpg'), '<?php echo "PWNED";');
  plain = await startTestGateway({
    servers: [fpm.address],
    serverDefaults: { maxConnections: 2 },
    app: {
      docroot: fpm.docroot,
      serverName: 'gw.test',
      params: { APP_ENV: 'test', PHP_VALUE: 'memory_limit=300M', HTTP_X_FORCED: 'from-config' },
    },
  });
  strict = await startTestGateway({
    servers: [fpm.address],
    serverDefaults: { maxConnections: 2 },
    app: {
      docroot: fpm.docroot,
      trustedProxies: ['127.0.0.1'],
      checkScriptExists: true,
      pathInfoRegex: '^(.+\\.php)$',
      maxParamsBytes: 2048,
    },
  });
});

after(async () => {
  await plain?.stop();
  await strict?.stop();
  await fpm?.stop();
});

describe('every CGI variable reaches PHP as nginx fastcgi_params would set it', () => {
  test('a POST with PATH_INFO, a query, a body and headers', async () => {
    const localPort = await freePort();
    const reply = await send(plain.port, '/echo.php/extra/p%20ath?a=1&b=%20x', {
      method: 'POST',
      localPort,
      headers: [
        ['Content-Type', 'text/plain'],
        ['X-Custom', 'v'],
        ['Cookie', 'a=1'],
        ['Cookie', 'b=2'],
        ['Accept-Language', 'fr'],
        ['X-Forced', 'from-client'],
      ],
      body: 'hello',
    });
    assert.equal(reply.status, 200);
    const { params, bodyLength } = JSON.parse(reply.body.toString('utf8')) as {
      params: Record<string, string>;
      bodyLength: number;
    };
    const d = fpm.docroot;
    const expected: Record<string, string> = {
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_SOFTWARE,
      REQUEST_SCHEME: 'http',
      DOCUMENT_ROOT: d,
      SCRIPT_FILENAME: `${d}/echo.php`,
      SCRIPT_NAME: '/echo.php',
      PATH_INFO: '/extra/p ath',
      PATH_TRANSLATED: `${d}/extra/p ath`,
      REQUEST_URI: '/echo.php/extra/p%20ath?a=1&b=%20x',
      DOCUMENT_URI: '/echo.php/extra/p ath',
      QUERY_STRING: 'a=1&b=%20x',
      REQUEST_METHOD: 'POST',
      CONTENT_TYPE: 'text/plain',
      CONTENT_LENGTH: '5',
      SERVER_NAME: 'gw.test',
      SERVER_ADDR: '127.0.0.1',
      SERVER_PORT: String(plain.port),
      SERVER_PROTOCOL: 'HTTP/1.1',
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_PORT: String(localPort),
      REDIRECT_STATUS: '200',
      HTTP_HOST: `127.0.0.1:${plain.port}`,
      HTTP_X_CUSTOM: 'v',
      HTTP_COOKIE: 'a=1; b=2',
      HTTP_ACCEPT_LANGUAGE: 'fr',
      APP_ENV: 'test',
      HTTP_X_FORCED: 'from-config',
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(params[name], value, name);
    assert.equal(params.HTTPS, undefined, 'HTTPS is set only for https');
    assert.equal(bodyLength, 5);
  });

  test('a directory path runs its index script', async () => {
    const root = await send(plain.port, '/');
    assert.equal(root.status, 200);
    assert.equal(root.body.toString(), 'Hello, world!\n');
    const sub = await send(plain.port, '/sub/?x=1');
    assert.equal(sub.status, 200);
    assert.equal(sub.body.toString(), '/sub/index.php\n');
  });

  test('PATH_INFO follows the configured split regex: one that never splits leaves /x.php/y unmapped', async () => {
    const split = json(await send(plain.port, '/echo.php/y'));
    assert.equal(split.params.PATH_INFO, '/y');
    assert.equal((await send(strict.port, '/echo.php/y')).status, 404);
    const whole = json(await send(strict.port, '/echo.php'));
    assert.equal(whole.params.PATH_INFO, undefined);
  });

  test('X-Forwarded-For and -Proto are believed only from a trusted proxy', async () => {
    const headers = { 'X-Forwarded-For': '198.51.100.9, 203.0.113.7', 'X-Forwarded-Proto': 'https' };
    const trusted = json(await send(strict.port, '/echo.php', { headers }));
    assert.equal(trusted.params.REMOTE_ADDR, '203.0.113.7');
    assert.equal(trusted.params.HTTPS, 'on');
    assert.equal(trusted.params.REQUEST_SCHEME, 'https');
    const untrusted = json(await send(plain.port, '/echo.php', { headers }));
    assert.equal(untrusted.params.REMOTE_ADDR, '127.0.0.1');
    assert.equal(untrusted.params.HTTPS, undefined);
    assert.equal(untrusted.params.REQUEST_SCHEME, 'http');
  });
});

describe('what a client sends never reaches PHP where it could do harm', () => {
  test('generated params win over headers of the same meaning; Proxy is never HTTP_PROXY (httpoxy)', async () => {
    const p = json(
      await send(plain.port, '/echo.php', {
        headers: {
          Proxy: 'http://evil.example:8080',
          'Script-Filename': '/etc/passwd',
          'Remote-Addr': '10.6.6.6',
          Https: 'on',
        },
      }),
    ).params;
    assert.equal(p.HTTP_PROXY, undefined);
    assert.equal(p.SCRIPT_FILENAME, `${fpm.docroot}/echo.php`);
    assert.equal(p.REMOTE_ADDR, '127.0.0.1');
    assert.equal(p.HTTPS, undefined);
    assert.equal(p.HTTP_SCRIPT_FILENAME, '/etc/passwd', 'a header only ever becomes HTTP_*');
  });

  test('header names with "_" or "." cannot alias a real header', async () => {
    const p = json(
      await send(plain.port, '/echo.php', {
        headers: [
          ['X_Foo', 'underscore'],
          ['X.Foo', 'dot'],
          ['X-Foo', 'real'],
        ],
      }),
    ).params;
    assert.equal(p.HTTP_X_FOO, 'real');
  });

  test('only the configuration sets PHP_VALUE: a client header cannot change ini settings', async () => {
    const headers = [
      ['PHP-Value', 'memory_limit=1M'],
      ['PHP_VALUE', 'auto_prepend_file=/etc/passwd'],
      ['PHP-Admin-Value', 'max_execution_time=1'],
    ] as Array<[string, string]>;
    const ini = json<Record<string, string>>(await send(plain.port, '/ini.php', { headers }));
    assert.deepEqual(ini, { memory_limit: '300M', auto_prepend_file: '', max_execution_time: '30' });
    const p = json(await send(plain.port, '/echo.php', { headers })).params;
    assert.equal(p.PHP_VALUE, 'memory_limit=300M');
    assert.equal(p.PHP_ADMIN_VALUE, undefined);
  });

  test('paths are decoded once, normalised and confined to the docroot', async () => {
    const cases: Array<[string, number]> = [
      ['/../hello.php', 403],
      ['/%2e%2e/%2e%2e/etc/passwd.php', 403],
      ['/sub/%2e%2e/%2e%2e/hello.php', 403],
      ['/hello.php%2f..%2f..%2fx.php', 403],
      ['/hello.php%00.txt', 400],
      ['/hello.php%0d%0a.php', 400],
      // CVE-2019-11043: a %0a that broke nginx's split regex
      ['/index.php/PHP%0Ais_the_shortest_idea', 400],
      ['/%zz.php', 400],
    ];
    for (const [path, status] of cases) {
      const r = await send(plain.port, path);
      assert.equal(r.status, status, path);
      assert.ok(!r.body.toString().includes('Hello'), path);
    }
    // "%252e" is decoded once, to the literal name "%2e%2e", which does not exist
    assert.equal((await send(plain.port, '/%252e%252e/hello.php')).status, 404);
    const inside = json(await send(plain.port, '/sub/../sub/./../echo.php'));
    assert.equal(inside.params.SCRIPT_FILENAME, `${fpm.docroot}/echo.php`);
  });

  test('cgi.fix_pathinfo tricks: /upload/evil.jpg/x.php never runs evil.jpg', async () => {
    const checked = await send(strict.port, '/upload/evil.jpg/x.php');
    assert.equal(checked.status, 404, 'checkScriptExists answers before php-fpm is asked');
    assert.ok(!checked.body.toString().includes('PWNED'));
    const unchecked = await send(plain.port, '/upload/evil.jpg/x.php');
    assert.ok(unchecked.status >= 400, `php-fpm's limit_extensions refuses it (${unchecked.status})`);
    assert.ok(!unchecked.body.toString().includes('PWNED'));
    assert.equal((await send(plain.port, '/upload/evil.jpg')).status, 404, 'not a script');
  });

  test('a missing script is a 404 ("Primary script unknown"), with or without the local check', async () => {
    const fromFpm = await send(plain.port, '/nope.php');
    assert.equal(fromFpm.status, 404);
    const local = await send(strict.port, '/nope.php');
    assert.equal(local.status, 404);
    assert.match(local.body.toString(), /no script at \/nope\.php/);
  });

  test('oversized headers or params are a 431, never truncated', async () => {
    const huge = await send(plain.port, '/echo.php', { headers: { 'X-Big': 'a'.repeat(20_000) } });
    assert.equal(huge.status, 431, 'over app.maxHeaderBytes');
    const params = await send(strict.port, '/echo.php', { headers: { 'X-Big': 'a'.repeat(3000) } });
    assert.equal(params.status, 431, 'over app.maxParamsBytes');
    const fits = json(await send(plain.port, '/echo.php', { headers: { 'X-Big': 'a'.repeat(3000) } }));
    assert.equal(fits.params.HTTP_X_BIG.length, 3000);
  });

  test('a request with both Content-Length and Transfer-Encoding is refused (desync)', async () => {
    const answer = await sendRaw(
      plain.port,
      'POST /echo.php HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    assert.match(answer, /^HTTP\/1\.1 400 /);
  });

  test('a request with two Host headers is a 400: no one guesses which site it names', async () => {
    for (const [method, more] of [
      ['GET', ''],
      ['POST', 'Content-Length: 5\r\n'], // a body: node:http parses this one
    ]) {
      const answer = await sendRaw(
        plain.port,
        `${method} /echo.php HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n${more}Connection: close\r\n\r\n${more ? 'hello' : ''}`,
      );
      assert.match(answer, /^HTTP\/1\.1 400 /, method);
      assert.match(answer, /more than one Host header/, method);
    }
  });

  test('CONNECT gets a 405 with Allow, not a dropped connection', async () => {
    const answer = await sendRaw(
      plain.port,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      {
        writeOnly: true,
      },
    );
    assert.match(answer, /^HTTP\/1\.1 405 /);
    assert.match(answer, /\r\nAllow: GET, HEAD, POST/);
  });

  test('a body in a transfer coding other than chunked is a 501, and the connection goes on', async () => {
    const answer = await sendRaw(
      plain.port,
      'POST /echo.php HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' +
        'GET /hello.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      { writeOnly: true },
    );
    assert.match(answer, /^HTTP\/1\.1 501 /);
    assert.match(
      answer,
      /\r\n\r\n501 Not Implemented\n[\s\S]*HTTP\/1\.1 200 /,
      'the next request is answered',
    );
  });
});
