// The host: the same component as the Rust harness, under Node through jco. Like host-harness/src/harness.rs,
// every export call gets a fresh instance (a trap poisons a jco instance for good) and one storage transaction,
// committed only when the component answers `ok`; a refusal or a trap leaves the store as it was.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { HttpClient } from './http.js';
import { Store, namespace } from './storage.js';
import { wasiImports } from './wasi.js';

/** The plugin name that scopes storage, as the Rust host's PLUGIN_NAME. */
export const PLUGIN_NAME = 'instagram';
export const DEFAULT_BUILD_DIR = fileURLToPath(new URL('../build', import.meta.url));

/** How a call failed; `info` is the `{code, message}` the CLI prints (`CallError::to_error_info`). */
export class CallError extends Error {
  /**
   * @param {'rejected' | 'invalid' | 'plugin-fault' | 'host'} kind
   * @param {{code: string, message: string}} info
   * @param {Array<{code: string, message: string}>} [errors] every problem, for `invalid`
   */
  constructor(kind, info, errors) {
    super(`${info.code}: ${info.message}`);
    this.kind = kind;
    this.info = info;
    this.errors = errors ?? [info];
  }
}

/** jco throws a ComponentError (its own class, not exported) carrying the `err` of a `result`. */
const isRefusal = (e) => e instanceof Error && e.constructor?.name === 'ComponentError' && Object.hasOwn(e, 'payload');

/** What stopped the plugin: a trap or a failing import, never a wasm stack (noise for the caller). */
function describeFault(e) {
  if (e instanceof WebAssembly.RuntimeError) return `the plugin trapped: ${e.message}`;
  if (e?.name === 'GuestExit') return e.message;
  return `the plugin failed: ${e?.message ?? String(e)}`;
}

const NO_JSPI = new Error('JSPI is not available');
/**
 * Runs `work` with a WebAssembly.promising that throws, when Node has none (Node 20). jco's bindings try it
 * eleven times per instantiation and fall back when it throws; calling the missing function instead throws
 * "not a function", whose message V8 builds by re-parsing the 8,000-line generator around it: measured, that
 * made an instantiation ~35 ms instead of ~1 ms. The behaviour is the same (jco takes its fallback either way).
 */
function withoutJspi(work) {
  if (typeof WebAssembly.promising === 'function') return work();
  WebAssembly.promising = () => {
    throw NO_JSPI;
  };
  try {
    return work();
  } finally {
    delete WebAssembly.promising;
  }
}

export class Host {
  /**
   * Loads the transpiled component from `buildDir` and compiles its core modules once.
   * @param {{buildDir?: string, store?: Store, storeFile?: string, channel?: string, graphUrl?: string,
   *          http?: HttpClient, httpLimits?: object}} [options]
   */
  static async load(options = {}) {
    const buildDir = options.buildDir ?? DEFAULT_BUILD_DIR;
    const entry = path.join(buildDir, 'messenger.js');
    if (!fs.existsSync(entry)) throw new Error(`no transpiled component in ${buildDir}: run \`npm run build\``);
    const { instantiate } = await import(pathToFileURL(entry).href);
    const modules = new Map();
    for (const file of fs.readdirSync(buildDir).filter((f) => f.endsWith('.wasm'))) {
      modules.set(file, await WebAssembly.compile(fs.readFileSync(path.join(buildDir, file))));
    }
    const store = options.store ?? (await Store.open({ file: options.storeFile }));
    const http = options.http ?? new HttpClient({ graphUrl: options.graphUrl, ...options.httpLimits });
    return new Host(instantiate, modules, store, http, options.channel ?? 'default');
  }

  constructor(instantiate, modules, store, http, channel) {
    this.instantiateComponent = instantiate;
    this.modules = modules;
    this.store = store;
    this.http = http;
    this.namespace = namespace(PLUGIN_NAME, channel);
    /** Bytes the guests wrote to stdout and stderr (swallowed, as the Rust host's sinks do). */
    this.swallowed = 0;
    /** Test hook: wraps the storage import of the next instances (e.g. to make one fail). */
    this.storageHook = undefined;
  }

  /**
   * The same compiled component and HTTP client on another store (or channel): cheap, no recompilation.
   * @param {Store} store @param {string} [channel]
   */
  withStore(store, channel = this.namespace.split('/')[1]) {
    return new Host(this.instantiateComponent, this.modules, store, this.http, channel);
  }

  /** A fresh instance wired to one storage session. */
  #instantiate(session) {
    const wasi = wasiImports();
    let storage = {
      get: (key) => session.get(key),
      set: (key, value) => session.set(key, value),
      delete: (key) => session.delete(key),
      exists: (key) => session.exists(key),
      listKeys: (prefix, cursor, limit) => session.listKeys(prefix, cursor, limit),
      insertIfAbsent: (key, value) => session.insertIfAbsent(key, value),
      compareAndSwap: (key, expected, value) => session.compareAndSwap(key, expected, value),
      getMany: (keys) => session.getMany(keys),
      setMany: (entries) => session.setMany(entries),
      insertIfAbsentMany: (entries) => session.insertIfAbsentMany(entries),
    };
    if (this.storageHook) storage = this.storageHook(storage);
    const imports = {
      ...wasi.imports,
      'helpdesk:messenger-connector/types': {},
      'helpdesk:messenger-connector/storage': storage,
      'helpdesk:messenger-connector/http': { send: (request) => this.http.send(request) },
    };
    const instance = withoutJspi(() => this.instantiateComponent((name) => this.modules.get(name), imports));
    return { instance, wasi };
  }

  /** A bare instance on a session, outside `call` (the benchmark measures instantiation alone). */
  instantiateForBench(session) {
    return this.#instantiate(session).instance;
  }

  /**
   * Runs one export on a fresh instance inside one storage transaction (`Harness::call`).
   * @template T @param {(instance: any) => T} exportCall @returns {T}
   */
  call(exportCall) {
    let session;
    try {
      session = this.store.begin(this.namespace);
    } catch (e) {
      throw new CallError('host', { code: 'host-error', message: String(e?.message ?? e) });
    }
    let wasi;
    let value;
    try {
      const made = this.#instantiate(session);
      wasi = made.wasi;
      value = exportCall(made.instance);
    } catch (e) {
      session.rollback();
      if (isRefusal(e)) {
        const payload = e.payload;
        if (Array.isArray(payload)) {
          const first = payload[0] ?? { code: 'invalid', message: 'invalid input' };
          throw new CallError('invalid', first, payload);
        }
        throw new CallError('rejected', payload);
      }
      if (e instanceof CallError) throw e;
      throw new CallError('plugin-fault', { code: 'plugin-fault', message: describeFault(e) });
    } finally {
      if (wasi) this.swallowed += wasi.stdout.swallowed + wasi.stderr.swallowed;
    }
    try {
      session.commit();
    } catch (e) {
      // Not committed (a full disk, say): the caller must not acknowledge what it asked for.
      throw new CallError('host', { code: 'host-error', message: `committing the call's storage writes: ${e?.message ?? e}` });
    }
    return value;
  }

  /** Sets one value outside any component call (tokens the host provisions). */
  provision(key, value) {
    this.store.provision(this.namespace, key, value);
  }

  /** Translates one webhook delivery into inbox events (`inbound.translate`). */
  translate(delivery, options) {
    return this.call((c) => c.inbound.translate(
      { headers: delivery.headers, body: delivery.body, receivedAt: BigInt(delivery.receivedAt) },
      { appSecret: options.appSecret, filters: options.filters },
    ));
  }

  /** Answers Meta's subscription handshake (`inbound.verify-subscription`). */
  verifySubscription(handshake, expectedToken) {
    return this.call((c) => c.inbound.verifySubscription(handshake, expectedToken));
  }

  /** The stored filters of an account (`inbound.get-filters`). */
  getFilters(accountId) {
    return this.call((c) => c.inbound.getFilters(accountId));
  }

  /** Stores the filters of an account (`inbound.set-filters`). */
  setFilters(accountId, filters) {
    return this.call((c) => c.inbound.setFilters(accountId, filters));
  }

  /** Validates a reply into a send plan (`outbound.validate`); every problem at once when invalid. */
  validate(reply) {
    return this.call((c) => c.outbound.validate(reply));
  }

  /** Sends a validated plan once (`outbound.send`). */
  send(plan, now) {
    return this.call((c) => c.outbound.send(plan, BigInt(now)));
  }

  /** Evaluates an account link (`expiry.evaluate`). */
  evaluate(link) {
    return this.call((c) => c.expiry.evaluate(link));
  }

  /** Refreshes an account's token (`expiry.refresh`); its new expiry. */
  refresh(accountId, now) {
    return this.call((c) => c.expiry.refresh(accountId, BigInt(now)));
  }

  /** Links the accounts an authorization code gives (`expiry.link-accounts`). */
  linkAccounts(request) {
    return this.call((c) => c.expiry.linkAccounts({ ...request, now: BigInt(request.now) }));
  }

  /** What selecting exactly `selected` would do, without applying it (`expiry.plan-selection`). */
  planSelection(selected) {
    return this.call((c) => c.expiry.planSelection(selected));
  }

  /** Makes the channel's accounts exactly `selected` (`expiry.apply-selection`). */
  applySelection(selected) {
    return this.call((c) => c.expiry.applySelection(selected));
  }

  /** Marks (or, with undefined, clears) the channel's representative account (`expiry.set-representative`). */
  setRepresentative(accountId) {
    return this.call((c) => c.expiry.setRepresentative(accountId));
  }

  /** The channel's linked accounts (`expiry.list-accounts`). */
  listAccounts() {
    return this.call((c) => c.expiry.listAccounts());
  }

  /** An account's ice breakers or persistent menu as Meta has them (`messenger-profile.get`). */
  profileSetting(accountId, field, now) {
    return this.call((c) => c.messengerProfile.get(accountId, field, BigInt(now)));
  }

  /** Replaces them, checked first: every problem at once (`messenger-profile.set`). */
  setProfileSetting(accountId, setting, now) {
    return this.call((c) => c.messengerProfile.set(accountId, setting, BigInt(now)));
  }

  /** Removes them (`messenger-profile.delete`). */
  deleteProfileSetting(accountId, field, now) {
    return this.call((c) => c.messengerProfile.delete(accountId, field, BigInt(now)));
  }

  /** Subscribes a linked account to the webhook fields and keeps the outcome (`linking.subscribe-webhooks`). */
  subscribeWebhooks(accountId, now) {
    return this.call((c) => c.linking.subscribeWebhooks(accountId, BigInt(now)));
  }

  /** The stored subscription outcomes of the channel's accounts (`linking.list-subscriptions`). */
  listSubscriptions() {
    return this.call((c) => c.linking.listSubscriptions());
  }

  /** Marks broken the links a person authorized: Meta's deauthorize callback (`linking.deauthorize`). */
  deauthorize(personId, now) {
    return this.call((c) => c.linking.deauthorize(personId, BigInt(now)));
  }

  /** Forgets every account a person authorized: Meta's data deletion callback (`linking.forget-person`). */
  forgetPerson(personId) {
    return this.call((c) => c.linking.forgetPerson(personId));
  }

  /** Checks an account's token with Graph; a break it finds is recorded (`linking.probe-token`, since 0.3.0). */
  probeToken(accountId, now) {
    return this.call((c) => c.linking.probeToken(accountId, BigInt(now)));
  }

  /** Starts a backfill of an account, or of one customer's conversation (`history.start-backfill`, since 0.3.0). */
  startBackfill(accountId, customerId, now) {
    return this.call((c) => c.history.startBackfill(accountId, customerId, BigInt(now)));
  }

  /** Runs the next backfill step; its events and progress (`history.backfill-step`, since 0.3.0). */
  backfillStep(accountId, now) {
    return this.call((c) => c.history.backfillStep(accountId, BigInt(now)));
  }

  /** The account's backfill progress, if one was started (`history.get-backfill`, since 0.3.0). */
  getBackfill(accountId) {
    return this.call((c) => c.history.getBackfill(accountId));
  }

  /** Stops the HTTP worker and closes the store. */
  close() {
    this.http.close();
    this.store.close();
  }
}
