// The status page at `/`: static HTML, CSS and a small plain script that polls /status.json every
// second and redraws the tables, with rates from the difference of two polls. No framework, no
// external resource; the script only sets textContent, so names from the configuration cannot
// inject markup (and the CSP forbids inline script anyway).

export const STATUS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const STATUS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fcgi-pool status</title>
<link rel="stylesheet" href="status.css">
<script src="status.js" defer></script>
</head>
<body>
<header>
  <h1>fcgi-pool</h1>
  <span id="ready" class="badge">…</span>
  <span id="updated" class="muted">waiting for the first poll</span>
</header>
<section class="tiles">
  <div><b data-k="sum-requests-rate">–</b><span>requests/s</span></div>
  <div><b data-k="sum-wakeups-rate">–</b><span>backend wake-ups/s</span></div>
  <div><b data-k="sum-fast-share">–</b><span>wake-ups on the USR1 fast path</span></div>
  <div><b data-k="sum-locked-rate">–</b><span>locked wake-ups/s</span></div>
  <div><b data-k="sum-takeovers-rate">–</b><span>takeovers/s</span></div>
  <div><b data-k="sum-connections">–</b><span>open / max connections</span></div>
  <div><b data-k="sum-queue">–</b><span>queued requests</span></div>
</section>
<h2>Threads</h2>
<table id="threads"><thead><tr>
  <th>thread</th><th>event loop</th><th>requests</th><th>req/s</th>
  <th>fast wake-ups</th><th>fast/s</th><th>locked wake-ups</th><th>locked/s</th><th>fast share</th>
  <th>lock acq/s</th><th>contended</th><th>lock wait ms</th><th>hand-offs in</th><th>mean hand-off ms</th><th>restarts</th>
</tr></thead><tbody></tbody></table>
<h2>Servers</h2>
<table id="servers"><thead><tr>
  <th>server</th><th>address</th><th>state</th><th>open / max</th><th>idle</th><th>safe</th><th>used</th><th>queue</th>
  <th>opened</th><th>reuses</th><th>purged</th><th>HTTP requests</th><th>req/s</th>
</tr></thead><tbody></tbody></table>
<h2>Takeovers</h2>
<table id="takeovers"><thead><tr>
  <th>server</th><th>success</th><th>empty</th><th>busy</th><th>failed</th><th>pushes</th><th>success/s</th>
</tr></thead><tbody></tbody></table>
<h2>Idle lists</h2>
<p class="muted">idle + safe connections per thread; <span data-k="idle-total">0</span> idle connections in all, <span data-k="slots"></span></p>
<table id="idle-lists"><thead><tr><th>server</th></tr></thead><tbody></tbody></table>
<table id="idle-conns"><thead><tr>
  <th>connection</th><th>server</th><th>thread</th><th>list</th><th>idle for</th><th>requests served</th>
</tr></thead><tbody></tbody></table>
</body>
</html>
`;

export const STATUS_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #222; background: #fafafa; }
header { display: flex; align-items: baseline; gap: 1rem; }
h1 { font-size: 1.4rem; margin: 0; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .4rem; }
.muted { color: #777; }
.badge { padding: .1rem .6rem; border-radius: 1rem; font-weight: 600; background: #ddd; }
.badge.ok { background: #cdeccf; color: #185c1d; }
.badge.bad { background: #f6d0cc; color: #8a1b10; }
.badge.warn { background: #fbe7b5; color: #6b4b00; }
.tiles { display: flex; flex-wrap: wrap; gap: .8rem; margin-top: 1rem; }
.tiles div { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .5rem .9rem; min-width: 9rem; }
.tiles b { display: block; font-size: 1.4rem; font-variant-numeric: tabular-nums; }
.tiles span { color: #666; font-size: .85rem; }
table { border-collapse: collapse; background: #fff; margin-bottom: .6rem; }
th, td { border: 1px solid #ddd; padding: .2rem .6rem; text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th { background: #f0f0f0; font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
td.text { text-align: left; }
.bar { display: inline-block; height: .6rem; background: #6a9fd8; vertical-align: middle; margin-right: .4rem; }
.state-READY { color: #185c1d; } .state-DRAIN { color: #6b4b00; } .state-MAINT { color: #8a1b10; }
`;

export const STATUS_JS = `'use strict';
(() => {
  const POLL_MS = 1000;
  let prev = null;

  const fmt = (n, digits = 0) =>
    n === null || n === undefined || Number.isNaN(n)
      ? '–'
      : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const pct = (x) => (x === null ? '–' : fmt(x * 100, 1) + ' %');
  const rate = (cur, old, dt) => (old === undefined || old === null || dt <= 0 ? null : Math.max(0, (cur - old) / dt));
  const sum = (xs, f) => xs.reduce((n, x) => n + f(x), 0);

  function cell(value, key, cls) {
    const td = document.createElement('td');
    td.textContent = value;
    if (key) td.dataset.k = key;
    if (cls) td.className = cls;
    return td;
  }
  function row(cells) {
    const tr = document.createElement('tr');
    tr.append(...cells);
    return tr;
  }
  function fill(id, rows) {
    document.querySelector('#' + id + ' tbody').replaceChildren(...rows);
  }
  function setText(key, text) {
    for (const el of document.querySelectorAll('[data-k="' + key + '"]')) el.textContent = text;
  }
  function elu(x) {
    const td = cell('', null);
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = Math.round(x * 60) + 'px';
    td.append(bar, pct(x));
    return td;
  }

  function render(cur, old) {
    const dt = old ? (cur.time - old.time) / 1000 : 0;
    const oldThread = (t) => (old ? old.threads.find((o) => o.thread === t.thread) : undefined);
    const oldServer = (s) => (old ? old.servers.find((o) => o.index === s.index) : undefined);

    const badge = document.getElementById('ready');
    badge.textContent = cur.draining ? 'draining' : cur.ready ? 'ready' : 'not ready';
    badge.className = 'badge ' + (cur.draining ? 'warn' : cur.ready ? 'ok' : 'bad');
    document.getElementById('updated').textContent =
      'updated ' + new Date(cur.time).toLocaleTimeString() + ' · up ' + fmt(cur.uptimeSeconds) + ' s';

    const threadRows = cur.threads.map((t) => {
      const o = oldThread(t);
      const k = 'thread-' + t.thread + '-';
      const dFast = o ? t.usr1Fast - o.usr1Fast : 0;
      const dLocked = o ? t.locked - o.locked : 0;
      const share = dFast + dLocked > 0 ? dFast / (dFast + dLocked) : null;
      return row([
        cell(String(t.thread)),
        elu(t.eventLoopUtilization),
        cell(fmt(t.requests), k + 'requests'),
        cell(fmt(rate(t.requests, o && o.requests, dt), 1), k + 'requests-rate'),
        cell(fmt(t.usr1Fast), k + 'usr1Fast'),
        cell(fmt(rate(t.usr1Fast, o && o.usr1Fast, dt), 1), k + 'usr1Fast-rate'),
        cell(fmt(t.locked), k + 'locked'),
        cell(fmt(rate(t.locked, o && o.locked, dt), 1), k + 'locked-rate'),
        cell(pct(share), k + 'fast-share'),
        cell(fmt(rate(t.lock.acquisitions, o && o.lock.acquisitions, dt), 1), k + 'lock-rate'),
        cell(fmt(t.lock.contended), k + 'contended'),
        cell(fmt(t.lock.waitMs, 3), k + 'wait'),
        cell(fmt(t.handoffs), k + 'handoffs'),
        cell(t.handoffs > 0 ? fmt(t.handoffMeanMs, 2) : '–', k + 'handoff-mean'),
        cell(fmt(t.restarts), k + 'restarts'),
      ]);
    });
    fill('threads', threadRows);

    fill(
      'servers',
      cur.servers.map((s) => {
        const o = oldServer(s);
        const k = 'server-' + s.index + '-';
        return row([
          cell(s.name, k + 'name'),
          cell(s.address, null, 'text'),
          cell(s.state, k + 'state', 'text state-' + s.state),
          cell(fmt(s.open) + ' / ' + fmt(s.maxConnections), k + 'open'),
          cell(fmt(s.idle), k + 'idle'),
          cell(fmt(s.safe), k + 'safe'),
          cell(fmt(s.used), k + 'used'),
          cell(fmt(s.queue), k + 'queue'),
          cell(fmt(s.opened), k + 'opened'),
          cell(fmt(s.reuses), k + 'reuses'),
          cell(fmt(s.purged), k + 'purged'),
          cell(fmt(s.requests), k + 'requests'),
          cell(fmt(rate(s.requests, o && o.requests, dt), 1), k + 'requests-rate'),
        ]);
      }),
    );

    fill(
      'takeovers',
      cur.servers.map((s) => {
        const o = oldServer(s);
        const k = 'takeover-' + s.index + '-';
        return row([
          cell(s.name),
          cell(fmt(s.takeovers.success), k + 'success'),
          cell(fmt(s.takeovers.empty), k + 'empty'),
          cell(fmt(s.takeovers.busy), k + 'busy'),
          cell(fmt(s.takeovers.failed), k + 'failed'),
          cell(fmt(s.pushed), k + 'pushed'),
          cell(fmt(rate(s.takeovers.success, o && o.takeovers.success, dt), 1), k + 'success-rate'),
        ]);
      }),
    );

    const head = document.querySelector('#idle-lists thead tr');
    head.replaceChildren(
      Object.assign(document.createElement('th'), { textContent: 'server' }),
      ...cur.threads.map((t) => Object.assign(document.createElement('th'), { textContent: 'thread ' + t.thread })),
    );
    fill(
      'idle-lists',
      cur.servers.map((s) =>
        row([
          cell(s.name),
          ...s.perThread.map((p) =>
            cell(fmt(p.idle) + ' + ' + fmt(p.safe), 'idle-' + s.index + '-' + p.thread),
          ),
        ]),
      ),
    );
    fill(
      'idle-conns',
      cur.idle.shown.map((c) =>
        row([
          cell('#' + c.id),
          cell(c.server, null, 'text'),
          cell(String(c.thread)),
          cell(c.list, null, 'text'),
          cell(fmt(c.idleMs / 1000, 1) + ' s'),
          cell(fmt(c.requestsServed)),
        ]),
      ),
    );
    setText('idle-total', fmt(cur.idle.total));
    setText(
      'slots',
      'slots: ' + fmt(cur.slots.free) + ' free, ' + fmt(cur.slots.attached) + ' attached, ' +
        fmt(cur.slots.stolen) + ' moving between threads',
    );

    const reqNow = sum(cur.threads, (t) => t.requests);
    const fastNow = sum(cur.threads, (t) => t.usr1Fast);
    const lockedNow = sum(cur.threads, (t) => t.locked);
    const takeNow = sum(cur.servers, (s) => s.takeovers.success);
    const reqOld = old ? sum(old.threads, (t) => t.requests) : null;
    const fastOld = old ? sum(old.threads, (t) => t.usr1Fast) : null;
    const lockedOld = old ? sum(old.threads, (t) => t.locked) : null;
    const takeOld = old ? sum(old.servers, (s) => s.takeovers.success) : null;
    setText('sum-requests-rate', fmt(rate(reqNow, reqOld, dt), 1));
    setText('sum-wakeups-rate', fmt(rate(fastNow + lockedNow, old ? fastOld + lockedOld : null, dt), 1));
    setText('sum-locked-rate', fmt(rate(lockedNow, lockedOld, dt), 1));
    setText('sum-takeovers-rate', fmt(rate(takeNow, takeOld, dt), 1));
    setText('sum-fast-share', fastNow + lockedNow > 0 ? pct(fastNow / (fastNow + lockedNow)) : '–');
    setText(
      'sum-connections',
      fmt(sum(cur.servers, (s) => s.open)) + ' / ' + fmt(sum(cur.servers, (s) => s.maxConnections)),
    );
    setText('sum-queue', fmt(sum(cur.servers, (s) => s.queue)));
  }

  async function poll() {
    try {
      const res = await fetch('status.json', { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const cur = await res.json();
      render(cur, prev);
      prev = cur;
    } catch (err) {
      document.getElementById('updated').textContent = 'poll failed: ' + err.message;
    }
    setTimeout(poll, POLL_MS);
  }
  poll();
})();
`;
