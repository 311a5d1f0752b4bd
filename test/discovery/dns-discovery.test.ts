import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { describe, it } from 'node:test';
import { DnsDiscovery, type DnsDiscoveryOptions, dnsResolveAll } from '../../src/discovery/dns-discovery.ts';
import { FcgiResponder } from '../../src/fcgi/responder.ts';
import { startDnsServer } from '../helpers/dns-server.ts';
import { getParams, serverSettings, startTestPool } from '../helpers/pool.ts';

describe('backend discovery by DNS', () => {
  it('pods that appear join, pods that disappear drain, requests keep succeeding', async (t) => {
    const a = new FcgiResponder();
    const { port } = await a.listen(0, '127.0.0.1');
    const b = new FcgiResponder();
    await b.listen(port, '127.0.0.2');
    t.after(() => Promise.all([a.close(), b.close()]));
    const dns = await startDnsServer({ 'php-fpm.test': ['127.0.0.1'] });
    t.after(() => dns.close());
    const resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([dns.address]);

    // the pool starts with a static server; discovery adds the pods behind the name
    const pool = await startTestPool({ threads: 2, address: { kind: 'tcp', host: '127.0.0.1', port } });
    t.after(() => pool.stop(2000));
    const discovery = new DnsDiscovery(pool, {
      template: serverSettings(
        'php-fpm',
        { kind: 'tcp', host: 'php-fpm.test', port },
        2,
      ) as DnsDiscoveryOptions['template'],
      intervalMs: 60_000,
      resolve: dnsResolveAll(resolver),
      drainMs: 5000,
    });
    t.after(() => discovery.stop());
    const exec = (server: number, uri = '/') =>
      pool.execute({ thread: 1, server, params: getParams(uri), stdin: new Uint8Array(0), timeoutMs: 5000 });
    const names = () => pool.listServers().map((s) => s.name);

    await discovery.start();
    assert.deepEqual(names(), ['backend', 'php-fpm/127.0.0.1']);

    dns.records.set('php-fpm.test', ['127.0.0.1', '127.0.0.2']);
    await discovery.refresh();
    assert.deepEqual(names(), ['backend', 'php-fpm/127.0.0.1', 'php-fpm/127.0.0.2'], 'the new pod joined');
    const second = discovery.members.get('127.0.0.2')!;
    await exec(second);
    assert.equal(b.connectionsAccepted, 1, 'requests reach the new pod');

    // a request in flight on the pod that goes away finishes; the pod is then removed
    const first = discovery.members.get('127.0.0.1')!;
    const inFlight = exec(first, '/sleep?ms=300');
    await new Promise((r) => setTimeout(r, 50));
    dns.records.set('php-fpm.test', ['127.0.0.2']);
    const removal = discovery.refresh();
    const r = await inFlight;
    assert.equal(r.appStatus, 0, 'the in-flight request on the leaving pod completed');
    await removal;
    assert.deepEqual(names(), ['backend', 'php-fpm/127.0.0.2'], 'the pod that left is gone');
    await exec(second);

    // a failing lookup keeps the members
    dns.records.delete('php-fpm.test');
    await discovery.refresh();
    assert.deepEqual(names(), ['backend', 'php-fpm/127.0.0.2']);
  });
});
