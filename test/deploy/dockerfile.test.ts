// deploy/Dockerfile without a Docker engine: its properties are read from the file, and its
// steps are replayed outside Docker — the files it COPYs (filtered by .dockerignore) into a
// temporary /app, its `npm ci` there, then `fcgi-pool serve` from that directory — so a missing
// source directory, a dev dependency needed at run time or a broken production install fails
// here rather than in a cluster.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DEFAULTS } from '../../src/config/schema.ts';
import { type ListenPorts, listenPorts } from '../helpers/ports.ts';
import { eventually, httpGet, type ServeProcess, startServe } from '../helpers/serve-process.ts';
import {
  dockerignoreIncludes,
  execForm,
  find,
  pairs,
  parseCopy,
  parseDockerfile,
  runCommand,
  type Stage,
  workdirAt,
} from './dockerfile.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dockerfile = parseDockerfile(readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8'));
const dockerignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { license: string };
const final = dockerfile.stages[dockerfile.stages.length - 1];
const stageNames = new Set(dockerfile.stages.map((s) => s.name).filter(Boolean));

/** Every file under `rel` (a context path), relative to the repository root. */
function filesUnder(rel: string): string[] {
  const abs = path.join(ROOT, rel);
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

/** Every COPY from the build context, in any stage. */
const contextCopies = dockerfile.stages.flatMap((s) =>
  find(s, 'COPY')
    .map((c) => parseCopy(c.args))
    .filter((c) => c.from === undefined),
);

describe('deploy/Dockerfile', () => {
  it('builds every stage on Node 26 slim', () => {
    assert.ok(dockerfile.stages.length >= 2, 'multi-stage: dependencies are installed in their own stage');
    for (const s of dockerfile.stages) {
      if (stageNames.has(s.image)) continue;
      assert.match(s.image, /^node:26(\.\d+)*-(\w+-)?slim(@sha256:[0-9a-f]{64})?$/, `FROM ${s.image}`);
    }
  });

  it('runs as a non-root user given by number, so runAsNonRoot can verify it', () => {
    const users = find(final, 'USER');
    assert.ok(users.length > 0, 'the final stage sets USER');
    const [uid, gid] = users[users.length - 1].args.split(':');
    assert.match(uid, /^\d+$/, 'numeric uid');
    assert.notEqual(Number(uid), 0, 'not root');
    if (gid !== undefined) assert.notEqual(Number(gid), 0, 'not the root group');
  });

  it('installs production dependencies only, without the second Node binary of the `node` package', () => {
    const installs = dockerfile.stages
      .flatMap((s) => find(s, 'RUN'))
      .filter((r) => /\bnpm ci\b/.test(r.args));
    assert.equal(installs.length, 1, 'one npm ci');
    const cmd = installs[0].args;
    assert.match(cmd, /--omit=dev/);
    assert.match(cmd, /rm -rf [^&]*node_modules\/node\b/, 'node_modules/node is removed');
    assert.match(cmd, /node_modules\/\.bin\/node\b/, 'and its bin link');
  });

  it('labels the image with the OCI annotations', () => {
    const labels = new Map(find(final, 'LABEL').flatMap((l) => [...pairs(l.args)]));
    for (const key of ['title', 'description', 'version', 'revision', 'created', 'source', 'licenses']) {
      assert.ok(labels.has(`org.opencontainers.image.${key}`), `org.opencontainers.image.${key}`);
    }
    assert.equal(labels.get('org.opencontainers.image.licenses'), pkg.license);
    assert.equal(labels.get('org.opencontainers.image.title'), 'fcgi-pool');
  });

  it("exposes the service's default HTTP, gRPC and admin ports", () => {
    const exposed = find(final, 'EXPOSE')
      .flatMap((e) => e.args.split(/\s+/))
      .map((p) => Number(p.replace(/\/tcp$/, '')));
    const { http, grpc, admin } = DEFAULTS.listen;
    assert.deepEqual(
      exposed.sort((a, b) => a - b),
      [http.port, grpc.port, admin.port].sort((a, b) => a - b),
    );
  });

  it('starts node directly (exec form), so SIGTERM reaches fcgi-pool, and serves by default', () => {
    const entry = find(final, 'ENTRYPOINT');
    assert.equal(entry.length, 1);
    assert.deepEqual(execForm(entry[0].args), ['node', 'bin/fcgi-pool.js'], 'exec form: no shell in between');
    assert.deepEqual(execForm(find(final, 'CMD')[0]?.args ?? ''), ['serve']);
    assert.equal(find(final, 'HEALTHCHECK').length, 0, 'Kubernetes probes replace HEALTHCHECK');
  });

  it('.dockerignore lets in every file the Dockerfile copies, and keeps the rest out', () => {
    for (const c of contextCopies) {
      for (const src of c.sources) {
        for (const f of filesUnder(src)) assert.ok(dockerignoreIncludes(dockerignore, f), `${f} is ignored`);
      }
    }
    for (const f of [
      'node_modules/x/index.js',
      '.git/HEAD',
      'test/deploy/x.ts',
      'deploy/k8s/base/x.yaml',
      '.env',
    ]) {
      assert.equal(dockerignoreIncludes(dockerignore, f), false, `${f} reaches the build context`);
    }
  });

  it('the runtime stage runs nothing on the application files', () => {
    // the replay below skips these RUNs: they may only prune the base image
    const app = workdirAt(final, final.instructions.length);
    for (const r of find(final, 'RUN')) {
      for (const word of runCommand(r.args).split(/\s+/)) {
        if (/^(rm|-\w+|&&|\\)$/.test(word)) continue;
        assert.ok(word.startsWith('/') && !`${word}/`.startsWith(`${app}/`), `RUN touches "${word}"`);
      }
    }
  });
});

describe('the production file set of the image runs', () => {
  let app: string;
  let proc: ServeProcess | undefined;
  let ports: ListenPorts;

  before(async () => {
    app = mkdtempSync(path.join(tmpdir(), 'fcgi-pool-image-'));
    await replay(app);
    ports = await listenPorts();
    proc = startServe({
      cwd: app,
      args: [
        ...(execForm(find(final, 'CMD')[0].args) ?? []),
        ...ports.flags,
        ...['--threads', '1', '--access-log', 'off'],
      ],
    });
  });

  after(async () => {
    await proc?.stop();
    rmSync(app, { recursive: true, force: true });
  });

  it('has no dev dependencies and no Node binary of its own', () => {
    assert.equal(
      existsSync(path.join(app, 'node_modules/typescript')),
      false,
      'typescript is a dev dependency',
    );
    assert.equal(existsSync(path.join(app, 'node_modules/@biomejs')), false);
    assert.equal(existsSync(path.join(app, 'node_modules/node')), false, 'node_modules/node is gone');
    assert.equal(existsSync(path.join(app, 'node_modules/.bin/node')), false);
    assert.ok(existsSync(path.join(app, 'node_modules/fastify')), 'production dependencies are installed');
  });

  it('serves HTTP through the embedded responder', async () => {
    const reply = await eventually(() => httpGet(ports.http, '/'), 20_000, proc);
    assert.equal(reply.status, 200, reply.body);
    assert.match(reply.body, /embedded FastCGI responder/);
  });

  it('answers the liveness probe, GET /healthz on the admin port', async () => {
    await eventually(() => httpGet(ports.http, '/'), 20_000, proc);
    const reply = await eventually(() => httpGet(ports.admin, '/healthz'), 3000, proc).catch((err: Error) => {
      throw new Error(
        `nothing answers GET /healthz on the admin port ${ports.admin} (${err.message}): ` +
          '`fcgi-pool serve` must start the admin server (listen.admin)',
      );
    });
    assert.equal(reply.status, 200, reply.body);
  });
});

/**
 * The Dockerfile's steps with /app mapped to `app`: the dependency stage's COPYs and RUNs
 * (npm from the local cache first), then the final stage's COPYs from that stage and from the
 * build context. The final stage's own RUNs only prune the base image and are skipped.
 */
async function replay(app: string): Promise<void> {
  const toHost = (stage: Stage, index: number, p: string) => {
    const abs = path.posix.resolve(workdirAt(stage, index), p);
    const wd = workdirAt(final, final.instructions.length);
    assert.ok(abs === wd || abs.startsWith(`${wd}/`), `${p} is outside the application directory ${wd}`);
    return path.join(app, path.posix.relative(wd, abs));
  };
  const copyFromContext = (stage: Stage, index: number, sources: string[], dest: string) => {
    for (const src of sources) {
      const from = path.join(ROOT, src);
      const isDir = statSync(from).isDirectory();
      const to = toHost(
        stage,
        index,
        dest.endsWith('/') && !isDir ? path.posix.join(dest, path.basename(src)) : dest,
      );
      mkdirSync(path.dirname(to), { recursive: true });
      cpSync(from, to, {
        recursive: true,
        filter: (f) =>
          dockerignoreIncludes(dockerignore, path.relative(ROOT, f).split(path.sep).join('/') || '.'),
      });
    }
  };
  const run = promisify(execFile);
  for (const stage of dockerfile.stages) {
    const isFinal = stage === final;
    for (const [index, ins] of stage.instructions.entries()) {
      if (ins.keyword === 'COPY') {
        const c = parseCopy(ins.args);
        if (c.from === undefined) copyFromContext(stage, index, c.sources, c.dest);
        else {
          // from an earlier stage whose /app is the same directory here
          for (const src of c.sources) {
            const fromStage = dockerfile.stages.find((s) => s.name === c.from);
            assert.ok(fromStage, `COPY --from=${c.from}: no such stage`);
            const from = toHost(fromStage, fromStage.instructions.length, src);
            assert.equal(from, toHost(stage, index, c.dest), 'the stages share the application directory');
          }
        }
      } else if (ins.keyword === 'RUN' && !isFinal) {
        await run('sh', ['-c', runCommand(ins.args)], {
          cwd: toHost(stage, index, '.'),
          env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
          timeout: 120_000,
          maxBuffer: 16 * 1024 * 1024,
        });
      }
    }
  }
}
