// The contract JSON (shared/DESIGN.md) of the component's answers, as plain objects for toPrettyJson: kebab-case
// keys, RFC 3339 times. Two conventions, both taken from the Rust host: inbox events leave absent options out
// (serde's skip_serializing_if, messenger-core's events.rs); every other output prints them as null (json!).

import { formatRfc3339 } from './time.js';

const time = (ms) => (ms === undefined ? undefined : formatRfc3339(ms));
const orNull = (v) => (v === undefined ? null : v);

function attachment(a) {
  return {
    type: a.type,
    'raw-type': a.rawType,
    url: a.url,
    'expires-at': time(a.expiresAt),
    title: a.title,
    'media-id': a.mediaId,
  };
}

function message(m) {
  return {
    'message-id': m.messageId,
    'customer-id': m.customerId,
    timestamp: time(m.timestamp),
    text: m.text,
    attachments: m.attachments.map(attachment),
    story: m.story && { url: m.story.url, id: m.story.id, 'expires-at': time(m.story.expiresAt) },
    'reply-to': m.replyTo,
    'quick-reply': m.quickReply,
  };
}

/** The fields of each event kind (the WIT variant's payload), flattened beside `kind`. */
const KINDS = {
  'customer-message': message,
  echo: message,
  reaction: (r) => ({
    'message-id': r.messageId,
    'customer-id': r.customerId,
    timestamp: time(r.timestamp),
    action: r.action,
    reaction: r.reaction,
    emoji: r.emoji,
  }),
  'message-deleted': (m) => ({ 'message-id': m.messageId, 'customer-id': m.customerId, timestamp: time(m.timestamp) }),
  'message-edited': (e) => ({
    'message-id': e.messageId,
    'customer-id': e.customerId,
    timestamp: time(e.timestamp),
    text: e.text,
    'edit-count': e.editCount,
  }),
  read: (r) => ({
    'message-id': r.messageId,
    watermark: time(r.watermark),
    'customer-id': r.customerId,
    timestamp: time(r.timestamp),
  }),
  postback: (p) => ({
    'message-id': p.messageId,
    'customer-id': p.customerId,
    timestamp: time(p.timestamp),
    title: p.title,
    payload: p.payload,
  }),
  referral: (r) => ({
    'customer-id': r.customerId,
    timestamp: time(r.timestamp),
    source: r.source,
    ref: r.ref,
    'referral-type': r.referralType,
    'ad-id': r.adId,
    'ad-context': r.adContext && {
      'ad-title': r.adContext.adTitle,
      'photo-url': r.adContext.photoUrl,
      'video-url': r.adContext.videoUrl,
      'post-id': r.adContext.postId,
    },
    'message-id': r.messageId,
  }),
  skipped: (s) => ({ reason: s.reason, 'message-id': s.messageId, 'customer-id': s.customerId }),
  // Since WIT 0.3.0.
  comment: (c) => ({
    'comment-id': c.commentId,
    'parent-id': c.parentId,
    media: c.media && {
      id: c.media.id,
      type: c.media.productType,
      'ad-id': c.media.adId,
      'ad-title': c.media.adTitle,
      'original-media-id': c.media.originalMediaId,
    },
    'customer-id': c.customerId,
    username: c.username,
    text: c.text,
    timestamp: time(c.timestamp),
    live: c.live || undefined,
  }),
  handover: (h) => ({
    'customer-id': h.customerId,
    timestamp: time(h.timestamp),
    action: h.action,
    'owner-app-id': h.ownerAppId,
    'previous-owner-app-id': h.previousOwnerAppId,
    'requested-owner-app-id': h.requestedOwnerAppId,
    metadata: h.metadata,
  }),
};

/** One inbox event (WIT `inbox-event`). */
export function event(e) {
  const render = KINDS[e.kind.tag];
  if (!render) throw new TypeError(`unknown event kind ${e.kind.tag}`);
  const c = e.customer;
  return {
    'account-id': e.accountId,
    kind: e.kind.tag,
    ...render(e.kind.val),
    customer: c && {
      username: c.username,
      name: c.name,
      'profile-pic': c.profilePic,
      anonymous: c.anonymous,
      'profile-pending': c.profilePending,
    },
    // Printed only when true, as the Rust host's skip_serializing_if does.
    standby: e.standby || undefined,
    backfill: e.backfill || undefined,
    'time-from-delivery': e.timeFromDelivery || undefined,
  };
}

/** `{"error":{"code","message"}}`: how the CLI reports a refused call. */
export const error = (info) => ({ error: { code: info.code, message: info.message } });

/** A button (WIT `button`) as the contract writes it: `{"type","title","url"|"payload"}`. */
const button = (b) => ({ type: b.tag, ...b.val });

/** One planned message (WIT `planned-message`), as messenger-core's PlannedMessage serializes. */
const MESSAGES = {
  text: (text) => text,
  attachment: (a) => ({ type: a.type, url: a.url }),
  'reused-attachment': (a) => ({ type: a.type, 'attachment-id': a.attachmentId }),
  'text-with-quick-replies': (t) => ({
    text: t.text,
    'quick-replies': t.quickReplies.map((q) => ({ title: q.title, payload: q.payload })),
  }),
  cards: (cards) => cards.map((c) => ({
    title: c.title,
    subtitle: c.subtitle,
    'image-url': c.imageUrl,
    'default-url': c.defaultUrl,
    buttons: c.buttons.map(button),
  })),
  'sender-action': (action) => action,
  reaction: (r) => ({ 'message-id': r.messageId, emoji: r.emoji, remove: r.remove || undefined }),
  'thread-control': (t) => ({ action: t.action, 'target-app-id': t.targetAppId, metadata: t.metadata }),
  'comment-reply': (c) => ({ 'comment-id': c.commentId, text: c.text, public: c.public }),
};

/** `{"ok":true,"messages":[...],"tag":...,"window-closes-at":...}` (WIT `send-plan`). */
export function plan(p) {
  return {
    ok: true,
    messages: p.messages.map((m) => ({ [m.tag]: MESSAGES[m.tag](m.val) })),
    tag: p.tag === 'human-agent' ? 'HUMAN_AGENT' : null,
    'window-closes-at': formatRfc3339(p.windowClosesAt),
  };
}

/** `{"ok":false,"errors":[...]}`: every problem of an invalid reply. */
export const invalid = (errors) => ({ ok: false, errors: errors.map((e) => ({ code: e.code, message: e.message })) });

/**
 * One report per planned message (WIT `delivery-status`), as `outbound_json::deliveries` with one attempt each.
 * @param {Array<{status: any, attempts: number}>} outcomes
 */
export function deliveries(outcomes) {
  return outcomes.map(({ status, attempts }) => {
    if (status.tag === 'sent') return { status: 'sent', 'message-id': status.val, attempts };
    if (status.tag === 'sent-attachment') {
      return { status: 'sent', 'message-id': status.val.messageId, 'attachment-id': status.val.attachmentId, attempts };
    }
    if (status.tag === 'done') return { status: 'done', attempts };
    if (status.tag === 'not-attempted') return { status: 'not-attempted', attempts: 0 };
    const failure = status.val;
    const report = {
      status: 'failed',
      error: { code: failure.error.code, message: failure.error.message },
      retry: failure.retry,
      attempts,
    };
    if (failure.graph) {
      report.graph = { code: failure.graph.code, subcode: orNull(failure.graph.subcode), 'http-status': failure.graph.httpStatus };
    }
    return report;
  });
}

/** An expiry decision (WIT `link-decision`). */
export function decision(d) {
  return {
    state: d.state,
    'expires-at': formatRfc3339(d.expiresAt),
    notify: d.notify,
    notice: orNull(d.notice),
    refresh: d.refresh,
    reason: orNull(d.reason),
  };
}

/** A stored account (WIT `account-info`); never a token. */
export function account(a) {
  return {
    'account-id': a.accountId,
    username: orNull(a.username),
    login: a.login,
    'linked-at': formatRfc3339(a.linkedAt),
    'token-expires-at': formatRfc3339(a.tokenExpiresAt),
    representative: a.representative,
    'last-error': a.lastError ? { code: a.lastError.code, subcode: orNull(a.lastError.subcode) } : null,
    'last-error-at': a.lastErrorAt === undefined ? null : formatRfc3339(a.lastErrorAt),
  };
}

/** A newly linked account (WIT `linked-account`). */
export const linked = (a) => ({
  'account-id': a.accountId,
  username: orNull(a.username),
  'expires-at': formatRfc3339(a.expiresAt),
  relinked: a.relinked,
});

/** What a selection does (WIT `selection-change`). */
export const change = (c) => ({ added: c.added, kept: c.kept, removed: c.removed, warning: orNull(c.warning) });

/** The `filters` command's answer. */
export const filters = (accountId, f) => ({
  'account-id': accountId,
  'skip-story-mentions': f.skipStoryMentions,
  'skip-shares': f.skipShares,
  'skip-comments': f.skipComments,
});
