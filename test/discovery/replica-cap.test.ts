import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { describe, it } from 'node:test';
import { DnsDiscovery, dnsResolveAll } from '../../src/discovery/dns-discovery.ts';
import { capFor, ReplicaCap } from '../../src/discovery/replica-cap.ts';
import { FcgiResponder } from '../../src/fcgi/responder.ts';
import { startDnsServer } from '../helpers/dns-server.ts';
import { getParams, run, startTestPool } from '../helpers/pool.ts';

describe('connection cap shared across replicas', () => {
  it('cap = total children ÷ replicas, following the replica count', async (t) => {
    const responder = new FcgiResponder();
    const { host, port } = await responder.listen(0, '127.0.0.1');
    t.after(() => responder.close());
    const dns = await startDnsServer({ 'fcgi-pool.test': ['10.0.0.1'] });
    t.after(() => dns.close());
    const resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([dns.address]);
    const pool = await startTestPool({ threads: 2, maxConnections: 8, address: { kind: 'tcp', host, port } });
    t.after(() => pool.stop(2000));
    const cap = new ReplicaCap(pool, {
      peers: 'fcgi-pool.test',
      shared: new Map([
        ['backend', 8],
        ['php', 8],
      ]),
      intervalMs: 60_000,
      resolve: dnsResolveAll(resolver),
    });
    t.after(() => cap.stop());
    const max = () => pool.listServers()[0].maxConnections;

    await cap.start();
    assert.equal(max(), 8, 'one replica gets all 8 children');
    // 4 concurrent requests open 4 connections
    await Promise.all([0, 1, 0, 1].map((th) => run(pool, th, getParams('/sleep?ms=100'))));
    assert.equal(pool.listServers()[0].connections, 4);

    dns.records.set('fcgi-pool.test', ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    await cap.refresh();
    assert.equal(cap.replicas, 3);
    assert.equal(max(), 2, '8 children shared by 3 replicas: 2 each');
    // connections over the new cap close as they are released
    await Promise.all([0, 1, 0, 1].map((th) => run(pool, th, getParams('/'))));
    assert.ok(pool.listServers()[0].connections <= 2, 'the replica gave connections back');

    // a pod discovered now gets the current share at once, not the entry's own maxConnections
    dns.records.set('php.test', ['127.0.0.1']);
    const discovery = new DnsDiscovery(pool, {
      template: { ...pool.servers[0]!, name: 'php', address: { kind: 'tcp', host: 'php.test', port } },
      intervalMs: 60_000,
      resolve: dnsResolveAll(resolver),
      onJoined: () => cap.apply(),
    });
    t.after(() => discovery.stop());
    await discovery.start();
    assert.equal(pool.listServers().find((s) => s.name === 'php/127.0.0.1')?.maxConnections, 2);

    dns.records.set('fcgi-pool.test', ['10.0.0.1', '10.0.0.2']);
    await cap.refresh();
    assert.equal(max(), 4);
  });

  it('never caps below one connection', () => {
    assert.equal(capFor(3, 8), 1);
    assert.equal(capFor(16, 0), 16);
  });
});
