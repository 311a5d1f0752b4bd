// The status page as a person sees it: headless Chromium (the Debian package) opens `/` on a
// real admin listener in front of a real pool, and the page renders the threads, servers,
// takeovers and idle lists, then its numbers move while requests run.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { buildAdmin } from '../../src/admin/admin-server.ts';
import { FcgiResponder } from '../../src/fcgi/responder.ts';
import type { PoolRuntime } from '../../src/pool/pool-runtime.ts';
import { getParams, run, startTestPool } from '../helpers/pool.ts';

/** The page's DOM, as far as the functions evaluated in the browser use it (no DOM lib here). */
interface PageElement {
  textContent: string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { length: number };
  getElementById(id: string): PageElement | null;
};

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The number a `[data-k]` cell shows ("1,234" → 1234; "–" → NaN). */
async function shown(page: Page, key: string): Promise<number> {
  const text = await page.locator(`[data-k="${key}"]`).first().textContent();
  return Number((text ?? '').replace(/,/g, ''));
}

/** Waits until the page shows more than `than` in cell `key` (the page polls every second). */
async function shownAbove(page: Page, key: string, than: number): Promise<number> {
  await page.waitForFunction(
    ([k, n]) => {
      const el = document.querySelector(`[data-k="${k}"]`);
      return el !== null && Number((el.textContent ?? '').replace(/,/g, '')) > Number(n);
    },
    [key, String(than)] as const,
    { timeout: 15_000 },
  );
  return shown(page, key);
}

describe('status page in a browser', () => {
  let responder: FcgiResponder;
  let pool: PoolRuntime;
  let admin: FastifyInstance;
  let url: string;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;
  let draining = false;
  const pageErrors: string[] = [];

  before(async () => {
    responder = new FcgiResponder({});
    const { host, port } = await responder.listen(0, '127.0.0.1');
    pool = await startTestPool({ threads: 2, maxConnections: 4, address: { kind: 'tcp', host, port } });
    admin = buildAdmin({ runtime: pool, isDraining: () => draining });
    await admin.listen({ host: '127.0.0.1', port: 0 });
    const addr = admin.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('admin is not on TCP');
    url = `http://127.0.0.1:${addr.port}/`;
    profile = mkdtempSync(join(tmpdir(), 'fcgipool-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
  });
  after(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await admin?.close();
    await pool?.stop(2000);
    await responder?.close();
  });

  it('renders the threads, the server and the readiness of an idle pool', async () => {
    const res = await page.goto(url);
    assert.equal(res?.status(), 200);
    await page.locator('[data-k="thread-1-requests"]').waitFor({ timeout: 15_000 });
    assert.equal(await page.title(), 'fcgi-pool status');
    assert.equal(await page.locator('#threads tbody tr').count(), 2, 'one row per worker thread');
    assert.equal(await page.locator('[data-k="server-0-name"]').textContent(), 'backend');
    assert.equal(await page.locator('[data-k="server-0-state"]').textContent(), 'READY');
    assert.equal(await page.locator('[data-k="server-0-open"]').textContent(), '0 / 4');
    assert.equal(await page.locator('#ready').textContent(), 'ready');
    assert.equal(await shown(page, 'thread-0-requests'), 0);
    assert.equal(await shown(page, 'takeover-0-success'), 0);
    assert.deepEqual(pageErrors, []);
  });

  it('shows requests, fast-path wake-ups and their rates moving while requests run', async () => {
    const before0 = await shown(page, 'thread-0-usr1Fast');
    let stop = false;
    const loops = [0, 1, 0, 1].map(async (thread) => {
      while (!stop) await run(pool, thread, getParams('/'));
    });
    try {
      const req0 = await shownAbove(page, 'thread-0-requests', 0);
      const req1 = await shownAbove(page, 'thread-1-requests', 0);
      assert.ok(req0 > 0 && req1 > 0);
      assert.ok((await shownAbove(page, 'thread-0-usr1Fast', before0)) > before0);
      // a rate needs two polls that both saw traffic
      assert.ok((await shownAbove(page, 'sum-requests-rate', 0)) > 0);
      const later = await shownAbove(page, 'thread-0-requests', req0);
      assert.ok(later > req0, `the count kept moving (${req0} → ${later})`);
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    assert.ok((await shownAbove(page, 'server-0-opened', 0)) <= 4, 'never more connections than the cap');
    assert.deepEqual(pageErrors, []);
  });

  it('shows a takeover, the idle lists and a draining service', async () => {
    // the load above may have moved connections already (steals and pushes): count from here
    const before = pool.stats.snapshot().servers[0].takeovers.success;
    await shownAbove(page, 'takeover-0-success', before - 1);
    const moved = await pool.takeover({ server: 0, fromThread: 0, toThread: 1, count: 1 });
    assert.equal(moved.moved.length, 1, moved.reason ?? 'one connection moved');
    assert.equal(await shownAbove(page, 'takeover-0-success', before), before + 1);
    await page.waitForFunction(() => document.querySelectorAll('#idle-conns tbody tr').length > 0, null, {
      timeout: 15_000,
    });
    const idleCell = await page.locator('[data-k="idle-0-1"]').textContent();
    assert.match(idleCell ?? '', /^\d+ \+ \d+$/, 'idle + safe per thread');
    draining = true;
    try {
      await page.waitForFunction(() => document.getElementById('ready')?.textContent === 'draining', null, {
        timeout: 15_000,
      });
    } finally {
      draining = false;
    }
    assert.deepEqual(pageErrors, []);
  });
});
