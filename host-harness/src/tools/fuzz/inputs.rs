//! The fuzzer's generators: a seedable random source, mutated bodies, malformed times and numbers, headers, and
//! random replies and links.

use messenger_core::expiry::{Link, LoginKind};
use messenger_core::graph::GraphError;
use messenger_core::outbound::{Author, OutgoingAttachment, Reply};

/// xorshift64*: small, seedable, good enough to steer mutations.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Pieces that make parsers stumble.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "true",
    "-0",
    "1e999",
    "18446744073709551616",
    "\\u0000",
    "\\ud83d",
    "\\\"",
    "\"entry\":",
    "\"messaging\":[",
    "\"mid\":",
    "\"text\":",
    "\"attachments\":[{\"type\":",
    "\"is_echo\":true",
    "\"reaction\":{\"mid\":\"m\",\"action\":\"x\"}",
    "\"read\":{}",
    "\u{200d}",
    "\u{fe0f}",
    "\u{1f468}",
];

pub(super) fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    if seeds.is_empty() || rng.chance(15) {
        return (0..rng.below(512)).map(|_| rng.next() as u8).collect();
    }
    let mut body = seeds[rng.below(seeds.len())].clone();
    for _ in 0..rng.below(8) {
        let at = rng.below(body.len() + 1);
        match rng.below(5) {
            0 if !body.is_empty() => {
                let last = body.len() - 1;
                body[at.min(last)] = rng.next() as u8;
            }
            1 => body.splice(at..at, TOKENS[rng.below(TOKENS.len())].bytes()).for_each(drop),
            2 => body.truncate(at),
            3 => {
                let end = (at + rng.below(64)).min(body.len());
                let copy = body[at..end].to_vec();
                body.splice(at..at, copy).for_each(drop);
            }
            _ => {
                let end = (at + rng.below(32)).min(body.len());
                body.drain(at..end).for_each(drop);
            }
        }
    }
    body
}

pub(super) fn random_text(rng: &mut Rng) -> String {
    let len = rng.below(3000);
    (0..len)
        .map(|_| match rng.below(6) {
            0 => ' ',
            1 => char::from_u32(0xAC00 + rng.below(11_172) as u32).unwrap_or('가'),
            2 => ['\u{200d}', '\u{fe0f}', '\u{301}', '\u{1f44d}', '\u{1f3fb}', '\n', '.'][rng.below(7)],
            _ => char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('x'),
        })
        .collect()
}

pub(super) fn random_time(rng: &mut Rng) -> u64 {
    [0, u64::MAX, rng.next(), 1_794_474_843_512 + rng.below(40 * 86_400_000) as u64][rng.below(4)]
}

/// A time as the REQUEST and LINK JSON carry it, often malformed: cut, with a multi-byte character inside, a
/// strange offset, out-of-range fields, or not a string at all.
pub(super) fn malformed_time(rng: &mut Rng) -> String {
    let base =
        ["2026-11-24T10:00:00.123+09:00", "2026-11-24T10:00:00Z", "2026-11-24T10:00:0éZ", "2026-11-24T10:00:00+0é00"];
    let mut time: Vec<char> = base[rng.below(base.len())].chars().collect();
    let wide = ['é', '가', '\u{1f44d}', '\u{301}', '０'];
    for _ in 0..rng.below(3) {
        let at = rng.below(time.len() + 1);
        match rng.below(6) {
            0 => time.insert(at, wide[rng.below(wide.len())]),
            // In place of one character: the fields around it keep their places, so the parser reaches it.
            5 if at < time.len() => time[at] = wide[rng.below(wide.len())],
            1 => time.truncate(at),
            2 if at < time.len() => time[at] = char::from(b'0' + rng.below(10) as u8),
            3 if at < time.len() => time[at] = ['Z', 'z', '+', '-', ':', '.', ' ', 'T'][rng.below(8)],
            _ => time.extend("99".chars()),
        }
    }
    let time: String = time.into_iter().collect();
    match rng.below(8) {
        0 => NUMBERS[rng.below(NUMBERS.len())].to_owned(),
        1 => "null".into(),
        _ => serde_json::Value::String(time).to_string(),
    }
}

/// Numbers that overflow, go negative, or are not integers.
pub(super) const NUMBERS: &[&str] =
    &["-1", "1e999", "18446744073709551616", "0.5", "-0", "1e3", "9007199254740993", "\"12\""];

pub(super) fn request_json(rng: &mut Rng) -> String {
    let size = if rng.chance(50) { NUMBERS[rng.below(NUMBERS.len())].to_owned() } else { rng.next().to_string() };
    let author = ["\"agent\"", "\"bot\"", "\"é\"", "1"][rng.below(4)];
    format!(
        r#"{{"account-id":"17841400000000001","customer-id":"1098765432100001","now":{},"author":{author},"last-customer-message-at":{},"text":"hi","attachments":[{{"url":"https://x/a.png","mime-type":"image/png","size-bytes":{size}}}]}}"#,
        malformed_time(rng),
        malformed_time(rng)
    )
}

pub(super) fn link_json(rng: &mut Rng) -> String {
    let code = if rng.chance(50) { NUMBERS[rng.below(NUMBERS.len())].to_owned() } else { "190".into() };
    format!(
        r#"{{"now":{},"linked-at":{},"token-expires-at":{},"last-notice-at":{},"last-error":{{"code":{code},"subcode":{}}},"last-error-at":{},"login":"instagram"}}"#,
        malformed_time(rng),
        malformed_time(rng),
        malformed_time(rng),
        malformed_time(rng),
        NUMBERS[rng.below(NUMBERS.len())],
        malformed_time(rng)
    )
}

/// Header names the server reads, or random bytes.
pub(super) fn header_name(rng: &mut Rng) -> Vec<u8> {
    let known = ["content-length", "idempotency-key", "x-hub-signature-256", "transfer-encoding", "content-type"];
    match rng.chance(80) {
        true => known[rng.below(known.len())].as_bytes().to_vec(),
        false => (0..rng.below(12)).map(|_| rng.next() as u8).collect(),
    }
}

/// Header values (and queries) with numbers, signatures, odd bytes and multi-byte text.
pub(super) fn header_value(rng: &mut Rng) -> Vec<u8> {
    let pieces = [
        "99999999999",
        "-1",
        "1e3",
        " 12 ",
        "0x10",
        "sha256=",
        "sha256=é",
        "sha1=00",
        "hub.mode=subscribe&hub.challenge=%",
        "%zz",
        "%e9",
        "hub.verify_token=%C3%A9&",
        "\u{0}",
        "é",
        "\r\n",
        &"a".repeat(201),
    ];
    let mut value = Vec::new();
    for _ in 0..rng.below(4) {
        match rng.chance(70) {
            true => value.extend_from_slice(pieces[rng.below(pieces.len())].as_bytes()),
            false => value.push(rng.next() as u8),
        }
    }
    value
}

/// A reply of text and attachments, often broken: bad ids, odd links and types, any times.
pub(super) fn reply(rng: &mut Rng) -> Reply {
    let attachments = (0..rng.below(12))
        .map(|_| OutgoingAttachment {
            url: ["https://cdn.example.com/a", "http://x", "", "https://"][rng.below(4)].into(),
            mime_type: ["image/png", "image/gif", "video/mp4", "application/pdf", "x/y", ""][rng.below(6)].into(),
            size_bytes: random_time(rng),
            attachment_id: rng.chance(10).then(|| ["123456", "", "a b"][rng.below(3)].to_owned()),
        })
        .collect();
    Reply {
        account_id: ["17841400000000001", "", "x/y", "1"][rng.below(4)].into(),
        customer_id: "1098765432100001".into(),
        now: random_time(rng),
        author: if rng.chance(50) { Author::Agent } else { Author::Bot },
        last_customer_message_at: random_time(rng),
        human_agent_tag: rng.chance(50),
        text: rng.chance(90).then(|| random_text(rng)),
        attachments,
        ..Reply::default()
    }
}

/// A link at any times, with any Graph error.
pub(super) fn link(rng: &mut Rng) -> Link {
    let error = rng.chance(40).then(|| GraphError {
        code: [190, 102, 200, 230, 613, 10, rng.next() as i64][rng.below(7)],
        subcode: rng.chance(50).then(|| rng.next() as i64 % 3_000_000),
        is_transient: rng.chance(50),
        http_status: rng.next() as u16,
    });
    Link {
        now: random_time(rng),
        linked_at: random_time(rng),
        token_expires_at: rng.chance(50).then(|| random_time(rng)),
        last_notice_at: rng.chance(50).then(|| random_time(rng)),
        owners: (0..rng.below(4)).map(|i| format!("owner-{i}")).collect(),
        last_error: error,
        last_error_at: rng.chance(50).then(|| random_time(rng)),
        language: ["ko", "en", "ko-KR", "", "zz"].get(rng.below(6)).map(|l| l.to_string()),
        login: [Some(LoginKind::Facebook), Some(LoginKind::Instagram), None][rng.below(3)],
    }
}
