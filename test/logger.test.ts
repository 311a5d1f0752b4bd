import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../src/logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

test('request lines carry the request id and a readable level', async () => {
  const { lines, stream } = capture();
  const log = createLogger({ level: 'info', destination: stream });
  log.child({ reqId: 'r-42' }).info({ status: 502 }, 'backend closed early');
  log.debug('not shown at info');
  await new Promise((r) => setImmediate(r));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].reqId, 'r-42');
  assert.equal(lines[0].level, 'info');
  assert.equal(lines[0].status, 502);
  assert.equal(lines[0].msg, 'backend closed early');
  assert.equal(typeof lines[0].thread, 'number');
});

test('tokens and authorization headers are redacted', async () => {
  const { lines, stream } = capture();
  const log = createLogger({ level: 'info', destination: stream });
  log.info(
    { headers: { authorization: 'Bearer s3cret', host: 'x' }, grpc: { tokens: { admin: 's3cret' } } },
    'x',
  );
  await new Promise((r) => setImmediate(r));
  assert.doesNotMatch(JSON.stringify(lines[0]), /s3cret/);
  assert.equal((lines[0].headers as Record<string, string>).host, 'x');
});
