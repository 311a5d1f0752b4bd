import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig, parseServer } from '../../src/config/load.ts';
import { DEFAULTS } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'fcgi-pool-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function yamlFile(text: string): string {
  const file = join(dir, `config-${n++}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** Runs fn, expects a ConfigError, returns it for closer checks. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  test('with nothing set, the defaults suit a stock php-fpm', () => {
    const config = loadConfig({});
    assert.deepEqual(config, DEFAULTS);
    assert.equal(config.serverDefaults.maxConnections, 5, 'php-fpm www.conf pm.max_children = 5');
    assert.equal(config.serverDefaults.reuse, 'always');
    assert.equal(config.app.maxBodyBytes, 8 * 1024 * 1024, 'PHP post_max_size = 8M');
    assert.deepEqual(config.listen.grpc, { host: '127.0.0.1', port: 50051 });
    assert.deepEqual(config.servers, [], 'no backend: the embedded responder answers');
    assert.ok(config.threads >= 1);
    assert.equal(
      config.app.keepAliveTimeoutMs,
      75_000,
      "nginx's keepalive_timeout, above a load balancer's 60 s",
    );
    assert.equal(config.app.headerTimeoutMs, 60_000, "nginx's client_header_timeout");
  });

  test('a YAML file is merged over the defaults and servers inherit serverDefaults', () => {
    const file = yamlFile(`
threads: 3
app:
  docroot: /var/www/html/
  maxBodyBytes: 2m
serverDefaults:
  maxConnections: 8
servers:
  - 127.0.0.1:9000
  - name: fpm-b
    address: unix:/run/php/php-fpm.sock
    maxConnections: 4
    maxIdle: 2
`);
    const config = loadConfig({ file });
    assert.equal(config.threads, 3);
    assert.equal(config.app.docroot, '/var/www/html', 'trailing slash removed');
    assert.equal(config.app.maxBodyBytes, 2 * 1024 * 1024);
    assert.equal(config.app.index, 'index.php', 'unset fields keep their default');
    assert.equal(config.servers.length, 2);
    assert.deepEqual(config.servers[0].address, { kind: 'tcp', host: '127.0.0.1', port: 9000 });
    assert.equal(config.servers[0].name, '127.0.0.1:9000');
    assert.equal(config.servers[0].maxConnections, 8);
    assert.equal(config.servers[0].maxIdle, 8, 'maxIdle defaults to maxConnections');
    assert.equal(config.servers[0].readTimeoutMs, 60_000);
    assert.deepEqual(config.servers[1].address, { kind: 'unix', path: '/run/php/php-fpm.sock' });
    assert.equal(config.servers[1].name, 'fpm-b');
    assert.equal(config.servers[1].maxConnections, 4);
    assert.equal(config.servers[1].maxIdle, 2);
  });

  test('environment variables override the file, and flags override both', () => {
    const file = yamlFile('threads: 3\nlisten:\n  http: 0.0.0.0:9999\nservers: [10.0.0.1:9000]\n');
    const env = {
      FCGI_POOL_THREADS: '2',
      FCGI_POOL_BACKENDS: '10.0.0.2:9000, 10.0.0.3:9000',
      FCGI_POOL_MAX_BODY: '512k',
      FCGI_POOL_FAST_PATH: 'off',
      FCGI_POOL_HTTP: '',
    };
    const fromEnv = loadConfig({ file, env });
    assert.equal(fromEnv.threads, 2);
    assert.equal(fromEnv.fastPath, false);
    assert.equal(fromEnv.app.maxBodyBytes, 512 * 1024);
    assert.deepEqual(fromEnv.listen.http, { host: '0.0.0.0', port: 9999 }, 'an empty variable is unset');
    assert.deepEqual(
      fromEnv.servers.map((s) => s.name),
      ['10.0.0.2:9000', '10.0.0.3:9000'],
      'the backend list replaces the file list',
    );

    const fromFlags = loadConfig({
      file,
      env,
      flags: { threads: 1, backend: ['unix:/tmp/fpm.sock'], http: '127.0.0.1:0', maxConnections: 2 },
    });
    assert.equal(fromFlags.threads, 1);
    assert.deepEqual(fromFlags.listen.http, { host: '127.0.0.1', port: 0 });
    assert.deepEqual(fromFlags.servers[0].address, { kind: 'unix', path: '/tmp/fpm.sock' });
    assert.equal(fromFlags.servers[0].maxConnections, 2);
  });

  test('a server-wide flag overrides what the file set on each server', () => {
    const file = yamlFile('servers:\n  - address: 10.0.0.1:9000\n    maxConnections: 10\n    reuse: safe\n');
    const config = loadConfig({ file, flags: { maxConnections: 3, reuse: 'never' } });
    assert.equal(config.servers[0].maxConnections, 3);
    assert.equal(config.servers[0].reuse, 'never');
    assert.equal(config.servers[0].maxIdle, 3, 'inherited maxIdle follows the new cap');
  });

  test('the file is found through FCGI_POOL_CONFIG', () => {
    const file = yamlFile('threads: 2\n');
    assert.equal(loadConfig({ env: { FCGI_POOL_CONFIG: file } }).threads, 2);
  });
});

describe('loadConfig errors name the field and where the value came from', () => {
  test('a bad value in the file names the field path and its line', () => {
    const file = yamlFile('servers:\n  - address: 10.0.0.1:9000\n    maxConnections: 0\n');
    const err = configError(() => loadConfig({ file }));
    assert.equal(err.field, 'servers[0].maxConnections');
    assert.match(err.message, /^servers\[0\]\.maxConnections: must be an integer from 1 to 65535/);
    assert.match(err.message, /config-\d+\.yaml:3\)/);
  });

  test('a bad environment variable is named', () => {
    const err = configError(() => loadConfig({ env: { FCGI_POOL_THREADS: 'many' } }));
    assert.equal(err.field, 'threads');
    assert.match(err.message, /from FCGI_POOL_THREADS/);
  });

  test('a bad warm-up count is named, from the variable or the flag', () => {
    const env = configError(() => loadConfig({ env: { FCGI_POOL_WARM_UP: 'lots' } }));
    assert.equal(env.field, 'warmUp.requests');
    assert.match(env.message, /from FCGI_POOL_WARM_UP/);
    const flag = configError(() => loadConfig({ flags: { warmUp: 2_000_000 } }));
    assert.equal(flag.field, 'warmUp.requests');
    assert.match(flag.message, /from --warm-up/);
  });

  test('a bad flag is named', () => {
    const err = configError(() => loadConfig({ flags: { maxBody: -1 } }));
    assert.equal(err.field, 'app.maxBodyBytes');
    assert.match(err.message, /from --max-body/);
  });

  test('an unknown key is named, with the likely intended one', () => {
    const file = yamlFile('app:\n  docroot: /srv\n  docrot: /srv/www\n');
    const err = configError(() => loadConfig({ file }));
    assert.equal(err.field, 'app.docrot');
    assert.match(err.message, /unknown setting \(did you mean "docroot"\?\)/);
    assert.match(err.message, /yaml:3\)/);
  });

  test('every problem of a file is named at once, unknown keys first', () => {
    const file = yamlFile('threads: 0\napp:\n  docroot: relative\nthredas: 2\n');
    const err = configError(() => loadConfig({ file }));
    assert.equal(err.field, 'thredas');
    const lines = err.message.split('\n');
    assert.equal(lines.length, 3, err.message);
    assert.match(lines[1], /^ {2}and (threads|app\.docroot): .*yaml:[13]\)$/);
    assert.match(lines[2], /^ {2}and (threads|app\.docroot): .*yaml:[13]\)$/);
    assert.notEqual(lines[1].split(':')[0], lines[2].split(':')[0]);
  });

  test('an unknown top-level key is named', () => {
    const err = configError(() => loadConfig({ file: yamlFile('backends: [a:1]\n') }));
    assert.equal(err.field, 'backends');
  });

  test('a YAML syntax error gives the line', () => {
    const file = yamlFile('threads: 2\napp:\n  docroot: [unclosed\n');
    const err = configError(() => loadConfig({ file }));
    assert.match(err.field, /config-\d+\.yaml:\d+:\d+$/);
    assert.match(err.message, /YAML syntax error/);
  });

  test('a key written twice is refused', () => {
    const err = configError(() => loadConfig({ file: yamlFile('threads: 2\nthreads: 3\n') }));
    assert.match(err.message, /YAML syntax error/);
  });

  test('a file that is not a mapping is refused', () => {
    const err = configError(() => loadConfig({ file: yamlFile('- 1\n- 2\n') }));
    assert.match(err.message, /mapping/);
  });

  test('a missing file is named', () => {
    const err = configError(() => loadConfig({ file: join(dir, 'nope.yaml') }));
    assert.match(err.message, /cannot read .*nope\.yaml/);
  });

  for (const [address, reason] of [
    ['10.0.0.1', /needs a port/],
    ['10.0.0.1:99999', /port must be from 1 to 65535/],
    ['10.0.0.1:0', /port must be from 1 to 65535/],
    ['::1:9000', /brackets/],
    ['[::1]9000', /needs a port/],
    ['unix:', /needs a socket path/],
    ['unix:run/fpm.sock', /absolute/],
    ['bad host:9000', /not a valid host name/],
  ] as const) {
    test(`backend address "${address}" is refused: ${reason.source}`, () => {
      const err = configError(() => loadConfig({ flags: { backend: ['127.0.0.1:9000', address] } }));
      assert.equal(err.field, 'servers[1].address');
      assert.match(err.message, reason);
      assert.match(err.message, /from --backend/);
    });
  }

  test('client timeouts come from the file, the environment and --keep-alive-timeout', () => {
    const file = yamlFile('app:\n  keepAliveTimeoutMs: 65000\n  requestTimeoutMs: 120000\n');
    const env = { FCGI_POOL_HEADER_TIMEOUT: '20000', FCGI_POOL_KEEP_ALIVE_TIMEOUT: '70000' };
    const config = loadConfig({ file, env, flags: { keepAliveTimeout: 90_000 } });
    assert.deepEqual(
      [config.app.keepAliveTimeoutMs, config.app.headerTimeoutMs, config.app.requestTimeoutMs],
      [90_000, 20_000, 120_000],
    );
  });

  test('a header timeout longer than the request timeout is refused', () => {
    const err = configError(() => loadConfig({ env: { FCGI_POOL_REQUEST_TIMEOUT: '30000' } }));
    assert.equal(err.field, 'app.headerTimeoutMs');
    assert.match(err.message, /must not exceed app\.requestTimeoutMs \(60000 > 30000\)/);
  });

  test('explicit maxIdle above maxConnections is refused', () => {
    const file = yamlFile('servers:\n  - address: a:9000\n    maxConnections: 2\n    maxIdle: 4\n');
    assert.equal(configError(() => loadConfig({ file })).field, 'servers[0].maxIdle');
  });

  test('two servers with one name are refused', () => {
    const err = configError(() => loadConfig({ flags: { backend: ['a:9000', 'a:9000'] } }));
    assert.equal(err.field, 'servers[1].name');
  });

  test('more servers than server slots are refused', () => {
    const file = yamlFile('pool:\n  maxServers: 1\nservers: [a:9000, b:9000]\n');
    assert.equal(configError(() => loadConfig({ file })).field, 'pool.maxServers');
  });

  test('gRPC on a public address needs TLS or an explicit opt-in', () => {
    const err = configError(() => loadConfig({ flags: { grpc: '0.0.0.0:50051' } }));
    assert.equal(err.field, 'listen.grpc');
    assert.match(err.message, /grpc\.tls/);
    const ok = loadConfig({
      flags: { grpc: '0.0.0.0:50051' },
      file: yamlFile('grpc:\n  allowInsecureRemote: true\n'),
    });
    assert.deepEqual(ok.listen.grpc, { host: '0.0.0.0', port: 50051 });
  });

  test('a token and a token file for one role are refused', () => {
    const file = yamlFile('grpc:\n  tokens:\n    admin: s3cret-s3cret\n    adminFile: /run/secrets/admin\n');
    assert.equal(configError(() => loadConfig({ file })).field, 'grpc.tokens.adminFile');
  });

  test('a path-info regex without a capture group is refused', () => {
    const file = yamlFile("app:\n  pathInfoRegex: '\\.php$'\n");
    assert.equal(configError(() => loadConfig({ file })).field, 'app.pathInfoRegex');
  });

  test('a bad trusted proxy is named by its index', () => {
    const err = configError(() => loadConfig({ flags: { trustedProxy: ['10.0.0.0/8', '10.0.0.0/33'] } }));
    assert.equal(err.field, 'app.trustedProxies[1]');
  });
});

describe('parseServer (servers added at run time)', () => {
  test('inherits serverDefaults and parses the address', () => {
    const s = parseServer({ address: '10.0.0.9:9000', maxConnections: 3 }, DEFAULTS.serverDefaults);
    assert.deepEqual(s.address, { kind: 'tcp', host: '10.0.0.9', port: 9000 });
    assert.equal(s.name, '10.0.0.9:9000');
    assert.equal(s.maxConnections, 3);
    assert.equal(s.maxIdle, 3);
    assert.equal(s.reuse, DEFAULTS.serverDefaults.reuse);
    assert.equal(parseServer('unix:/run/fpm.sock', DEFAULTS.serverDefaults).name, 'unix:/run/fpm.sock');
  });

  test('names the bad field', () => {
    const err = configError(() => parseServer({ address: 'nope' }, DEFAULTS.serverDefaults, 'AddServer'));
    assert.equal(err.field, 'AddServer.address');
    assert.equal(
      configError(() => parseServer({ address: 'a:1', max: 1 }, DEFAULTS.serverDefaults)).field,
      'server.max',
    );
  });
});
