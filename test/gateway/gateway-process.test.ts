// `fcgi-pool serve` as a real process (what `npm start` runs): the embedded responder answers
// through the gateway when no backend is given, and SIGTERM under load lets every accepted
// request finish whole, refuses new ones, and exits 0. Its stdout carries one access-log line
// per request and php-fpm's stderr, both with the request id.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { type PhpFpm, startPhpFpm } from '../helpers/php-fpm.ts';
import { eventually, logLines, type Serving, startServing } from '../helpers/serve-process.ts';
import { send } from './gateway-harness.ts';

const running: Serving[] = [];

async function serve(args: string[], env: Record<string, string> = {}): Promise<Serving> {
  const s = await startServing(args, env);
  running.push(s);
  return s;
}

after(async () => {
  for (const s of running) {
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  }
});

test('npm start with no backend: the embedded responder serves /, /echo and /bytes through the gateway', async () => {
  const s = await serve(['--threads', '2']);
  const root = await send(s.port, '/');
  assert.equal(root.status, 200);
  assert.match(root.body.toString(), /fcgi-pool embedded FastCGI responder/);
  const echo = JSON.parse(
    (await send(s.port, '/echo?x=1', { method: 'POST', body: 'hello' })).body.toString(),
  );
  assert.equal(echo.method, 'POST');
  assert.equal(echo.uri, '/echo?x=1');
  assert.equal(echo.bodyLength, 5);
  assert.equal((await send(s.port, '/bytes?n=100000')).body.length, 100_000);
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0);
});

let fpm: PhpFpm;
before(async () => {
  fpm = await startPhpFpm({ children: 4 });
});
after(() => fpm?.stop());

interface Outcome {
  /** Response headers arrived. */
  readonly answered: boolean;
  readonly complete: boolean;
  readonly status: number;
  readonly body: string;
  readonly error?: string;
}

/** A request on its own connection; never rejects: says how far it got. */
function attempt(port: number, path: string, onFirstChunk?: () => void): Promise<Outcome> {
  return new Promise((resolve) => {
    let answered = false;
    let status = 0;
    let body = '';
    const req = http.get({ host: '127.0.0.1', port, path, agent: false });
    req.on('error', (e) => resolve({ answered, complete: false, status, body, error: e.message }));
    req.on('response', (res) => {
      answered = true;
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        onFirstChunk?.();
      });
      res.on('error', (e) => resolve({ answered, complete: false, status, body, error: e.message }));
      res.on('end', () => resolve({ answered, complete: res.complete, status, body }));
    });
  });
}

test('SIGTERM under load: accepted requests finish whole, new ones are refused, logs carry request ids, exit 0', async () => {
  const s = await serve(
    ['--backend', fpm.address, '--docroot', fpm.docroot, '--threads', '2', '--max-connections', '4'],
    { FCGI_POOL_SHUTDOWN_GRACE: '10000' },
  );

  const logged = await send(s.port, '/stderr.php', { headers: { 'X-Request-Id': 'stderr-check-1' } });
  assert.equal(logged.status, 200);
  assert.equal(logged.headers['x-request-id'], 'stderr-check-1');

  // six slow responses: four run at once (4 children), two wait in the pool's queue
  let started = 0;
  const slow = Array.from({ length: 6 }, () => {
    let counted = false;
    return attempt(s.port, '/slow-stream.php?ms=700', () => {
      if (!counted) {
        counted = true;
        started++;
      }
    });
  });
  // and a steady stream of new requests until the gateway stops accepting them
  let stopping = false;
  const steady: Outcome[] = [];
  const clients = Array.from({ length: 2 }, async () => {
    for (;;) {
      const o = await attempt(s.port, '/hello.php');
      steady.push(o);
      if (stopping && !o.answered) return;
      // the service is gone (the test failed early and `after` killed it): stop, do not spin
      if (s.child.exitCode !== null || s.child.signalCode !== null) return;
    }
  });
  const deadline = Date.now() + 10_000;
  while (started < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(started, 4, 'four slow responses are under way');

  stopping = true;
  s.child.kill('SIGTERM');
  const results = await Promise.all(slow);
  await Promise.all(clients);
  const code = await s.exited;

  for (const r of results) {
    assert.deepEqual([r.status, r.complete, r.body], [200, true, 'start\nend\n'], JSON.stringify(r));
  }
  for (const o of steady) {
    // either a whole answer, or refused before any answer: never cut half-way
    if (o.answered)
      assert.deepEqual([o.status, o.complete, o.body], [200, true, 'hello\n'], JSON.stringify(o));
  }
  assert.ok(
    steady.some((o) => o.answered),
    'requests were served before the signal',
  );
  assert.equal(code, 0, s.output().slice(-2000));

  const lines = logLines(s);
  const mine = lines.filter((l) => l.reqId === 'stderr-check-1');
  assert.ok(
    mine.some((l) => l.msg === 'backend stderr' && String(l.stderr).includes('stderr.php: before output')),
    'FastCGI stderr is logged with the request id',
  );
  assert.ok(
    mine.some((l) => l.msg === 'request' && l.status === 200 && l.url === '/stderr.php'),
    'one access-log line per request, with the request id',
  );
  const accessLines = lines.filter((l) => l.msg === 'request');
  assert.equal(
    accessLines.length,
    1 + results.length + steady.filter((o) => o.answered).length,
    'one access-log line for each answered request',
  );
});

test('warm-up: each worker runs its requests before it listens, and none reaches php-fpm, the access log or the metrics', async () => {
  const own = await startPhpFpm({ children: 2 });
  /** php-fpm's own count of what it accepted so far, read through the gateway. */
  const accepted = async (port: number) => {
    const status = await send(port, '/fpm-status.php');
    assert.equal(status.status, 200);
    return JSON.parse(status.body.toString())['accepted-conn'] as number;
  };
  try {
    const args = ['--backend', own.address, '--docroot', own.docroot, '--threads', '2'];
    const warm = await serve([...args, '--warm-up', '300']);
    assert.deepEqual(
      logLines(warm)
        .filter((l) => l.msg === 'warmed up')
        .map((l) => l.requests),
      [300, 300],
      'each worker ran its 300 requests before the service said it was serving',
    );
    const warmSeen = await accepted(warm.port);
    // a worker counts a request just after its response left: the scrape may be a moment early
    await eventually(async () => {
      const metrics = (await send(warm.admin, '/metrics')).body.toString();
      const served = [...metrics.matchAll(/^fcgipool_requests_total\{[^}]*\} (\d+)$/gm)];
      assert.equal(
        served.reduce((n, m) => n + Number(m[1]), 0),
        1,
        'the pool counted the one real request only',
      );
    }, 2000);
    warm.child.kill('SIGTERM');
    assert.equal(await warm.exited, 0);
    assert.deepEqual(
      logLines(warm)
        .filter((l) => l.msg === 'request')
        .map((l) => l.url),
      ['/fpm-status.php'],
      'one access-log line: the real request',
    );

    const cold = await serve([...args, '--warm-up', '0']);
    assert.ok(!logLines(cold).some((l) => l.msg === 'warmed up'), '--warm-up 0 runs none');
    const coldSeen = (await accepted(cold.port)) - warmSeen;
    assert.equal(warmSeen, coldSeen, 'php-fpm saw no more of the warmed-up service than of a cold one');
    cold.child.kill('SIGTERM');
    assert.equal(await cold.exited, 0);
  } finally {
    await own.stop();
  }
});
