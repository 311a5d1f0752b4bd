import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCli } from '../../src/cli/args.ts';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';

function cliError(argv: string[]): ConfigError {
  try {
    parseCli(argv);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err;
  }
  assert.fail(`expected ${argv.join(' ')} to be refused`);
}

function serveFlags(argv: string[]) {
  const r = parseCli(['serve', ...argv]);
  assert.equal(r.command, 'serve');
  return r;
}

describe('fcgi-pool serve', () => {
  test('flags are parsed into typed values', () => {
    const r = serveFlags([
      '--config',
      '/etc/fcgi-pool.yaml',
      '--docroot',
      '/var/www/html',
      '--index',
      'app.php',
      '--threads',
      '4',
      '--max-connections',
      '8',
      '--max-idle',
      '6',
      '--reuse',
      'safe',
      '--fast-path',
      'off',
      '--connect-timeout',
      '1500',
      '--read-timeout',
      '30000',
      '--max-body',
      '8MiB',
      '--http',
      '127.0.0.1:0',
      '--grpc',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--static-files',
      '--log-level',
      'debug',
    ]);
    assert.equal(r.configFile, '/etc/fcgi-pool.yaml');
    assert.deepEqual(r.flags, {
      docroot: '/var/www/html',
      index: 'app.php',
      threads: 4,
      maxConnections: 8,
      maxIdle: 6,
      reuse: 'safe',
      fastPath: false,
      connectTimeout: 1500,
      readTimeout: 30000,
      maxBody: 8 * 1024 * 1024,
      http: '127.0.0.1:0',
      grpc: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      staticFiles: true,
      logLevel: 'debug',
    });
  });

  test('--backend and --trusted-proxy repeat and accept comma lists', () => {
    const r = serveFlags([
      '--backend',
      '10.0.0.1:9000',
      '-b',
      'unix:/run/fpm.sock,10.0.0.2:9000',
      '--trusted-proxy',
      '10.0.0.0/8',
    ]);
    assert.deepEqual(r.flags.backend, ['10.0.0.1:9000', 'unix:/run/fpm.sock', '10.0.0.2:9000']);
    assert.deepEqual(r.flags.trustedProxy, ['10.0.0.0/8']);
  });

  test('no flags: nothing is set, so file and environment decide', () => {
    assert.deepEqual(serveFlags([]), { command: 'serve', configFile: undefined, flags: {} });
  });

  test('parsed flags feed loadConfig', () => {
    const r = serveFlags(['--backend', 'fpm:9000', '--max-connections', '3', '--max-body', '1m']);
    const config = loadConfig({ flags: r.flags });
    assert.equal(config.servers[0].name, 'fpm:9000');
    assert.equal(config.servers[0].maxConnections, 3);
    assert.equal(config.app.maxBodyBytes, 1024 * 1024);
  });

  test('a value of the wrong type names the flag', () => {
    assert.equal(cliError(['serve', '--threads', 'four']).field, '--threads');
    assert.equal(cliError(['serve', '--max-body', 'huge']).field, '--max-body');
    assert.equal(cliError(['serve', '--fast-path', 'maybe']).field, '--fast-path');
  });

  test('a value outside the choices names the flag and lists the choices', () => {
    const err = cliError(['serve', '--reuse', 'sometimes']);
    assert.equal(err.field, '--reuse');
    assert.match(err.message, /never, safe, always/);
  });

  test('an unknown flag is named, with a suggestion', () => {
    const err = cliError(['serve', '--max-conections', '3']);
    assert.equal(err.field, '--max-conections');
    assert.match(err.message, /--max-connections/);
  });

  test('a flag without its value is named', () => {
    assert.equal(cliError(['serve', '--docroot']).field, '--docroot');
    // a flag with a short form is named by its long one, as the usage writes it
    assert.equal(cliError(['serve', '--backend']).field, '--backend');
    assert.equal(cliError(['serve', '-b']).field, '--backend');
  });

  test('--help returns the help text instead of exiting', () => {
    const r = parseCli(['serve', '--help']);
    assert.equal(r.command, 'help');
    assert.equal(r.exitCode, 0);
    assert.match(r.text, /--max-connections <n>/);
    assert.match(r.text, /pm\.max_children/);
    assert.match(r.text, /FCGI_POOL_/);
  });
});

describe('fcgi-pool top level, ctl and bench', () => {
  test('no command shows the help with a failing exit code', () => {
    const r = parseCli([]);
    assert.equal(r.command, 'help');
    assert.equal(r.exitCode, 1);
    assert.match(r.text, /serve/);
  });

  test('--version prints the version', () => {
    assert.deepEqual(parseCli(['--version'], { version: '1.2.3' }), { command: 'version', text: '1.2.3' });
  });

  test('an unknown command is named with a suggestion', () => {
    const err = cliError(['srve']);
    assert.equal(err.field, 'command');
    assert.match(err.message, /serve/);
  });

  test('ctl takes the operation, its arguments, --address, --token and --json', () => {
    assert.deepEqual(parseCli(['ctl', 'purge', '--server', 'fpm-a', '--json', '--token', 't0k3n']), {
      command: 'ctl',
      name: 'purge',
      args: ['--server', 'fpm-a'],
      address: '127.0.0.1:50051',
      token: 't0k3n',
      json: true,
    });
    const r = parseCli(['ctl', '--address', '10.0.0.5:50051', 'idle']);
    assert.equal(r.command, 'ctl');
    assert.equal(r.address, '10.0.0.5:50051');
    assert.equal(r.json, false);
  });

  test('ctl without an operation is refused', () => {
    assert.match(cliError(['ctl']).message, /missing required argument/);
  });

  test('bench passes its arguments through for now', () => {
    assert.deepEqual(parseCli(['bench', '-c', '32', 'http://127.0.0.1:8080/']), {
      command: 'bench',
      args: ['-c', '32', 'http://127.0.0.1:8080/'],
    });
  });
});
