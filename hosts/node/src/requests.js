// The CLI inputs of DESIGN.md (the outbound REQUEST and the expiry LINK) into WIT records, with the checks of
// host-harness/src/outbound_json.rs and expiry_json.rs in the same order. Codes match; the wording of
// structural errors does not (the Rust host quotes serde's messages, with line and column).

import { parseRfc3339, rustDebugString } from './time.js';

export class InputError extends Error {
  constructor(message) {
    super(message);
    this.info = { code: 'invalid-request', message };
  }
}

const kinds = { string: 'a string', boolean: 'a boolean', object: 'a map', array: 'a sequence' };
function typeOf(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Reads an object with exactly the known fields (serde's deny_unknown_fields), each checked by its reader.
 * @param {unknown} value @param {Record<string, (v: unknown, name: string) => unknown>} fields @param {string} what
 */
function record(value, fields, what) {
  if (typeOf(value) !== 'object') throw new InputError(`${what}: invalid type: ${typeOf(value)}, expected a map`);
  const out = {};
  for (const name of Object.keys(value)) {
    if (!(name in fields)) {
      throw new InputError(`${what}: unknown field \`${name}\`, expected one of ${Object.keys(fields).map((f) => `\`${f}\``).join(', ')}`);
    }
  }
  for (const [name, read] of Object.entries(fields)) out[name] = read(value[name], name, what);
  return out;
}

const need = (type) => (v, name, what) => {
  if (v === undefined) throw new InputError(`${what}: missing field \`${name}\``);
  if (typeOf(v) !== type) throw new InputError(`${what}: invalid type for \`${name}\`: ${typeOf(v)}, expected ${kinds[type]}`);
  // JSON.parse lets a lone surrogate through (serde_json refuses it); jco would turn it into U+FFFD.
  if (type === 'string' && !v.isWellFormed()) throw new InputError(`${what}: lone leading surrogate in hex escape`);
  return v;
};
/** `Option<T>`: absent or null is None. */
const maybe = (type) => (v, name, what) => (v === undefined || v === null ? undefined : need(type)(v, name, what));
/** `#[serde(default)]`: absent is the default, null is an error. */
const orDefault = (type, fallback) => (v, name, what) => (v === undefined ? fallback() : need(type)(v, name, what));
const u64 = (v, name, what) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new InputError(`${what}: invalid value for \`${name}\`, expected u64`);
  }
  return BigInt(v);
};
const i64 = (optional) => (v, name, what) => {
  if (optional && (v === undefined || v === null)) return undefined;
  if (v === undefined) throw new InputError(`${what}: missing field \`${name}\``);
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new InputError(`${what}: invalid value for \`${name}\`, expected i64`);
  return BigInt(v);
};

function parseJson(bytes, what) {
  try {
    // Fatal decoding: serde_json refuses invalid UTF-8 where Buffer#toString would replace it.
    const text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${what}: ${error.message}`);
  }
}

const timeOf = (field, text) => {
  if (text === undefined) return undefined;
  try {
    return parseRfc3339(text);
  } catch (error) {
    throw new InputError(`${field}: ${error.message}`);
  }
};

/** A closed set of kebab-case names (a serde unit enum): one of `names`, as a string. */
const oneOf = (names) => (v, name, what) => {
  const text = need('string')(v, name, what);
  if (!names.includes(text)) {
    throw new InputError(`${what}: unknown variant \`${text}\`, expected one of ${names.map((n) => `\`${n}\``).join(', ')}`);
  }
  return text;
};
/** A list of `item`s; absent is empty (`#[serde(default)]`). */
const listOf = (item) => (v, name, what) => orDefault('array', () => [])(v, name, what).map((x) => item(x, name, what));
/** `Option<record>`: absent or null is None. */
const maybeRecord = (fields, convert) => (v, _name, what) =>
  (v === undefined || v === null ? undefined : convert(record(v, fields, what)));
const maybeU64 = (v, name, what) => (v === undefined || v === null ? undefined : u64(v, name, what));

/** A card's or menu's button, `{"type":"web-url","title","url"}` or `{"type":"postback","title","payload"}`. */
const button = (v, name, what) => {
  if (typeOf(v) !== 'object') throw new InputError(`${what}: invalid type: ${typeOf(v)}, expected a map`);
  const { type, ...rest } = v;
  const kind = oneOf(['web-url', 'postback'])(type, 'type', what);
  const fields = kind === 'web-url' ? { title: need('string'), url: need('string') } : { title: need('string'), payload: need('string') };
  return { tag: kind, val: record(rest, fields, what) };
};

/** An attachment: a `url` with its `size-bytes`, or the `attachment-id` of media Meta kept. */
function attachment(v, _name, what) {
  const a = record(v, { url: maybe('string'), 'mime-type': need('string'), 'size-bytes': maybeU64, 'attachment-id': maybe('string') }, what);
  if (a['attachment-id'] === undefined && a.url !== undefined && a['size-bytes'] === undefined) {
    throw new InputError(`${what}: an attachment with a \`url\` needs its \`size-bytes\``);
  }
  if (a['attachment-id'] === undefined && a.url === undefined) {
    throw new InputError(`${what}: an attachment needs a \`url\` (with \`size-bytes\`) or an \`attachment-id\``);
  }
  return { url: a.url ?? '', mimeType: a['mime-type'], sizeBytes: a['size-bytes'] ?? 0n, attachmentId: a['attachment-id'] };
}

const quickReply = (v, _name, what) => record(v, { title: need('string'), payload: need('string') }, what);
const card = (v, _name, what) => {
  const c = record(v, {
    title: need('string'),
    subtitle: maybe('string'),
    'image-url': maybe('string'),
    'default-url': maybe('string'),
    buttons: listOf(button),
  }, what);
  return { title: c.title, subtitle: c.subtitle, imageUrl: c['image-url'], defaultUrl: c['default-url'], buttons: c.buttons };
};

/**
 * The outbound REQUEST as a WIT `reply`; `nowMs` stands in when it has no `now`.
 * @param {Uint8Array | string} bytes @param {bigint} nowMs
 */
export function parseRequest(bytes, nowMs) {
  const what = 'the request is not the outbound JSON';
  const r = record(parseJson(bytes, what), {
    'account-id': need('string'),
    'customer-id': orDefault('string', () => ''),
    now: maybe('string'),
    author: need('string'),
    'last-customer-message-at': maybe('string'),
    'human-agent-tag': orDefault('boolean', () => false),
    text: maybe('string'),
    attachments: listOf(attachment),
    'quick-replies': listOf(quickReply),
    cards: listOf(card),
    'sender-action': (v, name, w) => (v === undefined || v === null ? undefined : oneOf(['typing-on', 'typing-off', 'mark-seen'])(v, name, w)),
    reaction: maybeRecord({ 'message-id': need('string'), emoji: maybe('string'), remove: orDefault('boolean', () => false) },
      (x) => ({ messageId: x['message-id'], emoji: x.emoji, remove: x.remove })),
    'thread-control': maybeRecord({ action: oneOf(['pass', 'take', 'request']), 'target-app-id': maybe('string'), metadata: maybe('string') },
      (x) => ({ action: x.action, targetAppId: x['target-app-id'], metadata: x.metadata })),
    // Since WIT 0.3.0: a reply to a comment, timed by the comment as stored.
    'comment-id': maybe('string'),
    public: orDefault('boolean', () => false),
  }, what);
  if (r['last-customer-message-at'] === undefined && r['comment-id'] === undefined) {
    throw new InputError(`${what}: missing field \`last-customer-message-at\``);
  }
  if (r.author !== 'agent' && r.author !== 'bot') {
    throw new InputError(`author is "agent" or "bot", not ${rustDebugString(r.author)}`);
  }
  return {
    accountId: r['account-id'],
    customerId: r['customer-id'],
    now: timeOf('now', r.now) ?? nowMs,
    author: r.author,
    lastCustomerMessageAt: timeOf('last-customer-message-at', r['last-customer-message-at']) ?? 0n,
    humanAgentTag: r['human-agent-tag'],
    text: r.text,
    attachments: r.attachments,
    quickReplies: r['quick-replies'],
    cards: r.cards,
    senderAction: r['sender-action'],
    reaction: r.reaction,
    threadControl: r['thread-control'],
    commentId: r['comment-id'],
    publicReply: r.public,
  };
}

/** `login` as the WIT enum. */
export function loginKind(text) {
  if (text === 'facebook' || text === 'instagram') return text;
  throw new InputError(`login is "facebook" or "instagram", not ${rustDebugString(text)}`);
}

/**
 * The expiry LINK as a WIT `link`; `nowMs` stands in when it has no `now`. A `last-error` is taken as an HTTP 400
 * that is not transient, as the Rust CLI does.
 * @param {Uint8Array | string} bytes @param {bigint} nowMs
 */
export function parseLink(bytes, nowMs) {
  const what = 'the link is not the expiry JSON';
  const graphError = (v, _name, w) =>
    v === undefined || v === null ? undefined : record(v, { code: i64(false), subcode: i64(true) }, w);
  const l = record(parseJson(bytes, what), {
    now: maybe('string'),
    'linked-at': need('string'),
    'token-expires-at': maybe('string'),
    'last-notice-at': maybe('string'),
    owners: (v, name, w) => orDefault('array', () => [])(v, name, w).map((o) => need('string')(o, name, w)),
    'last-error': graphError,
    'last-error-at': maybe('string'),
    language: maybe('string'),
    login: maybe('string'),
  }, what);
  return {
    now: timeOf('now', l.now) ?? nowMs,
    linkedAt: timeOf('linked-at', l['linked-at']),
    tokenExpiresAt: timeOf('token-expires-at', l['token-expires-at']),
    lastNoticeAt: timeOf('last-notice-at', l['last-notice-at']),
    owners: l.owners,
    lastError: l['last-error'] && {
      code: l['last-error'].code,
      subcode: l['last-error'].subcode,
      isTransient: false,
      httpStatus: 400,
    },
    lastErrorAt: timeOf('last-error-at', l['last-error-at']),
    language: l.language,
    login: l.login === undefined ? undefined : loginKind(l.login),
  };
}
