import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { GatewayError, GatewayErrorCode } from '../../src/errors.ts';
import { type CgiParseResult, CgiResponseParser } from '../../src/gateway/cgi-response.ts';

type Done = Extract<CgiParseResult, { done: true }>;

/** Feeds the chunks; returns the head result and all body bytes after it. */
function feed(chunks: Buffer[], max?: number): { head: Done; body: Buffer } {
  const parser = new CgiResponseParser(max);
  let head: Done | undefined;
  const body: Buffer[] = [];
  for (const chunk of chunks) {
    if (head !== undefined) {
      body.push(chunk);
      continue;
    }
    const r = parser.push(chunk);
    if (r.done) {
      head = r;
      body.push(r.body);
    }
  }
  assert.ok(head !== undefined, 'the head never completed');
  return { head, body: Buffer.concat(body) };
}

function parse(text: string, max?: number) {
  return feed([Buffer.from(text, 'latin1')], max);
}

function parseError(text: string | Buffer[], max?: number): GatewayError {
  try {
    feed(typeof text === 'string' ? [Buffer.from(text, 'latin1')] : text, max);
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected GatewayError, got ${err}`);
    return err;
  }
  assert.fail('expected the head to be refused');
}

describe('CgiResponseParser', () => {
  test('a plain PHP response: 200, headers, body', () => {
    const { head, body } = parse(
      'X-Powered-By: PHP/8.3\r\nContent-type: text/html; charset=UTF-8\r\n\r\n<h1>hi</h1>',
    );
    assert.equal(head.status, 200);
    assert.deepEqual(head.headers, { 'X-Powered-By': 'PHP/8.3', 'Content-type': 'text/html; charset=UTF-8' });
    assert.equal(body.toString(), '<h1>hi</h1>');
  });

  test('LF-only line ends are accepted', () => {
    const { head, body } = parse('Content-Type: text/plain\nX-A: 1\n\nbody\r\n\r\nmore');
    assert.deepEqual(head.headers, { 'Content-Type': 'text/plain', 'X-A': '1' });
    assert.equal(body.toString(), 'body\r\n\r\nmore', 'the body is never parsed');
  });

  test('Status sets the status and reason and is not forwarded', () => {
    const { head } = parse('Status: 404 Not Found\r\nContent-Type: text/html\r\n\r\n');
    assert.equal(head.status, 404);
    assert.equal(head.reason, 'Not Found');
    assert.deepEqual(head.headers, { 'Content-Type': 'text/html' });
    assert.equal(parse('Status:503\n\n').head.status, 503);
  });

  test('Location without Status is a 302; with Status the Status wins', () => {
    assert.equal(parse('Location: /login\r\n\r\n').head.status, 302);
    assert.deepEqual(parse('Location: /login\r\n\r\n').head.headers, { Location: '/login' });
    assert.equal(parse('Status: 301\r\nLocation: https://x/\r\n\r\n').head.status, 301);
  });

  test('every Set-Cookie is kept, in order', () => {
    const { head } = parse(
      'Set-Cookie: a=1\r\nContent-Type: text/html\r\nset-cookie: b=2\r\nSet-Cookie: c=3\r\n\r\n',
    );
    assert.deepEqual(head.headers['Set-Cookie'], ['a=1', 'b=2', 'c=3']);
  });

  test('hop-by-hop headers are dropped', () => {
    const { head } = parse(
      'Connection: close\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5\r\nUpgrade: h2c\r\nX-Keep: yes\r\n\r\n',
    );
    assert.deepEqual(head.headers, { 'X-Keep': 'yes' });
  });

  test('Content-Length is reported for checking the body', () => {
    assert.equal(parse('Content-Length: 5\r\n\r\nhello').head.contentLength, 5);
    assert.equal(parse('X: 1\r\n\r\n').head.contentLength, undefined);
    assert.equal(
      parseError('Content-Length: 5\r\nContent-Length: 6\r\n\r\n').code,
      GatewayErrorCode.CGI_BAD_HEADER,
    );
    assert.equal(parseError('Content-Length: -1\r\n\r\n').code, GatewayErrorCode.CGI_BAD_HEADER);
  });

  test('an invalid Status is refused (502)', () => {
    for (const status of ['abc', '20', '2000', '099 x', '600', '']) {
      assert.equal(parseError(`Status: ${status}\r\n\r\n`).code, GatewayErrorCode.CGI_BAD_STATUS, status);
    }
  });

  test('bad header lines are refused (502)', () => {
    for (const head of [
      'no colon here\r\n\r\n',
      ': no name\r\n\r\n',
      'Bad Name: x\r\n\r\n',
      'X-Evil: a\x00b\r\n\r\n',
      'X-Evil: a\rb\r\n\r\n',
      ' folded: continuation\r\n\r\n',
    ]) {
      assert.equal(parseError(head).code, GatewayErrorCode.CGI_BAD_HEADER, JSON.stringify(head));
    }
  });

  test('a head over the limit is refused, whole or in pieces', () => {
    const big = `X-Big: ${'a'.repeat(2000)}\r\n\r\n`;
    assert.equal(parseError(big, 1024).code, GatewayErrorCode.CGI_HEADER_TOO_LARGE);
    const pieces = Array.from({ length: 100 }, () => Buffer.from('X-A: 1234567890\r\n'));
    assert.equal(parseError(pieces, 1024).code, GatewayErrorCode.CGI_HEADER_TOO_LARGE);
    assert.equal(parse(big, 4096).head.status, 200, 'under the limit it passes');
  });

  test('the body remainder is a view of the chunk, not a copy', () => {
    const chunk = Buffer.from('X: 1\r\n\r\nbody');
    const r = new CgiResponseParser().push(chunk);
    assert.ok(r.done);
    assert.equal(r.body.buffer, chunk.buffer);
    assert.equal(r.body.byteOffset, chunk.byteOffset + 8);
  });

  test('however the bytes are chunked, the result is the same', () => {
    const response = Buffer.from(
      'Status: 201 Created\r\nSet-Cookie: a=1\nContent-Type: text/plain\r\nSet-Cookie: b=2\r\nLocation: /x\r\n\r\nline1\r\n\r\nline2\n\n',
      'latin1',
    );
    const expected = feed([response]);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: response.length - 1 }), { maxLength: 40 }),
        (cuts) => {
          const points = [0, ...cuts.sort((a, b) => a - b), response.length];
          const chunks = points.slice(1).map((end, i) => response.subarray(points[i], end));
          const got = feed(chunks);
          assert.deepEqual(got.head.headers, expected.head.headers);
          assert.equal(got.head.status, 201);
          assert.equal(got.head.reason, 'Created');
          assert.deepEqual(got.body, expected.body);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a CR at the end of one chunk and the LF at the start of the next end the head', () => {
    const { head, body } = feed([Buffer.from('X: 1\r\n\r'), Buffer.from('\nbody')]);
    assert.deepEqual(head.headers, { X: '1' });
    assert.equal(body.toString(), 'body');
  });

  test('a line that is just CR in the middle of text is not the blank line', () => {
    const { head } = feed([Buffer.from('X: 1\r\nY'), Buffer.from(': 2\r\n\r\n')]);
    assert.deepEqual(head.headers, { X: '1', Y: '2' });
  });
});
