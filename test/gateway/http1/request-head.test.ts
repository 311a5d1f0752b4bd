// The front's parser only has to be right about "simple": every request it does not fully
// understand must go to node:http untouched, and a split head must wait for the rest.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  HANDOVER,
  INCOMPLETE,
  parseRequestHead,
  type RequestHead,
} from '../../../src/gateway/http1/request-head.ts';

const parse = (text: string, max = 16 * 1024) => parseRequestHead(Buffer.from(text, 'latin1'), max);

describe('request head parser', () => {
  test('reads a simple request: method, raw target, headers in order, where the next request starts', () => {
    const text = 'GET /a.php/x?y=%20 HTTP/1.1\r\nHost: h\r\nX-Request-Id:  abc \r\nCookie: a=1\r\n\r\nNEXT';
    const head = parse(text) as RequestHead;
    assert.equal(head.method, 'GET');
    assert.equal(head.url, '/a.php/x?y=%20');
    assert.deepEqual(head.rawHeaders, ['Host', 'h', 'X-Request-Id', 'abc', 'Cookie', 'a=1']);
    assert.equal(head.requestId, 'abc');
    assert.equal(head.keepAlive, true);
    assert.equal(text.slice(head.length), 'NEXT');
  });

  test('Connection: close ends keep-alive; Content-Length: 0 is still simple', () => {
    const head = parse('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: foo, Close\r\n\r\n');
    assert.equal((head as RequestHead).keepAlive, false);
  });

  test('waits for the rest of a split head', () => {
    assert.equal(parse('GET / HTTP/1.1\r\nHost: h\r\n'), INCOMPLETE);
    assert.equal(parse('GET / HTTP/1.1\r\nHo'), INCOMPLETE);
  });

  test('hands everything else to node:http', () => {
    const cases = {
      body: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello',
      chunked: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n',
      expect: 'PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n',
      upgrade: 'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      'HTTP/1.0': 'GET / HTTP/1.0\r\n\r\n',
      'unknown method': 'PROPFIND / HTTP/1.1\r\nHost: h\r\n\r\n',
      'no Host': 'GET / HTTP/1.1\r\n\r\n',
      'two Hosts': 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'space in a name': 'GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n',
      'obs-fold': 'GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n',
      'NUL in a value': 'GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n',
      'bare LF lines': 'GET / HTTP/1.1\nHost: h\n\n',
      'space in the target': 'GET /a b HTTP/1.1\r\nHost: h\r\n\r\n',
      'too big': `GET / HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(2000)}\r\n\r\n`,
    };
    for (const [what, text] of Object.entries(cases)) assert.equal(parse(text, 1024), HANDOVER, what);
    // an unfinished head past the limit is not waited for either
    assert.equal(parse(`GET / HTTP/1.1\r\nX: ${'a'.repeat(2000)}`, 1024), HANDOVER);
  });
});
