// Starts a real Prometheus server (the Debian package, /usr/bin/prometheus) for the admin tests:
// a temp config that scrapes the given targets every second, a temp TSDB, a free port on
// loopback; queries go through its HTTP API like a dashboard's would. Killed on process exit
// even if a test forgets stop().
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.ts';

export { freePort };

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface Prometheus {
  readonly url: string;
  /** An instant query at the current time (/api/v1/query). */
  query(promql: string): Promise<PromSample[]>;
  /**
   * Polls `promql` until `ok` accepts its result: Prometheus sees a change only after its next
   * scrape. Throws with the last result after `deadlineMs` (a bound against hanging, not a
   * timing assertion).
   */
  waitFor(promql: string, ok: (r: PromSample[]) => boolean, deadlineMs?: number): Promise<PromSample[]>;
  /** The sum of every sample of a query's result (0 for none). */
  value(promql: string): Promise<number>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** `jobs`: job name → "host:port" of its admin server. */
export async function startPrometheus(jobs: Record<string, string>): Promise<Prometheus> {
  if (!existsSync(PROMETHEUS_BIN))
    throw new Error(`${PROMETHEUS_BIN} is missing: apt-get install prometheus`);
  const dir = mkdtempSync(join(tmpdir(), 'fcgipool-prom-'));
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    ...Object.entries(jobs).flatMap(([job, target]) => [
      `  - job_name: ${job}`,
      '    static_configs:',
      `      - targets: ['${target}']`,
    ]),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  running.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (running.delete(child)) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  // ready once its HTTP API answers (a few hundred ms; bounded against a broken install)
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (i > 200) {
      await stop();
      throw new Error(`prometheus did not become ready: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const query = async (promql: string): Promise<PromSample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: {
        resultType: string;
        result: Array<{ metric: Record<string, string>; value: [number, string] }>;
      };
    };
    if (body.status !== 'success' || !body.data) throw new Error(`query ${promql} failed: ${body.error}`);
    if (body.data.resultType !== 'vector')
      throw new Error(`query ${promql}: ${body.data.resultType}, not a vector`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };

  return {
    url,
    query,
    async waitFor(promql, ok, deadlineMs = 15_000) {
      const deadline = Date.now() + deadlineMs;
      for (;;) {
        const r = await query(promql);
        if (ok(r)) return r;
        if (Date.now() > deadline) {
          throw new Error(`${promql} never satisfied the condition; last result ${JSON.stringify(r)}`);
        }
        await new Promise((res) => setTimeout(res, 200));
      }
    },
    async value(promql) {
      return (await query(promql)).reduce((n, s) => n + s.value, 0);
    },
    stop,
  };
}
