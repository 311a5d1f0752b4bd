// The spin model of the takeover protocol (model/takeover.pml) is part of the test suite: the
// protocol as modelled must verify with 0 errors over its full state space, and the same model
// with rule 1 or rule 3 broken must fail — so a model that stopped checking anything is caught.
// spin and gcc are required (CI installs them); a missing tool fails the test, never skips it.

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MODEL = fileURLToPath(new URL('../../model/takeover.pml', import.meta.url));
const STEP_TIMEOUT_MS = 120_000;

interface PanResult {
  errors: number;
  output: string;
}

function requireTool(cmd: string, args: string[], install: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) {
    assert.fail(`${cmd} is not installed (${r.error.message}); install it with: ${install}`);
  }
}

describe('takeover protocol model (spin)', { concurrency: true }, () => {
  const dirs: string[] = [];

  before(() => {
    requireTool('spin', ['-V'], 'apt-get install -y spin');
    requireTool('gcc', ['--version'], 'apt-get install -y gcc');
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /**
   * spin -a [-Ddefine] takeover.pml && gcc -o pan pan.c && ./pan -m200000, in a temp dir. -O0, not
   * the README's -O2: the verdict is the same and pan.c compiles five times faster.
   */
  async function verify(define?: string): Promise<PanResult> {
    const dir = mkdtempSync(join(tmpdir(), 'fcgi-pool-spin-'));
    dirs.push(dir);
    copyFileSync(MODEL, join(dir, 'takeover.pml'));
    const opts = { cwd: dir, timeout: STEP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 };
    await run('spin', [...(define ? [`-D${define}`] : []), '-a', 'takeover.pml'], opts);
    await run('gcc', ['-O0', '-w', '-o', 'pan', 'pan.c'], opts);
    // pan exits non-zero on some errors: keep its report either way
    const { stdout } = await run('./pan', ['-m200000'], opts).catch((e: { stdout?: string }) => ({
      stdout: e.stdout ?? '',
    }));
    const m = /errors: (\d+)/.exec(stdout);
    assert.ok(m, `no verdict in pan's output:\n${stdout}`);
    return { errors: Number(m[1]), output: stdout };
  }

  it('verifies the protocol with push and purge over the full state space, 0 errors', async () => {
    const r = await verify();
    assert.equal(r.errors, 0, r.output);
    assert.match(r.output, /Full statespace search/);
    assert.doesNotMatch(r.output, /max search depth too small/, 'the search must not be truncated');
  });

  it('finds the bug when the thief clears USR1 while stealing (rule 1 broken)', async () => {
    const r = await verify('BREAK_RULE1');
    assert.ok(r.errors > 0, r.output);
    assert.match(r.output, /assertion violated/);
  });

  it('finds the bug when the thief steals without the victim lock (rule 3 broken)', async () => {
    const r = await verify('BREAK_RULE3');
    assert.ok(r.errors > 0, r.output);
    assert.match(r.output, /assertion violated/);
  });
});
