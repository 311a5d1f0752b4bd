// Several php-fpm servers behind one gateway, and php-fpm recycling its children: a server that
// goes away costs clients nothing (its refused connects go to the other server), serves again
// soon after it is back, and pm.max_requests closing kept connections under load is invisible.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type PhpFpm, startPhpFpm } from '../helpers/php-fpm.ts';
import { type Reply, send, startTestGateway, type TestGateway } from './gateway-harness.ts';

let fpmA: PhpFpm;
let fpmB: PhpFpm;
let pair: TestGateway;
/** php-fpm whose children exit after a few requests, behind two gateways. */
let recycling: PhpFpm;
let gwGet: TestGateway;
let gwRetryPost: TestGateway;

before(async () => {
  [fpmA, fpmB, recycling] = await Promise.all([
    startPhpFpm({ children: 2 }),
    startPhpFpm({ children: 2 }),
    startPhpFpm({ children: 4, maxRequests: 8 }),
  ]);
  [pair, gwGet, gwRetryPost] = await Promise.all([
    startTestGateway({
      servers: [fpmA.address, fpmB.address],
      serverDefaults: { maxConnections: 2 },
      app: { docroot: fpmA.docroot },
    }),
    startTestGateway({
      servers: [recycling.address],
      serverDefaults: { maxConnections: 2 },
      app: { docroot: recycling.docroot },
    }),
    startTestGateway({
      servers: [recycling.address],
      serverDefaults: { maxConnections: 2 },
      app: { docroot: recycling.docroot, retryNonIdempotent: true },
    }),
  ]);
});

after(async () => {
  await Promise.all([pair?.stop(), gwGet?.stop(), gwRetryPost?.stop()]);
  await Promise.all([fpmA?.stop(), fpmB?.stop(), recycling?.stop()]);
});

/** Which php-fpm a pid.php answer came from. */
function served(r: Reply): 'A' | 'B' | '?' {
  const pid = Number(r.body.toString());
  if (fpmA.childPids().includes(pid)) return 'A';
  if (fpmB.childPids().includes(pid)) return 'B';
  return '?';
}

describe('several servers', () => {
  test('both serve; with one stopped no client sees an error; restarted, it serves again within 2 s', async () => {
    // both docroots hold the same scripts; SCRIPT_FILENAME names A's copy, which B reads too
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const r = await send(pair.port, '/pid.php');
      assert.equal(r.status, 200);
      seen.add(served(r));
    }
    assert.deepEqual([...seen].sort(), ['A', 'B'], 'fewest outstanding requests spreads sequential requests');

    fpmB.kill();
    for (let i = 0; i < 20; i++) {
      const r = await send(pair.port, '/pid.php');
      assert.equal(r.status, 200, `request ${i} while B is down`);
      assert.equal(served(r), 'A');
    }

    await fpmB.restart();
    const back = Date.now();
    let bServed = false;
    while (!bServed && Date.now() - back < 2000) {
      const r = await send(pair.port, '/pid.php');
      assert.equal(r.status, 200);
      bServed = served(r) === 'B';
      if (!bServed) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(bServed, 'B serves again within 2 s of coming back');
  });
});

describe('servers added at run time', () => {
  test('a server added through the runtime API (as gRPC AddServer and DNS discovery do) takes traffic', async () => {
    const [first, extra] = await Promise.all([startPhpFpm({ children: 2 }), startPhpFpm({ children: 2 })]);
    const gw = await startTestGateway({
      servers: [first.address],
      serverDefaults: { maxConnections: 2 },
      app: { docroot: first.docroot },
    });
    try {
      await gw.service.runtime.addServer({
        name: 'extra',
        address: { kind: 'tcp', host: extra.host, port: extra.port },
        maxConnections: 2,
        maxIdle: 2,
        reuse: 'always',
        purgeDelayMs: 5000,
        maxRequestsPerConnection: 0,
        connectTimeoutMs: 1000,
        readTimeoutMs: 5000,
      });
      const pids = new Set<number>();
      for (let i = 0; i < 8; i++) {
        const r = await send(gw.port, '/pid.php');
        assert.equal(r.status, 200);
        pids.add(Number(r.body.toString()));
      }
      assert.ok(
        extra.childPids().some((pid) => pids.has(pid)),
        'the added server answered some of the requests',
      );
    } finally {
      await gw.stop();
      await Promise.all([first.stop(), extra.stop()]);
    }
  });
});

describe('php-fpm recycling children (pm.max_requests = 8) under load', () => {
  const load = async (port: number, method: string, total: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const failures: string[] = [];
    let ok = 0;
    let next = 0;
    const pids = new Set<string>();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < total) {
          next++;
          try {
            const r = await send(port, '/pid.php', {
              method,
              agent,
              body: method === 'POST' ? 'x=1' : undefined,
            });
            if (r.status === 200) {
              ok++;
              pids.add(r.body.toString());
            } else failures.push(`${r.status} ${r.body.toString().split('\n')[0]}`);
          } catch (e) {
            failures.push((e as Error).message);
          }
        }
      }),
    );
    agent.destroy();
    return { ok, failures, children: pids.size };
  };

  test('GET: every request is answered, no 502, while children come and go', async () => {
    const r = await load(gwGet.port, 'GET', 240);
    assert.deepEqual(r.failures, []);
    assert.equal(r.ok, 240);
    assert.ok(r.children > 4, `children were recycled (${r.children} pids served)`);
  });

  test('POST with app.retryNonIdempotent: every request is answered too', async () => {
    const r = await load(gwRetryPost.port, 'POST', 120);
    assert.deepEqual(r.failures, []);
    assert.equal(r.ok, 120);
  });
});
