// The commands of the Rust CLI (host-harness/src/cli.rs) over a Host: the same inputs, the same JSON text out
// and the same exit codes (0 ok; 1 refused or invalid; 3 plugin fault; 4 host error). Used by bin/ and by the
// conformance runner, so both hosts are compared on the contract's terms.

import { CallError } from './host.js';
import { toPrettyJson } from './json.js';
import * as render from './render.js';
import { InputError, parseLink, parseRequest } from './requests.js';
import { parseRfc3339 } from './time.js';

/** The delivery body cap of the CLI (messenger-core's inbound::MAX_BODY_BYTES). */
export const MAX_BODY_BYTES = 1 << 20;
const SIGNATURE_HEADER = 'X-Hub-Signature-256';
const EXIT = { rejected: 1, invalid: 1, 'plugin-fault': 3, host: 4 };

/** @typedef {{stdout: string, exit: number}} Outcome  stdout is what the CLI prints, with println!'s newline. */

const ok = (value) => ({ stdout: toPrettyJson(value) + '\n', exit: 0 });
const failed = (value, exit = 1) => ({ stdout: toPrettyJson(value) + '\n', exit });
const errorOf = (code, message, exit = 1) => failed(render.error({ code, message }), exit);
const nowMs = () => BigInt(Date.now());

/** Runs `body`, turning the ways a command fails into the CLI's `{"error":...}` output. */
function guarded(body) {
  try {
    return body();
  } catch (e) {
    if (e instanceof CallError) return failed(render.error(e.info), EXIT[e.kind]);
    if (e instanceof InputError) return failed(render.error(e.info));
    return errorOf('host-error', String(e?.message ?? e), 4);
  }
}

/**
 * `inbound [--app-secret S --signature HDR] [--skip-story-mentions] [--skip-shares] [--now T] BODY`.
 * @param {import('./host.js').Host} host
 * @param {{body: Uint8Array, appSecret?: string, signature?: string, now?: string,
 *          skipStoryMentions?: boolean, skipShares?: boolean}} args
 * @returns {Outcome}
 */
export function inbound(host, args) {
  return guarded(() => {
    if (!args.appSecret) {
      return errorOf('missing-app-secret',
        'deliveries are verified with the app secret: pass --app-secret or set MESSENGER_APP_SECRET');
    }
    let receivedAt = nowMs();
    if (args.now !== undefined) {
      try {
        receivedAt = parseRfc3339(args.now);
      } catch (e) {
        return errorOf('invalid-argument', `--now: ${e.message}`);
      }
    }
    if (args.body.length > MAX_BODY_BYTES) return errorOf('payload-too-large', `the body is over ${MAX_BODY_BYTES} bytes`);
    const headers = args.signature === undefined ? [] : [[SIGNATURE_HEADER, args.signature]];
    const filters = args.skipStoryMentions || args.skipShares || args.skipComments
      ? { skipStoryMentions: !!args.skipStoryMentions, skipShares: !!args.skipShares, skipComments: !!args.skipComments }
      : undefined;
    const events = host.translate({ headers, body: args.body, receivedAt }, { appSecret: args.appSecret, filters });
    return ok(events.map(render.event));
  });
}

/**
 * `outbound [--send] REQUEST`. With `send`, each message is tried once (the Rust CLI retries `later` and `now`
 * answers with backoff; see README "Differences").
 * @param {import('./host.js').Host} host @param {Uint8Array | string} request @param {{send?: boolean}} [options]
 * @returns {Outcome}
 */
export function outbound(host, request, options = {}) {
  return guarded(() => {
    const reply = parseRequest(request, nowMs());
    let plan;
    try {
      plan = host.validate(reply);
    } catch (e) {
      if (e instanceof CallError && e.kind === 'invalid') return failed(render.invalid(e.errors));
      throw e;
    }
    const output = render.plan(plan);
    if (!options.send) return ok(output);
    const statuses = host.send(plan, nowMs());
    output.deliveries = render.deliveries(statuses.map((status) => ({ status, attempts: status.tag === 'not-attempted' ? 0 : 1 })));
    output.sent = statuses.every((s) => ['sent', 'sent-attachment', 'done'].includes(s.tag));
    return output.sent ? ok(output) : failed(output);
  });
}

/**
 * `expiry LINK`.
 * @param {import('./host.js').Host} host @param {Uint8Array | string} link @returns {Outcome}
 */
export function expiry(host, link) {
  return guarded(() => ok(render.decision(host.evaluate(parseLink(link, nowMs())))));
}

/**
 * `filters --account ID [--skip-story-mentions BOOL] [--skip-shares BOOL]`: shows, or changes then shows.
 * @param {import('./host.js').Host} host
 * @param {{account: string, skipStoryMentions?: boolean, skipShares?: boolean}} args @returns {Outcome}
 */
export function filters(host, args) {
  return guarded(() => {
    const current = host.getFilters(args.account);
    if (args.skipStoryMentions !== undefined || args.skipShares !== undefined || args.skipComments !== undefined) {
      current.skipStoryMentions = args.skipStoryMentions ?? current.skipStoryMentions;
      current.skipShares = args.skipShares ?? current.skipShares;
      current.skipComments = args.skipComments ?? current.skipComments;
      host.setFilters(args.account, current);
    }
    return ok(render.filters(args.account, current));
  });
}

/** `accounts list`. @param {import('./host.js').Host} host @returns {Outcome} */
export function accountsList(host) {
  return guarded(() => ok(host.listAccounts().map(render.account)));
}

/** The hub parameters of a verification query (`handshake::from_query`): first occurrence wins. */
export function handshakeFromQuery(query) {
  const decode = (text) => {
    const bytes = [];
    const raw = Buffer.from(text, 'utf8');
    for (let i = 0; i < raw.length; i++) {
      if (raw[i] === 0x2b) bytes.push(0x20);
      else if (raw[i] === 0x25 && i + 2 < raw.length && /^[0-9A-Fa-f]{2}$/.test(raw.subarray(i + 1, i + 3).toString('latin1'))) {
        bytes.push(parseInt(raw.subarray(i + 1, i + 3).toString('latin1'), 16));
        i += 2;
      } else bytes.push(raw[i]);
    }
    return Buffer.from(bytes).toString('utf8');
  };
  const names = { 'hub.mode': 'mode', 'hub.verify_token': 'verifyToken', 'hub.challenge': 'challenge' };
  const handshake = { mode: undefined, verifyToken: undefined, challenge: undefined };
  for (const pair of query.replace(/^\?+/, '').split('&')) {
    const cut = pair.indexOf('=');
    const [name, value] = cut < 0 ? [pair, ''] : [pair.slice(0, cut), pair.slice(cut + 1)];
    const slot = names[decode(name)];
    if (slot && handshake[slot] === undefined) handshake[slot] = decode(value);
  }
  return handshake;
}

/** `handshake QUERY` (the expected token is passed in; the Rust CLI reads MESSENGER_VERIFY_TOKEN). */
export function handshake(host, query, expectedToken) {
  return guarded(() => {
    if (!expectedToken) {
      return errorOf('missing-verify-token', 'set MESSENGER_VERIFY_TOKEN to the verify token configured at Meta');
    }
    return ok({ challenge: host.verifySubscription(handshakeFromQuery(query), expectedToken) });
  });
}
