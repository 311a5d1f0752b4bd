// The README's start command, as a person runs it: `npm start` in a terminal, stopped with
// Ctrl-C (SIGINT to the whole process group) or by a supervisor's SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { listenPorts } from '../helpers/ports.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  describe(`npm start stopped by ${signal} to its process group`, () => {
    it('serves the embedded backend, then exits 0 with every port closed', async () => {
      const ports = await listenPorts();
      const child = spawn('npm', ['start', '--', ...ports.flags], {
        cwd: ROOT,
        detached: true,
        stdio: 'ignore',
      });
      const exited = once(child, 'exit');
      try {
        let ready = 0;
        for (let i = 0; i < 200 && ready !== 200; i++) {
          ready = await get(ports.admin, '/readyz').catch(() => 0);
          if (ready !== 200) await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(ready, 200, 'the service came up');
        assert.equal(await get(ports.http, '/echo'), 200, 'the embedded backend answers through the gateway');
        process.kill(-child.pid!, signal);
        const [code, sig] = await exited;
        assert.deepEqual([code, sig], [0, null], 'npm start exits 0');
        for (const port of [ports.http, ports.grpc, ports.admin])
          assert.equal(await refused(port), true, `port ${port} closed`);
      } finally {
        if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      }
    });
  });
}
