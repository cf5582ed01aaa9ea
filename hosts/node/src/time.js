// RFC 3339 for millisecond timestamps, ported line for line from plugin/core/src/time.rs so that both hosts
// print and accept exactly the same texts (JS's Date differs: it refuses leap second 60, prints years past 9999
// as +0YYYYY, and accepts many non-RFC shapes).

const DAY_MS = 86_400_000n;
const HOUR_MS = 3_600_000n;

/** Floor division and modulo on BigInt (Rust's div_euclid / rem_euclid for a positive divisor). */
const divEuclid = (a, b) => (a >= 0n ? a / b : -((-a + b - 1n) / b));

function civilFromDays(days) {
  const z = days + 719_468n;
  const era = divEuclid(z, 146_097n);
  const doe = z - era * 146_097n;
  const yoe = (doe - doe / 1460n + doe / 36_524n - doe / 146_096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const day = doy - (153n * mp + 2n) / 5n + 1n;
  const month = mp < 10n ? mp + 3n : mp - 9n;
  return [yoe + era * 400n + (month <= 2n ? 1n : 0n), month, day];
}

function daysFromCivil(year, month, day) {
  const y = month <= 2n ? year - 1n : year;
  const era = divEuclid(y, 400n);
  const yoe = y - era * 400n;
  const mp = (month + 9n) % 12n;
  const doy = (153n * mp + 2n) / 5n + day - 1n;
  const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy;
  return era * 146_097n + doe - 719_468n;
}

const pad = (n, width) => n.toString().padStart(width, '0');

/**
 * `YYYY-MM-DDTHH:MM:SS.mmmZ`, as `format_rfc3339` (a u64 of milliseconds since the epoch).
 * @param {bigint | number} ms
 */
export function formatRfc3339(ms) {
  const t = BigInt(ms);
  const [year, month, day] = civilFromDays(t / DAY_MS);
  const inDay = t % DAY_MS;
  const [h, m, s, milli] = [inDay / HOUR_MS, (inDay / 60_000n) % 60n, (inDay / 1000n) % 60n, inDay % 1000n];
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(milli, 3)}Z`;
}

function daysInMonth(year, month) {
  if (month === 2n) return year % 4n === 0n && (year % 100n !== 0n || year % 400n === 0n) ? 29n : 28n;
  return [4n, 6n, 9n, 11n].includes(month) ? 30n : 31n;
}

/** Rust's `{:?}` of a str, for the texts of error messages (printable text is kept, controls escaped). */
export function rustDebugString(text) {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\0') out += '\\0';
    else if (cp < 0x20 || cp === 0x7f) out += `\\u{${cp.toString(16)}}`;
    else out += ch;
  }
  return out + '"';
}

const isDigits = (bytes) => bytes.length > 0 && bytes.every((c) => c >= 0x30 && c <= 0x39);

/**
 * Parses as `parse_rfc3339`: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, a space or `t` for `T`, fractions past
 * milliseconds truncated, second 60 accepted, times before 1970 refused. Throws an Error with Rust's message.
 * @param {string} text
 * @returns {bigint}
 */
export function parseRfc3339(text) {
  const bad = () => new Error(`not an RFC 3339 time (e.g. 2026-11-24T10:00:00Z): ${rustDebugString(text)}`);
  const b = Buffer.from(text, 'utf8');
  const at = (i) => b[i];
  if (b.length < 20 || at(4) !== 0x2d || at(7) !== 0x2d || ![0x54, 0x74, 0x20].includes(at(10)) ||
      at(13) !== 0x3a || at(16) !== 0x3a) {
    throw bad();
  }
  const num = (from, to) => {
    const part = [...b.subarray(from, to)];
    if (!isDigits(part)) throw bad();
    return BigInt(Buffer.from(part).toString('latin1'));
  };
  const [year, month, day] = [num(0, 4), num(5, 7), num(8, 10)];
  const [hour, minute, second] = [num(11, 13), num(14, 16), num(17, 19)];
  if (month < 1n || month > 12n || day < 1n || day > daysInMonth(year, month) || hour > 23n || minute > 59n ||
      second > 60n) {
    throw bad();
  }
  let rest = b.subarray(19);
  let millis = 0n;
  if (rest[0] === 0x2e) {
    const frac = rest.subarray(1);
    let digits = 0;
    while (digits < frac.length && frac[digits] >= 0x30 && frac[digits] <= 0x39) digits++;
    if (digits === 0) throw bad();
    millis = BigInt(frac.subarray(0, Math.min(digits, 3)).toString('latin1').padEnd(3, '0'));
    rest = frac.subarray(digits);
  }
  const tail = rest.toString('utf8');
  let offsetMinutes;
  if (tail === 'Z' || tail === 'z') {
    offsetMinutes = 0n;
  } else if (rest.length === 6 && (rest[0] === 0x2b || rest[0] === 0x2d) && rest[3] === 0x3a) {
    const oh = [...rest.subarray(1, 3)];
    const om = [...rest.subarray(4, 6)];
    if (!isDigits(oh) || !isDigits(om)) throw bad();
    const sign = rest[0] === 0x2d ? -1n : 1n;
    offsetMinutes = sign * (BigInt(Buffer.from(oh).toString('latin1')) * 60n + BigInt(Buffer.from(om).toString('latin1')));
  } else {
    throw bad();
  }
  const days = daysFromCivil(year, month, day);
  const total = ((days * 24n + hour) * 60n + minute - offsetMinutes) * 60_000n + second * 1000n + millis;
  if (total < 0n) throw new Error(`time before 1970 is not supported: ${rustDebugString(text)}`);
  return total;
}
