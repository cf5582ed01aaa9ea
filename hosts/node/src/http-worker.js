// The worker side of the synchronous `http` import: it runs one exchange at a time with Node's own HTTP client
// and hands the outcome back through a MessagePort, then wakes the waiting main thread with Atomics.notify.
// node:http(s) is used rather than fetch because fetch has no separate connect timeout, and adds headers and
// transparent decompression that the Rust host (ureq) does not.

import http from 'node:http';
import https from 'node:https';
import { workerData } from 'node:worker_threads';

/** @type {{port: import('node:worker_threads').MessagePort}} */
const { port } = workerData;
// Kept-alive connections, like ureq's pool; sockets never hold the worker open on their own.
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

/**
 * @param {{method: string, url: string, headers: Array<[string, string]>, body: Uint8Array,
 *          timeoutMs: number, connectTimeoutMs: number, maxResponseBytes: number}} req
 * @returns {Promise<{ok: {status: number, headers: Array<[string, string]>, body: Uint8Array}} | {err: {tag: string, val?: unknown}}>}
 */
function exchange(req) {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      clearTimeout(connecting);
      resolve(outcome);
    };
    let url;
    try {
      url = new URL(req.url);
    } catch {
      return finish({ err: { tag: 'invalid-request', val: 'the URL does not parse' } });
    }
    const client = url.protocol === 'http:' ? http : https;
    let connecting;
    const overall = setTimeout(() => {
      finish({ err: { tag: 'timeout' } });
      request.destroy();
    }, req.timeoutMs);
    // Raw headers keep the component's order and duplicates, but then Node adds no Host or Content-Length.
    const headers = req.headers.flat();
    const has = (name) => req.headers.some(([n]) => n.toLowerCase() === name);
    if (!has('host')) headers.unshift('host', url.host);
    // ureq adds these two when the component sets none; so does this host (with its own product name).
    if (!has('user-agent')) headers.push('user-agent', 'messenger-node-host/0.1');
    if (!has('accept')) headers.push('accept', '*/*');
    if (!has('content-length') && (req.body.length > 0 || req.method !== 'GET')) {
      headers.push('content-length', String(req.body.length));
    }
    const request = client.request(url, {
      method: req.method,
      headers,
      agent: agents[url.protocol],
      // Never a proxy from the environment, never a redirect: node:http does neither.
    });
    request.on('socket', (socket) => {
      if (!socket.connecting) return;
      connecting = setTimeout(() => {
        finish({ err: { tag: 'timeout' } });
        request.destroy();
      }, req.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connecting));
    });
    request.on('error', (error) => {
      const code = /** @type {any} */ (error).code;
      if (code === 'ETIMEDOUT') return finish({ err: { tag: 'timeout' } });
      finish({ err: { tag: 'connection', val: error.message || String(code) } });
    });
    request.on('response', (response) => {
      const chunks = [];
      let size = 0;
      response.on('data', (chunk) => {
        size += chunk.length;
        if (size > req.maxResponseBytes) {
          // As ureq's body limit: the error carries the cap, not the size.
          finish({ err: { tag: 'too-large', val: BigInt(req.maxResponseBytes) } });
          response.destroy();
          request.destroy();
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', (error) => finish({ err: { tag: 'connection', val: error.message } }));
      response.on('end', () => {
        const headers = [];
        for (let i = 0; i < response.rawHeaders.length; i += 2) {
          headers.push([response.rawHeaders[i].toLowerCase(), response.rawHeaders[i + 1]]);
        }
        const body = new Uint8Array(Buffer.concat(chunks));
        finish({ ok: { status: response.statusCode ?? 0, headers, body } });
      });
    });
    if (req.body.length > 0) request.end(Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength));
    else request.end();
  });
}

port.on('message', async ({ signal, request }) => {
  const flag = new Int32Array(signal);
  let outcome;
  try {
    outcome = await exchange(request);
  } catch (error) {
    outcome = { err: { tag: 'connection', val: String(error?.message ?? error) } };
  }
  // The answer is on the port before the main thread wakes, so receiveMessageOnPort finds it.
  port.postMessage(outcome);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
