// The `storage` import: its semantics on their own (as host-harness/src/storage/tests.rs checks them), then
// through the component: one transaction per call, kept on `ok`, discarded on a refusal and on a trap.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { MAX_KEY_BYTES, MAX_VALUE_BYTES, Store, StorageFailure, namespace } from '../src/storage.js';
import { ACCESS_TOKEN, APP_SECRET, signatures, hostOnFakeGraph, webhook } from './helpers.js';

const bytes = (text) => new TextEncoder().encode(text);
const text = (value) => (value === undefined ? undefined : new TextDecoder().decode(value));
const tag = (call) => {
  try {
    call();
  } catch (e) {
    assert.ok(e instanceof StorageFailure, String(e));
    return e.payload.tag;
  }
  assert.fail('no error');
};

describe('storage semantics', () => {
  let store;
  let s;
  before(async () => {
    store = await Store.open();
  });
  test('insert-if-absent: the first writer wins', () => {
    s = store.begin(namespace('instagram', 'c1'));
    assert.equal(s.insertIfAbsent('seen/1', bytes('a')), true);
    assert.equal(s.insertIfAbsent('seen/1', bytes('b')), false);
    assert.equal(text(s.get('seen/1')), 'a');
    s.rollback();
  });

  test('compare-and-swap needs the expected value; none expected means insert-if-absent', () => {
    s = store.begin(namespace('instagram', 'c1'));
    assert.equal(s.compareAndSwap('k', undefined, bytes('1')), true);
    assert.equal(s.compareAndSwap('k', undefined, bytes('2')), false);
    assert.equal(s.compareAndSwap('k', bytes('0'), bytes('2')), false);
    assert.equal(s.compareAndSwap('k', bytes('1'), bytes('2')), true);
    assert.equal(text(s.get('k')), '2');
    s.rollback();
  });

  test('batches answer as their single calls, in order; a refused batch writes nothing (WIT 0.3.0)', () => {
    s = store.begin(namespace('instagram', 'c1'));
    s.set('seen/old', bytes('in'));
    const marks = [['seen/old', 'in'], ['seen/new', 'in'], ['seen/new', 'x']].map(([key, v]) => ({ key, value: bytes(v) }));
    assert.deepEqual(s.insertIfAbsentMany(marks), [false, true, false]);
    s.setMany([{ key: 'p/1', value: bytes('a') }, { key: 'p/1', value: bytes('b') }, { key: 'p/2', value: bytes('c') }]);
    assert.deepEqual(s.getMany(['p/1', 'nothing', 'seen/new', 'p/2']).map(text), ['b', undefined, 'in', 'c']);
    const tooLarge = new Uint8Array(MAX_VALUE_BYTES + 1);
    assert.equal(tag(() => s.setMany([{ key: 'p/3', value: bytes('ok') }, { key: 'p/4', value: tooLarge }])), 'too-large');
    assert.equal(tag(() => s.insertIfAbsentMany([{ key: 'seen/3', value: bytes('in') }, { key: '', value: bytes('in') }])), 'invalid-key');
    assert.equal(tag(() => s.getMany(['p/2', ''])), 'invalid-key');
    assert.deepEqual(s.getMany(['p/3', 'seen/3']), [undefined, undefined]);
    s.rollback();
  });

  test('keys page by prefix in byte order, after the cursor, limit clamped to 1..1000', () => {
    s = store.begin(namespace('instagram', 'c1'));
    for (const key of ['p/2', 'p/1', 'p/é', 'p/z', 'p/3', 'q/1']) s.set(key, bytes(''));
    assert.deepEqual(s.listKeys('p/', undefined, 2), { keys: ['p/1', 'p/2'], cursor: 'p/2' });
    assert.deepEqual(s.listKeys('p/', 'p/2', 2), { keys: ['p/3', 'p/z'], cursor: 'p/z' });
    assert.deepEqual(s.listKeys('p/', 'p/z', 2), { keys: ['p/é'], cursor: undefined }, 'é sorts after z as UTF-8');
    assert.deepEqual(s.listKeys('p/', undefined, 0).keys, ['p/1'], 'a limit of 0 reads as 1');
    assert.equal(s.listKeys('', undefined, 5000).keys.length, 6);
    s.rollback();
  });

  test('bad keys and large values are refused with their WIT cases', () => {
    s = store.begin(namespace('instagram', 'c1'));
    assert.equal(tag(() => s.get('')), 'invalid-key');
    assert.equal(tag(() => s.set('k'.repeat(MAX_KEY_BYTES + 1), bytes(''))), 'invalid-key');
    assert.equal(tag(() => s.set('한'.repeat(171), bytes(''))), 'invalid-key', '513 bytes in 171 characters');
    assert.equal(tag(() => s.set('a\0b', bytes(''))), 'invalid-key');
    assert.equal(tag(() => s.set('k', new Uint8Array(MAX_VALUE_BYTES + 1))), 'too-large');
    assert.equal(tag(() => s.insertIfAbsent('k', new Uint8Array(MAX_VALUE_BYTES + 1))), 'too-large');
    s.set('k'.repeat(MAX_KEY_BYTES), new Uint8Array(MAX_VALUE_BYTES));
    s.rollback();
  });

  test('channels do not see each other; a rollback keeps nothing', () => {
    s = store.begin(namespace('instagram', 'c1'));
    s.set('account/1/access-token', bytes('secret'));
    s.commit();
    s = store.begin(namespace('instagram', 'c2'));
    assert.equal(s.get('account/1/access-token'), undefined);
    assert.deepEqual(s.listKeys('', undefined, 10).keys, []);
    s.set('b', bytes('1'));
    s.rollback();
    assert.equal(store.rowCount(), 1);
    assert.throws(() => namespace('instagram', 'a/b'), /channel name/);
  });

  test('a file store is written on commit only, and read back when opened again', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'store-')), 'kv.db');
    const first = await Store.open({ file });
    first.provision('instagram/default', 'kept', 'yes');
    const s2 = first.begin('instagram/default');
    s2.set('dropped', bytes('no'));
    s2.rollback();
    first.close();
    const again = await Store.open({ file });
    assert.deepEqual(again.keys('instagram/default'), ['kept']);
    again.close();
  });
});

describe('one transaction per export call', () => {
  const started = hostOnFakeGraph();
  const batch = () => ({
    headers: [['X-Hub-Signature-256', signatures()['batch-multi-entry.json']]],
    body: webhook('batch-multi-entry.json'),
    receivedAt: 1794477600000,
  });
  /** A host on a fresh store whose storage import fails on its `nth` write, as `fail` says. */
  async function failingHost(nth, fail) {
    const host = started.host.withStore(await Store.open());
    host.provision('channel/access-token', ACCESS_TOKEN);
    let writes = 0;
    host.storageHook = (storage) => {
      const counted = (op) => (...args) => {
        if (++writes === nth) fail();
        return op(...args);
      };
      // A batched write (WIT 0.3.0) counts as one write, as it is one call.
      const writers = ['set', 'insertIfAbsent', 'compareAndSwap', 'setMany', 'insertIfAbsentMany'];
      return { ...storage, ...Object.fromEntries(writers.map((name) => [name, counted(storage[name])])) };
    };
    return host;
  }
  test('committed when the call answers ok', async () => {
    const host = started.host.withStore(await Store.open());
    const events = host.translate(batch(), { appSecret: APP_SECRET });
    assert.equal(events.length, 6);
    assert.ok(host.store.rowCount() >= 6, 'each item marked seen');
  });

  test('rolled back when the component refuses (a storage failure midway becomes storage-unavailable)', async () => {
    const host = await failingHost(3, () => {
      throw new StorageFailure({ tag: 'unavailable', val: 'disk on fire' });
    });
    const rows = host.store.rowCount();
    assert.throws(() => host.translate(batch(), { appSecret: APP_SECRET }), (e) => e.kind === 'rejected' && e.info.code === 'storage-unavailable');
    assert.equal(host.store.rowCount(), rows, 'the two writes before the failure are gone');
    host.storageHook = undefined;
    assert.equal(host.translate(batch(), { appSecret: APP_SECRET }).filter((e) => e.kind.tag === 'skipped').length, 0, 'nothing was marked seen');
  });

  test('rolled back on a trap, and the next call gets a working instance', async () => {
    const host = await failingHost(3, () => {
      throw new TypeError('host bug');
    });
    const rows = host.store.rowCount();
    assert.throws(() => host.translate(batch(), { appSecret: APP_SECRET }), (e) => e.kind === 'plugin-fault' && /host bug/.test(e.info.message));
    assert.equal(host.store.rowCount(), rows);
    host.storageHook = undefined;
    const events = host.translate(batch(), { appSecret: APP_SECRET });
    assert.deepEqual(events.map((e) => e.kind.tag), ['customer-message', 'reaction', 'read', 'customer-message', 'customer-message', 'echo']);
  });

  test('jco poisons an instance on a wasm trap, but not when an import throws: a fresh instance per call', async () => {
    const host = started.host.withStore(await Store.open());
    const session = host.store.begin(host.namespace);
    let fault;
    host.storageHook = (storage) => ({
      ...storage,
      insertIfAbsent: (...args) => {
        if (fault) throw fault;
        return storage.insertIfAbsent(...args);
      },
    });
    const call = (instance) => () => instance.inbound.translate({ ...batch(), receivedAt: 1n }, { appSecret: APP_SECRET });
    // A JS exception unwinds through the guest (skipping its epilogues) and leaves the instance enterable.
    const unwound = host.instantiateForBench(session);
    fault = new TypeError('host bug');
    assert.throws(call(unwound), /host bug/);
    fault = undefined;
    assert.doesNotThrow(call(unwound), 'enterable again, though its state is no longer trustworthy');
    // A trap (a RuntimeError) marks it trapped for good.
    const trapped = host.instantiateForBench(session);
    fault = new WebAssembly.RuntimeError('unreachable');
    assert.throws(call(trapped), /unreachable/);
    fault = undefined;
    assert.throws(call(trapped), /cannot enter component instance/);
    session.rollback();
    // The host gives each call a new instance, so a trap costs only that call.
    fault = new WebAssembly.RuntimeError('unreachable');
    assert.throws(() => host.translate(batch(), { appSecret: APP_SECRET }), (e) => e.info.message === 'the plugin trapped: wasm trap: wasm `unreachable` instruction executed');
    fault = undefined;
    assert.equal(host.translate(batch(), { appSecret: APP_SECRET }).length, 6);
  });

  test('a refusal before any write (bad signature) stores nothing', async () => {
    const host = started.host.withStore(await Store.open());
    const delivery = { ...batch(), headers: [['x-hub-signature-256', `sha256=${'0'.repeat(64)}`]] };
    assert.throws(() => host.translate(delivery, { appSecret: APP_SECRET }), (e) => e.info.code === 'bad-signature');
    assert.equal(host.store.rowCount(), 0);
  });
});
