//! RFC 3339 for millisecond Unix timestamps, without a date library (the component stays small).

/// Milliseconds since the Unix epoch, UTC.
pub type TimestampMs = u64;

pub const SECOND_MS: u64 = 1000;
pub const HOUR_MS: u64 = 3600 * SECOND_MS;
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// Formats as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_rfc3339(ms: TimestampMs) -> String {
    let days = (ms / DAY_MS) as i64;
    let in_day = ms % DAY_MS;
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, milli) = (in_day / HOUR_MS, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` (a space or `t` may stand for `T`). Fractions finer
/// than a millisecond are truncated. Times before 1970 are refused.
pub fn parse_rfc3339(text: &str) -> Result<TimestampMs, String> {
    let bad = || format!("not an RFC 3339 time (e.g. 2026-11-24T10:00:00Z): {text:?}");
    let b = text.as_bytes();
    // Every valid time is ASCII; checking it first keeps the byte slices below on character boundaries.
    if !text.is_ascii()
        || b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let part = &text[range];
        if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().map_err(|_| bad()) } else { Err(bad()) }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    let mut rest = &text[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let first3 = format!("{:0<3}", &frac[..digits.min(3)]);
        millis = first3.parse().map_err(|_| bad())?;
        rest = &frac[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) && &rest[3..4] == ":" => {
            let (oh, om) = (num_in(rest, 1..3).ok_or_else(bad)?, num_in(rest, 4..6).ok_or_else(bad)?);
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (oh * 60 + om)
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(year, month, day);
    let total = ((days * 24 + hour) * 60 + minute - offset_minutes) * 60_000 + second * 1000 + millis;
    u64::try_from(total).map_err(|_| format!("time before 1970 is not supported: {text:?}"))
}

fn num_in(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = text.get(range)?;
    part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's algorithms (proleptic Gregorian calendar).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Serializes a timestamp as RFC 3339 (for serde's `serialize_with`).
pub fn serialize<S: serde::Serializer>(ms: &TimestampMs, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_rfc3339(*ms))
}

/// Serializes an optional timestamp as RFC 3339.
pub fn serialize_opt<S: serde::Serializer>(ms: &Option<TimestampMs>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => serialize(ms, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_fixture_times() {
        assert_eq!(format_rfc3339(1_794_474_843_512), "2026-11-12T09:14:03.512Z");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn parses_what_it_formats_and_offsets() {
        for ms in [0, 1_794_474_843_512, 951_782_400_000, 4_102_444_799_999] {
            assert_eq!(parse_rfc3339(&format_rfc3339(ms)), Ok(ms));
        }
        assert_eq!(parse_rfc3339("2026-11-12T18:14:03.512+09:00"), Ok(1_794_474_843_512));
        assert_eq!(parse_rfc3339("2026-11-12T09:14:03Z"), Ok(1_794_474_843_000));
        assert_eq!(parse_rfc3339("2026-11-12T09:14:03.5129999Z"), Ok(1_794_474_843_512));
    }

    #[test]
    fn refuses_malformed_times() {
        for bad in [
            "",
            "2026-11-12",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-12T09:14:03",
            "1969-12-31T23:59:59Z",
            "2026-11-12T09:14:03.Z",
            "2026-11-12T09:14:03+0900",
            "2026-11-24T10:00:0éZ",
            "2026-11-24T10:00:00+0é00",
            "2026-11-24T10:00:00.5é",
            "2026-11-24T10:00:00Zé",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }
}
