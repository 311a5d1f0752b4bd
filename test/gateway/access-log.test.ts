// The access line is built by hand for speed; it must read exactly as the line pino would
// have written for the same fields, on the same destination, escapes included.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { AccessLog } from '../../src/gateway/access-log.ts';
import { createLogger } from '../../src/logger.ts';

test('an access line reads as the line pino writes for the same fields', async () => {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      raw.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  const log = createLogger({ level: 'info', destination: stream });
  const entry = {
    reqId: 'r-1',
    method: 'GET',
    url: '/a.php?q="quoted"\\back\u00e9\u0001',
    status: 502,
    ms: 12.34,
    remote: '127.0.0.1',
    server: 'php:9000',
    why: 'the backend said "no"\n',
  };
  const access = new AccessLog(log);
  access.write(entry);
  log.info(entry, 'request');
  const child = new AccessLog(log.child({ component: 'gateway' }));
  child.write({ ...entry, server: undefined, why: undefined });
  child.write({ ...entry, reqId: 'r-2' });
  await new Promise((r) => setImmediate(r));
  assert.equal(raw.length, 4);
  const [ours, pinos, fromChild, second] = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(typeof ours.time === 'string' && !Number.isNaN(Date.parse(ours.time)));
  delete ours.time;
  delete pinos.time;
  assert.deepEqual(ours, pinos);
  assert.deepEqual(Object.keys(ours), Object.keys(pinos), 'same field order');
  assert.equal(fromChild.component, 'gateway');
  assert.equal('server' in fromChild || 'why' in fromChild, false);
  assert.equal(second.reqId, 'r-2');
});
