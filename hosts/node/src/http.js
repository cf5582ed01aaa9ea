// The `http` import. WIT imports are synchronous and Node has no synchronous HTTP client, so the exchange runs
// on a worker thread while the main thread blocks in Atomics.wait (JSPI is not in Node 20). The egress policy
// is checked here, before anything reaches the worker.

import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { DEFAULT_LIMITS, HttpFailure, checkGraphUrl, checkRequest, effectiveTimeout, originOf, route } from './egress.js';

const METHODS = { get: 'GET', post: 'POST', delete: 'DELETE' };
// How long past its own timeout the main thread waits for the worker before giving up on it.
const WORKER_GRACE_MS = 2_000;

export class HttpClient {
  /**
   * @param {{graphUrl?: string, maxTimeoutMs?: number, connectTimeoutMs?: number, maxResponseBytes?: number,
   *          maxRequestBytes?: number}} [options]
   */
  constructor(options = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => k !== 'graphUrl' && v !== undefined)) };
    this.graphBase = options.graphUrl === undefined ? undefined : checkGraphUrl(options.graphUrl);
    /** The requests the policy refused, as `<reason>: <origin>` (never a path, query or token). */
    this.denied = [];
    /** @type {Worker | undefined} */
    this.worker = undefined;
    this.port = undefined;
  }

  /** Starts the worker on first use: a host that never sends pays nothing. */
  #start() {
    if (this.worker) return;
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(new URL('./http-worker.js', import.meta.url), {
      workerData: { port: port2 },
      transferList: [port2],
      // The worker gets none of the process's environment (proxies, NODE_OPTIONS): the policy decides.
      env: {},
      stdout: false,
      stderr: false,
    });
    this.worker.unref();
    port1.unref();
    this.port = port1;
  }

  /**
   * The import's `send`: a response, or a thrown HttpFailure whose payload is the WIT `http.error`.
   * @param {{method: string, url: string, headers: Array<[string, string]>, body: Uint8Array, timeoutMs?: number}} request
   */
  send(request) {
    let target;
    try {
      target = route(request.url, this.graphBase);
    } catch (error) {
      if (error instanceof HttpFailure && error.payload.tag === 'denied') {
        this.denied.push(`${error.payload.val}: ${originOf(request.url)}`);
      }
      throw error;
    }
    checkRequest(request, this.limits.maxRequestBytes);
    this.#start();
    const timeoutMs = effectiveTimeout(request.timeoutMs, this.limits.maxTimeoutMs);
    const signal = new SharedArrayBuffer(4);
    this.port.postMessage({
      signal,
      request: {
        method: METHODS[request.method],
        url: target,
        headers: request.headers,
        body: request.body,
        timeoutMs,
        connectTimeoutMs: this.limits.connectTimeoutMs,
        maxResponseBytes: this.limits.maxResponseBytes,
      },
    });
    const waited = Atomics.wait(new Int32Array(signal), 0, 0, timeoutMs + WORKER_GRACE_MS);
    const answer = receiveMessageOnPort(this.port)?.message;
    if (waited === 'timed-out' || !answer) {
      // A wedged worker: drop it, so that a late answer can never be read as the next request's.
      this.close();
      throw new HttpFailure({ tag: 'timeout' });
    }
    if (answer.err) throw new HttpFailure(answer.err);
    return answer.ok;
  }

  /** Stops the worker (tests, shutdown). */
  close() {
    this.worker?.terminate();
    this.port?.close();
    this.worker = undefined;
    this.port = undefined;
  }
}
