// The contract's text: serde_json's pretty printing, RFC 3339 as messenger-core formats and parses it, and the
// event shape (absent options left out) against other outputs (absent options printed as null).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toPrettyJson } from '../src/json.js';
import * as render from '../src/render.js';
import { formatRfc3339, parseRfc3339 } from '../src/time.js';
import { handshakeFromQuery } from '../src/commands.js';

test('pretty JSON as serde_json prints a Value: sorted keys, 2 spaces, escapes', () => {
  assert.equal(toPrettyJson({ b: 1n, a: [], c: {}, d: [true, null], e: undefined }),
    '{\n  "a": [],\n  "b": 1,\n  "c": {},\n  "d": [\n    true,\n    null\n  ]\n}');
  assert.equal(toPrettyJson('q"\\/\n\t\u0001\u007f한🙏'), '"q\\"\\\\/\\n\\t\\u0001\u007f한🙏"');
  assert.equal(toPrettyJson({ 'z': 1, 'é': 2, 'ｚ': 3, '😀': 4 }), '{\n  "z": 1,\n  "é": 2,\n  "ｚ": 3,\n  "😀": 4\n}',
    'keys in UTF-8 byte order (U+FF5A before U+1F600, unlike UTF-16 order)');
  assert.throws(() => toPrettyJson(1.5), /integer/);
  assert.equal(toPrettyJson(18446744073709551615n), '18446744073709551615');
});

test('RFC 3339 as messenger-core formats and parses it', () => {
  assert.equal(formatRfc3339(1_794_474_843_512n), '2026-11-12T09:14:03.512Z');
  assert.equal(formatRfc3339(0), '1970-01-01T00:00:00.000Z');
  assert.equal(formatRfc3339(951_782_400_000n), '2000-02-29T00:00:00.000Z');
  assert.equal(formatRfc3339(253_402_300_800_000n), '10000-01-01T00:00:00.000Z', 'no +0 prefix past 9999, unlike Date');
  for (const ms of [0n, 1_794_474_843_512n, 951_782_400_000n, 4_102_444_799_999n]) assert.equal(parseRfc3339(formatRfc3339(ms)), ms);
  assert.equal(parseRfc3339('2026-11-12T18:14:03.512+09:00'), 1_794_474_843_512n);
  assert.equal(parseRfc3339('2026-11-12 09:14:03.5129999z'), 1_794_474_843_512n);
  assert.equal(parseRfc3339('2016-12-31T23:59:60Z'), 1_483_228_800_000n, 'a leap second is accepted, as in Rust');
  for (const bad of ['', '2026-11-12', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-11-12T09:14:03',
    '1969-12-31T23:59:59Z', '2026-11-12T09:14:03.Z', '2026-11-12T09:14:03+0900', '2026-11-12T09:14:03+09:0x',
    '2026-11-12x09:14:03Z', '2026-11-12T24:00:00Z', '2026-11-12T09:14:61Z']) {
    assert.throws(() => parseRfc3339(bad), /RFC 3339|before 1970/, bad);
  }
});

test('events leave absent options out; other outputs print them as null', () => {
  const skipped = render.event({ accountId: '1', kind: { tag: 'skipped', val: { reason: 'duplicate', messageId: undefined } }, customer: undefined });
  assert.equal(toPrettyJson(skipped), '{\n  "account-id": "1",\n  "kind": "skipped",\n  "reason": "duplicate"\n}');
  const decision = render.decision({ state: 'active', expiresAt: 0n, notify: [], notice: undefined, refresh: false, reason: undefined });
  assert.equal(decision.notice, null);
  assert.equal(decision.reason, null);
});

test('hub parameters are read as the Rust host reads them', () => {
  assert.deepEqual(handshakeFromQuery('hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my%20token%2B1&x=y'),
    { mode: 'subscribe', verifyToken: 'my token+1', challenge: '1158201444' });
  assert.deepEqual(handshakeFromQuery('?hub.mode=subscribe&hub.mode=other&hub.challenge=a+b%'),
    { mode: 'subscribe', verifyToken: undefined, challenge: 'a b%' });
});
