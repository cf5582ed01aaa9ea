// The `http` import: the egress policy as pure rules (as host-harness/src/http.rs tests them), then the real
// client on loopback: path and query kept, no redirect followed, time and body caps, errors as WIT cases.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { HttpFailure, checkGraphUrl, originOf, route } from '../src/egress.js';
import { HttpClient } from '../src/http.js';
import { startFakeGraph } from './helpers.js';

/** The WIT error a call raised, as `{tag, val}`. */
function failure(call) {
  try {
    call();
  } catch (e) {
    assert.ok(e instanceof HttpFailure, `not an HttpFailure: ${e}`);
    return e.payload;
  }
  assert.fail('no error');
}

describe('egress policy', () => {
  test('only Meta hosts over https on port 443 are routed', () => {
    assert.equal(route('https://graph.facebook.com/v23.0/1?fields=name'), 'https://graph.facebook.com/v23.0/1?fields=name');
    assert.equal(route('https://GRAPH.instagram.com:443/x'), 'https://GRAPH.instagram.com:443/x');
    assert.equal(route('https://api.instagram.com/oauth/access_token'), 'https://api.instagram.com/oauth/access_token');
    for (const url of [
      'http://graph.facebook.com/x',
      'https://evil.example/x',
      'https://graph.facebook.com.evil.example/x',
      'https://user:pw@graph.facebook.com/x',
      'https://graph.facebook.com:8443/x',
      'https://127.0.0.1/x',
      'ftp://graph.facebook.com/x',
    ]) {
      assert.equal(failure(() => route(url)).tag, 'denied', url);
    }
    assert.equal(failure(() => route('https://graph.facebook.com/a b')).tag, 'invalid-request');
    assert.equal(failure(() => route('https://graph.facebook.com:99999/x')).tag, 'invalid-request');
  });

  test('the Graph override keeps path and query, and takes plain http only on loopback', () => {
    const base = checkGraphUrl('http://127.0.0.1:9/');
    assert.equal(route('https://graph.instagram.com/v23.0/42?fields=name', base), 'http://127.0.0.1:9/v23.0/42?fields=name');
    assert.equal(failure(() => route('https://evil.example/x', base)).tag, 'denied');
    assert.throws(() => checkGraphUrl('http://10.0.0.1:80'), /only on loopback/);
    assert.throws(() => checkGraphUrl('ftp://127.0.0.1'), /absolute http/);
    for (const ok of ['http://localhost:80', 'http://[::1]:80', 'http://127.1.2.3:8', 'https://graph.example.net']) {
      assert.doesNotThrow(() => checkGraphUrl(ok), ok);
    }
  });

  test('logged origins carry no credentials, path or query', () => {
    assert.equal(originOf('https://user:pw@evil.example:8443/x?token=t'), 'https://evil.example:8443');
    assert.equal(originOf('http://graph.facebook.com?access_token=t'), 'http://graph.facebook.com');
  });
});

describe('http client on loopback', () => {
  let graph;
  let client;
  const get = (path, extra = {}) =>
    client.send({ method: 'get', url: `https://graph.facebook.com${path}`, headers: [], body: new Uint8Array(), ...extra });
  before(async () => {
    graph = await startFakeGraph();
    client = new HttpClient({ graphUrl: graph.url });
  });
  after(() => {
    client.close();
    graph.stop();
  });

  test('sends method, headers and body to the override, keeping path and query', () => {
    const r = client.send({
      method: 'post',
      url: 'https://graph.instagram.com/test/echo?fields=a,b&x=%20y',
      headers: [['authorization', 'Bearer t'], ['content-type', 'application/json']],
      body: new TextEncoder().encode('{"a":1}'),
      timeoutMs: 5000,
    });
    assert.equal(r.status, 200);
    const seen = JSON.parse(Buffer.from(r.body).toString());
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/test/echo?fields=a,b&x=%20y');
    assert.equal(seen.headers.authorization, 'Bearer t');
    assert.equal(seen.body, '{"a":1}');
    assert.ok(r.headers.every(([name]) => name === name.toLowerCase()), 'header names are lower case');
  });

  test('a 4xx is a response, and a redirect is returned, not followed', () => {
    assert.equal(get('/test/status?code=403').status, 403);
    const r = get('/test/redirect');
    assert.equal(r.status, 302);
    assert.ok(r.headers.some(([n, v]) => n === 'location' && v === 'https://graph.facebook.com/elsewhere'));
  });

  test('a denied request never leaves the host, and is logged without its path or query', () => {
    const before = client.denied.length;
    assert.equal(failure(() => get('', { url: 'https://evil.example/steal?access_token=t' })).tag, 'denied');
    assert.deepEqual(client.denied.slice(before), ['evil.example is not an allowed Graph host: https://evil.example']);
  });

  test('the request timeout is the smaller of the request\'s and the host\'s', () => {
    const started = Date.now();
    assert.deepEqual(failure(() => get('/test/slow?ms=3000', { timeoutMs: 200 })), { tag: 'timeout' });
    assert.ok(Date.now() - started < 2000);
    const capped = new HttpClient({ graphUrl: graph.url, maxTimeoutMs: 300 });
    try {
      assert.deepEqual(failure(() => capped.send({ method: 'get', url: 'https://graph.facebook.com/test/slow?ms=3000', headers: [], body: new Uint8Array(), timeoutMs: 60_000 })), { tag: 'timeout' });
    } finally {
      capped.close();
    }
  });

  test('a response body over 1 MiB is too-large (the cap), and exactly 1 MiB is fine', () => {
    assert.equal(get(`/test/big?bytes=${1 << 20}`).body.length, 1 << 20);
    assert.deepEqual(failure(() => get(`/test/big?bytes=${(1 << 20) + 1}`)), { tag: 'too-large', val: BigInt(1 << 20) });
  });

  test('a request body over 1 MiB or a bad header is an invalid request', () => {
    assert.equal(failure(() => get('/test/echo', { method: 'post', body: new Uint8Array((1 << 20) + 1) })).tag, 'invalid-request');
    assert.equal(failure(() => get('/test/echo', { headers: [['bad header', 'x']] })).tag, 'invalid-request');
    assert.equal(failure(() => get('/test/echo', { headers: [['x', 'a\r\nb: c']] })).tag, 'invalid-request');
  });

  test('a refused connection is a connection error', async () => {
    const port = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = s.address();
        s.close(() => resolve(p));
      });
    });
    const closed = new HttpClient({ graphUrl: `http://127.0.0.1:${port}` });
    try {
      assert.equal(failure(() => closed.send({ method: 'get', url: 'https://graph.facebook.com/x', headers: [], body: new Uint8Array() })).tag, 'connection');
    } finally {
      closed.close();
    }
  });
});
