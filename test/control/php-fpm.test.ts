// Execute and Takeover through the control plane in front of a real php-fpm: the FastCGI peer
// whose one-connection-per-child pinning the pool exists for.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PhpFpm } from '../helpers/php-fpm.ts';
import { startPhpFpm } from '../helpers/php-fpm.ts';
import { getParams } from '../helpers/pool.ts';
import { type Client, type ControlFixture, startControlFixture } from './control-helpers.ts';

const bodyOf = (stdout: Buffer) => {
  const text = stdout.toString('utf8');
  return text.slice(text.indexOf('\r\n\r\n') + 4);
};

describe('PoolControl in front of php-fpm', () => {
  let fpm: PhpFpm;
  let fx: ControlFixture;
  let c: Client;

  before(async () => {
    fpm = await startPhpFpm({ children: 2 });
    fx = await startControlFixture({
      threads: 2,
      address: { kind: 'tcp', host: fpm.host, port: fpm.port },
      pool: { maxConnections: 2 },
    });
    c = fx.client();
  });
  after(async () => {
    await fx.close();
    await fpm.stop();
  });

  it('Execute runs a PHP script and returns its output, stderr and exit status', async () => {
    const r = await c.Execute({ params: getParams('/stderr.php', `${fpm.docroot}/stderr.php`), thread: 0 });
    assert.equal(r.protocol_status, 'REQUEST_COMPLETE');
    assert.equal(r.app_status, 0);
    assert.equal(bodyOf(r.stdout), 'stdout\n');
    assert.match(r.stderr.toString(), /stderr\.php: before output[\s\S]*stderr\.php: after output/);
  });

  it('Execute sends stdin as the request body', async () => {
    const body = Buffer.from('a=1&b=two');
    const r = await c.Execute({
      params: {
        ...getParams('/echo.php', `${fpm.docroot}/echo.php`),
        REQUEST_METHOD: 'POST',
        CONTENT_TYPE: 'application/x-www-form-urlencoded',
        CONTENT_LENGTH: String(body.length),
      },
      stdin: body,
    });
    const echoed = JSON.parse(bodyOf(r.stdout));
    assert.equal(echoed.method, 'POST');
    assert.equal(echoed.bodyLength, body.length);
  });

  it('after Takeover the same php-fpm child answers on the other thread', async () => {
    await c.PurgeIdle({});
    const script = `${fpm.docroot}/pid.php`;
    const a = await c.Execute({ params: getParams('/pid.php', script), thread: 0 });
    const pid = bodyOf(a.stdout).trim();
    assert.match(pid, /^\d+$/);
    const moved = await c.Takeover({ from_thread: 0, to_thread: 1 });
    assert.deepEqual(
      moved.moved.map((m) => [m.id, m.thread]),
      [[a.connection_id, 1]],
    );
    assert.deepEqual(
      (await c.ListIdle({ thread: 1 })).connections.map((x) => x.id),
      [a.connection_id],
    );
    const b = await c.Execute({ params: getParams('/pid.php', script), thread: 1 });
    assert.equal(b.reused, true);
    assert.equal(b.connection_id, a.connection_id);
    assert.equal(bodyOf(b.stdout).trim(), pid, 'thread 1 talks to the same php-fpm child');
  });
});
