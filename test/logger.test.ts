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

test('a batching logger writes lines together, and a quiet one within its delay', async () => {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      writes.push(String(chunk));
      done();
    },
  });
  const log = createLogger({ level: 'info', destination: stream, batchMs: 30 });
  log.info('one');
  log.info('two');
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 0, 'held for the batch');
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(writes.length, 1, 'both lines in one write once the delay passed');
  assert.deepEqual(
    writes[0]
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l).msg),
    ['one', 'two'],
  );
  // a full batch goes at once, without waiting for the delay
  for (let i = 0; i < 40; i++) log.info({ pad: 'x'.repeat(100) }, `line ${i}`);
  await new Promise((r) => setImmediate(r));
  assert.ok(writes.length >= 2, 'written when 4 KiB waited');
  log.info('last');
  log.flush();
  await new Promise((r) => setImmediate(r));
  assert.equal(JSON.parse(writes.at(-1)!.trimEnd().split('\n').at(-1)!).msg, 'last');
});
