// deploy/k8s as a cluster would receive it: `kubectl kustomize` renders the example overlay (and
// the base), every object passes the Kubernetes schemas, the manifests agree with each other and
// with fcgi-pool's configuration schema, and the probes, the gRPC health check and the scrape
// point at listeners and paths that the real `fcgi-pool serve`, started with the rendered
// ConfigMap and the container's arguments, answers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IContainer, IProbe } from 'kubernetes-models/v1';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { FcgiResponder } from '../../src/fcgi/responder.ts';
import {
  eventually,
  freePort,
  grpcHealthCheck,
  httpGet,
  type ServeProcess,
  startServe,
} from '../helpers/serve-process.ts';
import { portNumber, type Rendered, render, selects } from './manifests.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const EXAMPLE = path.join(ROOT, 'deploy/k8s/overlays/example');
const BASE = path.join(ROOT, 'deploy/k8s/base');
const CONFIG_KEY = 'config.yaml';

const tmp = mkdtempSync(path.join(tmpdir(), 'fcgi-pool-k8s-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The rendered ConfigMap's config.yaml, through fcgi-pool's own loader (defaults, schema). */
function configOf(r: Rendered, label: string): { file: string; config: Config } {
  const file = path.join(tmp, `${label}-${CONFIG_KEY}`);
  writeFileSync(file, r.get('ConfigMap', 'fcgi-pool-config').data?.[CONFIG_KEY] ?? '');
  return { file, config: loadConfig({ file }) };
}

function fcgiPool(r: Rendered): { deployment: IDeployment; container: IContainer } {
  const deployment = r.get('Deployment', 'fcgi-pool');
  const container = deployment.spec?.template.spec?.containers.find((c) => c.name === 'fcgi-pool');
  assert.ok(container, 'the fcgi-pool container');
  return { deployment, container };
}

const podLabels = (d: IDeployment) => d.spec?.template.metadata?.labels ?? {};

for (const [label, dir] of [
  ['base', BASE],
  ['example overlay', EXAMPLE],
] as const) {
  describe(`kubectl kustomize ${path.relative(ROOT, dir)} (${label})`, () => {
    let r: Rendered;
    before(async () => {
      r = await render(dir);
    });

    it('renders objects that all pass the Kubernetes schemas', () => {
      assert.ok(r.objects.length >= 8, `${r.objects.length} objects`);
      r.validateAll();
    });

    it("its config.yaml passes fcgi-pool's schema and listens where the container ports say", () => {
      const { config } = configOf(r, label.replace(/ /g, '-'));
      const { container } = fcgiPool(r);
      for (const name of ['http', 'grpc', 'admin'] as const) {
        const listen = config.listen[name];
        assert.equal(portNumber(container, name), listen.port, `container port ${name}`);
        assert.ok(
          ['0.0.0.0', '::'].includes(listen.host),
          `listen.${name} must reach the pod IP, not ${listen.host}`,
        );
      }
    });
  });
}

describe('the example overlay', () => {
  let r: Rendered;
  let config: Config;
  let deployment: IDeployment;
  let container: IContainer;
  before(async () => {
    r = await render(EXAMPLE);
    config = configOf(r, 'example-checks').config;
    ({ deployment, container } = fcgiPool(r));
  });

  it('puts everything in its namespace', () => {
    const ns = r.all('Namespace').map((n) => n.metadata?.name);
    assert.deepEqual(ns, ['fcgi-pool-example']);
    for (const o of r.objects)
      if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, ns[0], o.metadata.name);
  });

  it('runs non-root on a read-only root filesystem, without capabilities, with an emptyDir at the spool dir', () => {
    for (const d of r.all('Deployment')) {
      const pod = d.spec?.template.spec;
      assert.equal(pod?.securityContext?.runAsNonRoot, true, `${d.metadata?.name}: runAsNonRoot`);
      assert.equal(pod?.securityContext?.seccompProfile?.type, 'RuntimeDefault');
      assert.notEqual(pod?.securityContext?.runAsUser, 0);
      for (const c of pod?.containers ?? []) {
        const sc = c.securityContext;
        assert.equal(sc?.readOnlyRootFilesystem, true, `${c.name}: readOnlyRootFilesystem`);
        assert.equal(sc?.allowPrivilegeEscalation, false, `${c.name}: allowPrivilegeEscalation`);
        assert.deepEqual(sc?.capabilities?.drop, ['ALL'], `${c.name}: capabilities`);
        assert.ok(
          c.resources?.requests && c.resources.limits?.memory,
          `${c.name}: requests and a memory limit`,
        );
      }
    }
    const spool = config.app.spoolDir;
    const mount = container.volumeMounts?.find(
      (m) => spool === m.mountPath || spool.startsWith(`${m.mountPath}/`),
    );
    assert.ok(mount, `a volume is mounted at app.spoolDir ${spool}`);
    const volume = deployment.spec?.template.spec?.volumes?.find((v) => v.name === mount.name);
    assert.ok(volume?.emptyDir, `${mount.name} is an emptyDir`);
    assert.ok(Number(container.resources?.limits?.cpu) >= config.threads, 'a core per worker thread');
  });

  it('mounts the configuration the container reads and the token files the configuration names', () => {
    const args = container.args ?? [];
    const file = args[args.indexOf('--config') + 1];
    const volumeOf = (p: string) => {
      const m = container.volumeMounts?.find((v) => path.posix.dirname(p) === v.mountPath);
      assert.ok(m, `nothing is mounted at ${path.posix.dirname(p)}`);
      return deployment.spec?.template.spec?.volumes?.find((v) => v.name === m.name);
    };
    const cm = volumeOf(file)?.configMap?.name;
    assert.equal(cm, r.get('ConfigMap', 'fcgi-pool-config').metadata?.name, `--config ${file}`);
    assert.equal(path.posix.basename(file), CONFIG_KEY);
    for (const token of [config.grpc.tokens.adminFile, config.grpc.tokens.readOnlyFile]) {
      assert.ok(token, 'tokens come from files');
      const secret = r.get('Secret', volumeOf(token)?.secret?.secretName ?? '(no secret volume)');
      assert.ok(
        secret.data?.[path.posix.basename(token)],
        `the Secret has the key ${path.posix.basename(token)}`,
      );
    }
    assert.equal(config.grpc.allowInsecureRemote, true);
  });

  it('gives in-flight requests their time: terminationGracePeriodSeconds > shutdown delay + grace', () => {
    const { delayMs, graceMs } = config.shutdown;
    assert.ok(delayMs >= 1000, 'shutdown.delayMs covers endpoint propagation');
    const period = deployment.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
    assert.ok(period > (delayMs + graceMs) / 1000, `${period} s <= ${(delayMs + graceMs) / 1000} s`);
  });

  it('Services, the peers Service and the ServiceMonitor select the pods and name real ports', () => {
    for (const s of r.all('Service')) {
      const target = r.all('Deployment').find((d) => selects(s.spec?.selector, podLabels(d)));
      assert.ok(target, `Service ${s.metadata?.name} selects no pods`);
      for (const p of s.spec?.ports ?? []) {
        portNumber(target.spec?.template.spec?.containers[0] as IContainer, p.targetPort ?? p.port);
      }
    }
    const peers = r.get('Service', 'fcgi-pool-peers');
    assert.equal(peers.spec?.clusterIP, 'None');
    assert.equal(peers.spec?.publishNotReadyAddresses, false);
    const ns = deployment.metadata?.namespace;
    assert.equal(config.discovery.peers, `fcgi-pool-peers.${ns}.svc.cluster.local`);

    const sm = r.get('ServiceMonitor', 'fcgi-pool');
    const admin = r.all('Service').filter((s) => selects(sm.spec.selector.matchLabels, s.metadata?.labels));
    assert.deepEqual(
      admin.map((s) => s.metadata?.name),
      ['fcgi-pool-admin'],
    );
    const endpoint = sm.spec.endpoints?.[0];
    const port = admin[0].spec?.ports?.find((p) => p.name === endpoint?.port);
    assert.equal(portNumber(container, port?.targetPort ?? ''), config.listen.admin.port);
    assert.ok(
      selects(r.get('PodDisruptionBudget', 'fcgi-pool').spec?.selector?.matchLabels, podLabels(deployment)),
    );
  });

  it('shares php-fpm: sharedMaxConnections = pm.max_children of each pod, maxReplicas ≤ pm.max_children', () => {
    const fpm = r.get('Deployment', 'php-fpm');
    const conf = r.get('ConfigMap', 'php-fpm-config').data?.['zzz-fcgi-pool.conf'] ?? '';
    const children = Number(/^pm\.max_children\s*=\s*(\d+)/m.exec(conf)?.[1]);
    assert.match(conf, /^listen\s*=\s*0\.0\.0\.0:9000$/m);
    assert.match(conf, /^pm\s*=\s*static$/m, 'a fixed number of children to share');
    const svc = r.get('Service', 'php-fpm');
    assert.equal(svc.spec?.clusterIP, 'None', 'headless: one record per php-fpm pod');
    const [server] = config.servers;
    assert.equal(server.address.kind, 'tcp');
    if (server.address.kind !== 'tcp') return;
    assert.equal(server.address.host, `php-fpm.${fpm.metadata?.namespace}.svc.cluster.local`);
    assert.equal(server.address.port, svc.spec?.ports?.[0].port);
    assert.equal(portNumber(fpm.spec?.template.spec?.containers[0] as IContainer, 'fastcgi'), 9000);
    // a DNS entry becomes one server per pod: the children behind each address are one pod's
    assert.equal(server.sharedMaxConnections, children);
    assert.equal(server.maxConnections, children);

    const hpa = r.get('HorizontalPodAutoscaler', 'fcgi-pool');
    assert.equal(hpa.spec?.scaleTargetRef.name, 'fcgi-pool');
    assert.ok(hpa.spec?.maxReplicas <= children, 'every replica keeps a connection per php-fpm pod');
    assert.ok((hpa.spec?.minReplicas ?? 1) >= 2 && (hpa.spec?.minReplicas ?? 1) <= hpa.spec?.maxReplicas);
    assert.equal(deployment.spec?.replicas, undefined, 'the HPA owns the replica count');
  });

  it('NetworkPolicy: HTTP open, the gRPC control port only from pods labelled fcgi-pool-control=true', () => {
    const np = r.get('NetworkPolicy', 'fcgi-pool');
    assert.ok(selects(np.spec?.podSelector?.matchLabels, podLabels(deployment)));
    assert.deepEqual(np.spec?.policyTypes, ['Ingress']);
    const grpc = config.listen.grpc.port;
    const rules = (np.spec?.ingress ?? []).map((rule) => ({
      from: rule.from,
      ports: (rule.ports ?? []).map((p) => portNumber(container, p.port ?? '')),
    }));
    for (const rule of rules) assert.ok(rule.ports.length > 0, 'no rule opens every port');
    assert.ok(rules.some((rule) => rule.ports.includes(config.listen.http.port) && rule.from === undefined));
    const control = rules.filter((rule) => rule.ports.includes(grpc));
    assert.ok(control.length > 0, 'the gRPC port is admitted at all');
    for (const rule of control) {
      assert.deepEqual(rule.from, [{ podSelector: { matchLabels: { 'fcgi-pool-control': 'true' } } }]);
    }
    const admin = rules.filter((rule) => rule.ports.includes(config.listen.admin.port));
    assert.ok(
      admin.length > 0 && admin.every((rule) => rule.from && rule.from.length > 0),
      'admin is not open to all',
    );
    const peers = admin.flatMap((rule) => rule.from ?? []);
    assert.ok(
      peers.some((p) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring'),
      'Prometheus in the monitoring namespace scrapes the admin port',
    );
    assert.ok(!peers.some((p) => p.ipBlock !== undefined), 'no address ranges on the admin port');
  });
});

describe('the probes and the scrape reach a real fcgi-pool started like the container', () => {
  let r: Rendered;
  let config: Config;
  let container: IContainer;
  let proc: ServeProcess;
  let responder: FcgiResponder;
  /** config port → port of this test's listener (the same listener on 127.0.0.1). */
  const local = new Map<number, number>();

  before(async () => {
    r = await render(EXAMPLE);
    const loaded = configOf(r, 'example-run');
    config = loaded.config;
    ({ container } = fcgiPool(r));
    responder = new FcgiResponder({});
    const backend = await responder.listen(0, '127.0.0.1');
    const tokens: Record<string, string> = {};
    for (const [env, key] of [
      ['FCGI_POOL_GRPC_ADMIN_TOKEN_FILE', 'admin'],
      ['FCGI_POOL_GRPC_TOKEN_FILE', 'read-only'],
    ]) {
      tokens[env] = path.join(tmp, key);
      writeFileSync(tokens[env], randomBytes(16).toString('hex'));
    }
    const flags: string[] = [];
    for (const name of ['http', 'grpc', 'admin'] as const) {
      const port = await freePort();
      local.set(config.listen[name].port, port);
      flags.push(`--${name}`, `127.0.0.1:${port}`);
    }
    // the container's own arguments, its --config pointing at the rendered file
    const args = (container.args ?? []).map((a) => (a.endsWith(`/${CONFIG_KEY}`) ? loaded.file : a));
    // the cluster's DNS names cannot resolve here: a local backend replaces them
    flags.push('--backend', `127.0.0.1:${backend.port}`);
    proc = startServe({ cwd: ROOT, args: [...args, ...flags], env: tokens });
    await eventually(() => httpGet(localPort(config.listen.http.port), '/'), 20_000, proc);
  });

  after(async () => {
    await proc?.stop();
    await responder?.close();
  });

  function localPort(port: number | string): number {
    const p = local.get(portNumber(container, port));
    assert.ok(p, `port ${port} is not one of fcgi-pool's listeners`);
    return p;
  }

  /** What the kubelet does for one probe, against this test's process. */
  async function probe(p: IProbe | undefined, what: string): Promise<void> {
    assert.ok(p, `${what} is set`);
    if (p.httpGet) {
      const port = localPort(p.httpGet.port);
      const reply = await eventually(() => httpGet(port, p.httpGet?.path ?? '/'), 10_000, proc).catch(
        (err: Error) => {
          throw new Error(`${what}: nothing answers GET ${p.httpGet?.path} on ${port} (${err.message})`);
        },
      );
      assert.equal(reply.status, 200, `${what}: GET ${p.httpGet.path} → ${reply.status} ${reply.body}`);
    } else if (p.grpc) {
      const status = await eventually(
        () => grpcHealthCheck(localPort(p.grpc?.port ?? 0), p.grpc?.service ?? ''),
        10_000,
        proc,
      );
      assert.equal(status, 'SERVING', what);
    } else assert.fail(`${what}: only httpGet and grpc probes are checked here`);
  }

  it('the HTTP gateway answers through the backend', async () => {
    const reply = await httpGet(localPort('http'), '/');
    assert.equal(reply.status, 200, reply.body);
  });

  it('startupProbe', () => probe(container.startupProbe, 'startupProbe'));
  it('livenessProbe', () => probe(container.livenessProbe, 'livenessProbe'));
  it('readinessProbe', () => probe(container.readinessProbe, 'readinessProbe'));

  it("the ServiceMonitor's endpoint serves Prometheus metrics", async () => {
    const endpoint = r.get('ServiceMonitor', 'fcgi-pool').spec.endpoints?.[0];
    const svc = r.get('Service', 'fcgi-pool-admin');
    const target = svc.spec?.ports?.find((p) => p.name === endpoint?.port)?.targetPort ?? '';
    const reply = await httpGet(localPort(target), endpoint?.path ?? '/metrics');
    assert.equal(reply.status, 200);
    assert.match(reply.body, /^# (HELP|TYPE) /m);
  });

  it('the gRPC health service on the control port is SERVING, without a token', async () => {
    const port = r.get('Service', 'fcgi-pool-control').spec?.ports?.[0].targetPort ?? '';
    assert.equal(await grpcHealthCheck(localPort(port)), 'SERVING');
  });

  it('SIGTERM: /readyz fails at once while HTTP still serves, then fcgi-pool exits 0 within the grace period', async () => {
    const ready = container.readinessProbe?.httpGet;
    assert.ok(ready);
    const started = Date.now();
    proc.child.kill('SIGTERM');
    const reply = await eventually(
      async () => {
        const res = await httpGet(localPort(ready.port), ready.path ?? '/');
        assert.equal(res.status, 503, 'draining');
        return res;
      },
      2000,
      proc,
    );
    assert.equal(reply.status, 503);
    assert.ok(Date.now() - started < config.shutdown.delayMs, 'observed within shutdown.delayMs');
    const during = await httpGet(localPort('http'), '/');
    assert.equal(during.status, 200, 'HTTP keeps serving during shutdown.delayMs');
    const limit =
      (r.get('Deployment', 'fcgi-pool').spec?.template.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      proc.exited,
      new Promise((res) => {
        timer = setTimeout(res, limit, 'still running after terminationGracePeriodSeconds');
      }),
    ]);
    clearTimeout(timer);
    assert.equal(code, 0, proc.output().slice(-2000));
    assert.ok(Date.now() - started >= config.shutdown.delayMs, 'it served for shutdown.delayMs first');
  });
});
