// The egress policy of the `http` import, as host-harness/src/http.rs has it: https only, to Meta's Graph hosts on
// port 443, no credentials in the URL, and an optional Graph override (plain http only on loopback) that keeps
// the path and query. Pure functions, so the policy is tested without any network.

/** The hosts the component may reach. */
export const META_HOSTS = ['graph.facebook.com', 'graph.instagram.com', 'api.instagram.com'];

/** The limits of the Rust host's `EgressPolicy::default()`. */
export const DEFAULT_LIMITS = Object.freeze({
  maxTimeoutMs: 10_000,
  connectTimeoutMs: 3_000,
  maxResponseBytes: 1 << 20,
  maxRequestBytes: 1 << 20,
});

/** A refusal or failure as the WIT `http.error` variant: `{ tag, val }`. */
export class HttpFailure extends Error {
  /** @param {{tag: string, val?: unknown}} payload */
  constructor(payload) {
    super(`${payload.tag}${payload.val === undefined ? '' : `: ${payload.val}`}`);
    // jco lowers a thrown value with an own `payload` property as the import's `err` case.
    this.payload = payload;
  }
}

const denied = (why) => new HttpFailure({ tag: 'denied', val: why });
const invalid = (why) => new HttpFailure({ tag: 'invalid-request', val: why });

// What http::Uri refuses outright: controls, space, non-ASCII, and a few delimiters (an approximation: the
// component builds its URLs itself, so only hostile or buggy URLs ever get here).
const BAD_URI_CHAR = /[\u0000-\u0020\u007f-\uffff"<>\\^`]/;

/**
 * Splits an absolute URL the way http::Uri does: scheme, authority (up to `/`, `?` or `#`), path and query (a
 * fragment is dropped; an empty path-and-query reads as `/`).
 * @param {string} url
 */
export function splitUrl(url) {
  if (BAD_URI_CHAR.test(url)) return null;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(url);
  if (!m) return null;
  const [, scheme, authority, pathAndQuery] = m;
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  let host;
  let port;
  const v6 = /^(\[[0-9A-Fa-f:.]+\])(?::(.*))?$/.exec(hostPort);
  if (v6) [, host, port] = v6;
  else [host, port] = hostPort.includes(':') ? [hostPort.slice(0, hostPort.lastIndexOf(':')), hostPort.slice(hostPort.lastIndexOf(':') + 1)] : [hostPort, undefined];
  if (port !== undefined && port !== '' && !/^\d{1,5}$/.test(port)) return null;
  const portNumber = port ? Number(port) : undefined;
  if (portNumber !== undefined && portNumber > 65535) return null;
  return { scheme, authority, host, port: portNumber, pathAndQuery: pathAndQuery || '/' };
}

/** @param {string} host */
export function isLoopback(host) {
  const h = host.replace(/^\[/, '').replace(/\]$/, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return !!v4 && v4.slice(1).every((o) => Number(o) <= 255) && Number(v4[1]) === 127;
}

/**
 * Checks a Graph override as `EgressPolicy::with_graph_url` does; the base to prefix, without trailing slashes.
 * @param {string} url
 * @returns {string}
 */
export function checkGraphUrl(url) {
  const parts = splitUrl(url);
  const scheme = parts?.scheme.toLowerCase();
  if (parts && scheme === 'https' && parts.host !== '') return `https://${parts.authority}${parts.pathAndQuery}`.replace(/\/+$/, '');
  if (parts && scheme === 'http' && isLoopback(parts.host)) return `http://${parts.authority}${parts.pathAndQuery}`.replace(/\/+$/, '');
  if (parts && scheme === 'http') {
    throw new Error(`--graph-url may use plain http only on loopback (127.0.0.1, ::1, localhost): ${JSON.stringify(url)}`);
  }
  throw new Error(`--graph-url must be an absolute http(s) URL: ${JSON.stringify(url)}`);
}

/**
 * The URL to really connect to, or an HttpFailure (`denied` / `invalid-request`), as `EgressPolicy::route`.
 * @param {string} url the component's URL
 * @param {string | undefined} graphBase a checked override (see checkGraphUrl)
 * @returns {string}
 */
export function route(url, graphBase) {
  if (url.slice(0, 8).toLowerCase() !== 'https://') throw denied('only https is allowed');
  const parts = splitUrl(url);
  if (!parts) throw invalid('the URL does not parse');
  if (parts.authority === '') throw invalid('the URL has no host');
  if (parts.authority.includes('@')) throw denied('credentials in the URL are not allowed');
  const host = parts.host.toLowerCase();
  if (!META_HOSTS.includes(host) || (parts.port !== undefined && parts.port !== 443)) {
    throw denied(`${host} is not an allowed Graph host`);
  }
  return graphBase === undefined ? url : `${graphBase}${parts.pathAndQuery}`;
}

/** `scheme://host[:port]` of a URL, without credentials, path or query: safe to log (`origin_of`). */
export function originOf(url) {
  const cut = url.indexOf('//');
  const [scheme, rest] = cut < 0 ? ['', url] : [url.slice(0, cut), url.slice(cut + 2)];
  const authority = rest.split(/[/?#]/)[0];
  return `${scheme}//${authority.slice(authority.lastIndexOf('@') + 1)}`;
}

// RFC 7230 token characters for header names; values may not hold CR, LF or NUL (what the http crate refuses).
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_HEADER_VALUE = /[\r\n\0]/;

/**
 * Refuses what the Rust host refuses before any connection: an over-large body or an invalid header.
 * @param {{headers: Array<[string, string]>, body: Uint8Array}} request
 * @param {number} maxRequestBytes
 */
export function checkRequest(request, maxRequestBytes) {
  if (request.body.length > maxRequestBytes) throw invalid(`the request body is over ${maxRequestBytes} bytes`);
  for (const [name, value] of request.headers) {
    if (!HEADER_NAME.test(name)) throw invalid('invalid HTTP header name');
    if (BAD_HEADER_VALUE.test(value)) throw invalid('failed to parse header value');
  }
}

/**
 * The timeout of one exchange: the request's own, capped by the host's.
 * @param {number | undefined} requested
 * @param {number} max
 */
export const effectiveTimeout = (requested, max) => (requested === undefined ? max : Math.min(requested, max));
