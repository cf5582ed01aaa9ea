// The Host API end to end on the fake Graph: the handshake, a send (token in the Authorization header only,
// the sent id recorded so its echo is skipped), and a call that fails in the host being reported, not thrown raw.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallError } from '../src/host.js';
import { Store } from '../src/storage.js';
import { ACCESS_TOKEN, hostOnFakeGraph } from './helpers.js';

const started = hostOnFakeGraph();

test('the handshake echoes the challenge only for the right token', () => {
  const hub = (token) => ({ mode: 'subscribe', verifyToken: token, challenge: '1158201444' });
  assert.equal(started.host.verifySubscription(hub('s3cret!'), 's3cret!'), '1158201444');
  assert.throws(() => started.host.verifySubscription(hub('wrong'), 's3cret!'), (e) => e instanceof CallError && e.info.code === 'verification-failed');
  assert.throws(() => started.host.verifySubscription(hub(''), ''), (e) => e.kind === 'rejected', 'an unset verify token accepts nothing');
});

test('a validated plan is sent with the stored token, in the Authorization header only', async () => {
  const host = started.host.withStore(await Store.open());
  host.provision('channel/access-token', ACCESS_TOKEN);
  const now = 1_795_000_000_000n;
  const plan = host.validate({
    accountId: '17841400000000001', customerId: '1098765432100001', now, author: 'agent',
    lastCustomerMessageAt: now - 3_600_000n, humanAgentTag: false, text: 'hello', attachments: [],
    quickReplies: [], cards: [],
  });
  const statuses = host.send(plan, now);
  assert.equal(statuses.length, 1);
  assert.equal(statuses[0].tag, 'sent');
  assert.match(statuses[0].val, /^aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE/);
  const seen = (await started.graph.seen()).filter((r) => r.method === 'POST');
  const last = seen[seen.length - 1];
  assert.equal(last.authorization, `Bearer ${ACCESS_TOKEN}`);
  assert.ok(!last.url.includes(ACCESS_TOKEN) && !last.body.includes(ACCESS_TOKEN));
  assert.ok(host.store.keys(host.namespace).some((k) => k.startsWith('seen/mid/')), 'the sent id is recorded for its echo');
});

test('a failure of the host itself is a host-error, and the store is left as it was', async () => {
  const host = started.host.withStore(await Store.open());
  const session = host.store.begin(host.namespace);
  assert.throws(() => host.listAccounts(), (e) => e.kind === 'host' && e.info.code === 'host-error', 'a call while another is open');
  session.rollback();
  assert.deepEqual(host.listAccounts(), []);
});

test('a profile setting is checked in the component, every problem at once, before any Graph call', async () => {
  const host = started.host.withStore(await Store.open());
  host.provision('channel/access-token', ACCESS_TOKEN);
  const before = (await started.graph.seen()).length;
  const setting = { tag: 'ice-breakers', val: [{ locale: 'ko_KR', questions: [] }] };
  assert.throws(() => host.setProfileSetting('17841400000000001', setting, 1_795_000_000_000n),
    (e) => e.kind === 'invalid' && e.errors.map((x) => x.code).join() === 'empty-locale,missing-default-locale');
  assert.equal((await started.graph.seen()).length, before, 'nothing invalid reaches Graph');
});

test('a person Meta says removed the app is deauthorized, then forgotten whole through the store\'s key listing', async () => {
  const host = started.host.withStore(await Store.open());
  const id = '17841400000000001';
  const link = { linked_at: 1, token_expires_at: 2, username: null, instagram_login: true, authorized_by: ['7'] };
  host.provision(`account/${id}/link`, JSON.stringify(link));
  host.provision(`profile/${id}/1098765432100001`, '{}');
  host.provision('channel/accounts', JSON.stringify([id]));
  assert.deepEqual(host.deauthorize('7', 5n), [id]);
  assert.equal(host.listAccounts()[0].lastError.subcode, 458n);
  assert.deepEqual(host.forgetPerson('7'), [id]);
  assert.deepEqual(host.store.keys(host.namespace).filter((k) => k.includes(id)), []);
  assert.deepEqual(host.listSubscriptions(), []);
});
