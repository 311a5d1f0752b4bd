import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorMessage, errorReply } from '../../src/gateway/errors-page.ts';

test('each gateway error says why in plain text', () => {
  for (const [status, why] of [
    [400, /could not be understood/],
    [404, /no script or file/],
    [413, /body is larger/],
    [501, /transfer coding other than chunked/],
    [431, /headers are too large/],
    [502, /backend failed/],
    [503, /No PHP backend worker is free/],
    [504, /did not answer in time/],
  ] as const) {
    const { body, headers } = errorReply(status);
    const text = body.toString();
    assert.match(text, new RegExp(`^${status} `));
    assert.match(text, why);
    assert.equal(headers['Content-Type'], 'text/plain; charset=utf-8');
    assert.equal(headers['Content-Length'], body.length);
  }
});

test('client errors show the detail; server errors keep backend details for the log', () => {
  assert.match(errorReply(400, 'the path contains the control character 0x0a').body.toString(), /0x0a/);
  const text = errorReply(502, 'connect ECONNREFUSED 10.0.0.7:9000').body.toString();
  assert.doesNotMatch(text, /10\.0\.0\.7/);
});

test('a reflected detail cannot add lines to the page', () => {
  const text = errorReply(400, 'first\r\nInjected: yes').body.toString();
  assert.doesNotMatch(text, /Injected/);
});

test('503 tells clients when to retry', () => {
  assert.equal(errorReply(503).headers['Retry-After'], '1');
});

test('a whole error message for a raw socket: status line, headers, close, then the page', () => {
  const text = errorMessage(405, 'no tunnels', { Allow: 'GET' }).toString('latin1');
  const [head, body] = text.split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
  assert.match(head, /\r\nAllow: GET(\r\n|$)/);
  assert.match(head, /\r\nConnection: close$/);
  assert.match(head, new RegExp(`\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`));
  assert.match(body, /^405 Method Not Allowed\n[\s\S]*no tunnels\n$/);
});
