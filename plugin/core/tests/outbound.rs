//! Outbound rules natively: the window at its boundaries, attachments, Graph error sorting, and the split on
//! hostile Unicode.

use messenger_core::graph::{GraphError, classify};
use messenger_core::outbound::{
    Author, MessageTag, OutgoingAttachment, PlannedMessage, Reply, Retry, codes, split, validate,
};
use messenger_core::time::{DAY_MS, SECOND_MS};
use proptest::prelude::*;
use unicode_segmentation::UnicodeSegmentation;

const LAST: u64 = 1_794_474_843_512;

fn reply(author: Author, age_ms: u64, tag_allowed: bool) -> Reply {
    Reply {
        account_id: "17841400000000001".into(),
        customer_id: "1098765432100001".into(),
        now: LAST + age_ms,
        author,
        last_customer_message_at: LAST,
        human_agent_tag: tag_allowed,
        text: Some("Thanks!".into()),
        ..Default::default()
    }
}

fn outcome(r: &Reply) -> Result<Option<MessageTag>, String> {
    validate(r)
        .map(|plan| plan.tag)
        .map_err(|errors| errors.iter().map(|e| e.code.clone()).collect::<Vec<_>>().join(","))
}

#[test]
fn window_boundaries_to_the_second() {
    let (h24, d7) = (DAY_MS, 7 * DAY_MS);
    let closed = Err(codes::WINDOW_CLOSED.to_string());
    for tag_allowed in [false, true] {
        for author in [Author::Agent, Author::Bot] {
            assert_eq!(outcome(&reply(author, 0, tag_allowed)), Ok(None));
            assert_eq!(outcome(&reply(author, h24 - SECOND_MS, tag_allowed)), Ok(None), "{author:?} 24h-1s");
        }
        assert_eq!(outcome(&reply(Author::Bot, h24, tag_allowed)), closed, "a bot at exactly 24h");
        assert_eq!(outcome(&reply(Author::Bot, h24 + SECOND_MS, tag_allowed)), closed, "a bot is never tagged");
        assert_eq!(outcome(&reply(Author::Bot, d7 - SECOND_MS, tag_allowed)), closed);
    }
    assert_eq!(outcome(&reply(Author::Agent, h24 + SECOND_MS, false)), closed, "an agent without the tag permission");
    assert_eq!(outcome(&reply(Author::Agent, h24, true)), Ok(Some(MessageTag::HumanAgent)));
    assert_eq!(outcome(&reply(Author::Agent, h24 + SECOND_MS, true)), Ok(Some(MessageTag::HumanAgent)));
    assert_eq!(outcome(&reply(Author::Agent, d7 - SECOND_MS, true)), Ok(Some(MessageTag::HumanAgent)));
    assert_eq!(outcome(&reply(Author::Agent, d7, true)), closed, "exactly 7 days");
    assert_eq!(outcome(&reply(Author::Agent, d7 + SECOND_MS, true)), closed);
}

#[test]
fn the_plan_says_when_the_window_closes_and_closed_errors_say_when_it_closed() {
    assert_eq!(validate(&reply(Author::Bot, 0, false)).unwrap().window_closes_at, LAST + DAY_MS);
    assert_eq!(validate(&reply(Author::Agent, 2 * DAY_MS, true)).unwrap().window_closes_at, LAST + 7 * DAY_MS);
    let errors = validate(&reply(Author::Agent, 8 * DAY_MS, true)).unwrap_err();
    assert!(errors[0].message.contains("2026-11-19T09:14:03.512Z"), "{}", errors[0].message);
}

fn with_attachment(mime: &str, size: u64) -> Reply {
    let attachment = OutgoingAttachment {
        url: "https://cdn.example.com/a".into(),
        mime_type: mime.into(),
        size_bytes: size,
        attachment_id: None,
    };
    Reply { text: None, attachments: vec![attachment], ..reply(Author::Agent, 0, false) }
}

fn codes_of(r: &Reply) -> Vec<String> {
    validate(r).err().unwrap_or_default().into_iter().map(|e| e.code).collect()
}

#[test]
fn attachments_follow_the_product_rules() {
    for mime in ["image/jpeg", "image/png", "image/x-icon", "image/bmp", "IMAGE/PNG; charset=binary"] {
        assert_eq!(codes_of(&with_attachment(mime, 8_000_000)), Vec::<String>::new(), "{mime}");
    }
    assert_eq!(codes_of(&with_attachment("image/gif", 10)), [codes::UNSUPPORTED_IMAGE_TYPE]);
    assert_eq!(codes_of(&with_attachment("image/webp", 10)), [codes::UNSUPPORTED_IMAGE_TYPE]);
    assert_eq!(codes_of(&with_attachment("image/png", 8_000_001)), [codes::IMAGE_TOO_LARGE]);
    assert_eq!(codes_of(&with_attachment("video/mp4", 25_000_000)), Vec::<String>::new());
    assert_eq!(codes_of(&with_attachment("video/mp4", 25_000_001)), [codes::ATTACHMENT_TOO_LARGE]);
    assert_eq!(codes_of(&with_attachment("application/zip", 10)), [codes::UNSUPPORTED_ATTACHMENT_TYPE]);
    let mut plain_http = with_attachment("image/png", 10);
    plain_http.attachments[0].url = "http://cdn.example.com/a".into();
    assert_eq!(codes_of(&plain_http), [codes::INVALID_ATTACHMENT_URL]);
    let mut many = with_attachment("image/png", 10);
    many.attachments = vec![many.attachments[0].clone(); 11];
    assert_eq!(codes_of(&many), [codes::TOO_MANY_ATTACHMENTS]);
    let plan = validate(&with_attachment("application/pdf", 10)).unwrap();
    assert!(matches!(&plan.messages[..], [PlannedMessage::Attachment(_)]));
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut r = with_attachment("image/gif", 9_000_000);
    r.text = Some("   ".into());
    r.attachments.push(OutgoingAttachment {
        url: "ftp://x".into(),
        mime_type: "image/png".into(),
        size_bytes: 1,
        ..Default::default()
    });
    r.now = LAST + 8 * DAY_MS;
    r.author = Author::Bot;
    assert_eq!(codes_of(&r), [codes::WINDOW_CLOSED, codes::UNSUPPORTED_IMAGE_TYPE, codes::INVALID_ATTACHMENT_URL]);
    let empty = Reply { text: Some(" \n ".into()), ..reply(Author::Agent, 0, false) };
    assert_eq!(codes_of(&empty), [codes::EMPTY_MESSAGE]);
}

fn graph_fixture(name: &str) -> GraphError {
    let path = format!("{}/../../../shared/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"));
    GraphError::parse(400, &std::fs::read(path).unwrap()).unwrap_or_else(|| panic!("{name} is not a Graph error"))
}

#[test]
fn graph_error_fixtures_are_sorted_by_code_and_subcode() {
    let cases = [
        ("error-window-closed.json", Retry::Never, "window-closed", false),
        ("error-token-expired.json", Retry::Reauthorize, "token-expired", true),
        ("error-password-changed.json", Retry::Reauthorize, "password-changed", true),
        ("error-rate-limit.json", Retry::Later, "rate-limited", false),
        ("error-rate-limit-app.json", Retry::Later, "rate-limited", false),
        ("error-user-unavailable.json", Retry::Never, "customer-unavailable", false),
        ("error-user-consent.json", Retry::Never, "consent-required", false),
        ("error-message-access-off.json", Retry::Reauthorize, "permission-missing", true),
    ];
    for (name, retry, code, breaks) in cases {
        let verdict = classify(&graph_fixture(name));
        assert_eq!((verdict.retry, verdict.code, verdict.breaks_link), (retry, code, breaks), "{name}");
    }
    let temporary = GraphError { code: 1200, subcode: None, is_transient: false, http_status: 400 };
    assert_eq!(classify(&temporary).retry, Retry::Now);
    let unknown_transient = GraphError { code: 9999, subcode: None, is_transient: true, http_status: 400 };
    assert_eq!(classify(&unknown_transient).retry, Retry::Later);
}

/// Text made of what breaks naive splitters: Hangul, emoji with ZWJ and skin tones, flags, combining marks, and
/// sometimes no spaces at all.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("안녕하세요".to_string()),
        Just("👨\u{200d}👩\u{200d}👧\u{200d}👦".to_string()),
        Just("🙏🏻".to_string()),
        Just("🏳\u{fe0f}\u{200d}🌈".to_string()),
        Just("🇰🇷".to_string()),
        Just("1\u{fe0f}\u{20e3}".to_string()),
        Just("e\u{301}\u{302}\u{303}".to_string()),
        Just(" ".to_string()),
        Just(". ".to_string()),
        Just("\n\n".to_string()),
        Just("Word".to_string()),
        "[a-z]{1,12}",
    ];
    (proptest::collection::vec(piece, 0..900), any::<bool>())
        .prop_map(|(pieces, spaced)| if spaced { pieces.concat() } else { pieces.concat().replace([' ', '\n'], "") })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn split_parts_fit_are_whole_graphemes_and_lose_nothing_visible(text in hostile_text()) {
        let parts = match split(&text) {
            Ok(parts) => parts,
            Err(e) => { prop_assert_eq!(e.code, codes::TEXT_TOO_LONG); return Ok(()); }
        };
        for part in &parts {
            prop_assert!(part.len() <= 1000, "{} bytes", part.len());
            prop_assert!(!part.is_empty());
            // Each part is a whole sequence of the text's graphemes: its graphemes are the text's, in order.
            let offset = text.find(part.as_str()).expect("every part is a slice of the text");
            prop_assert!(text.is_char_boundary(offset));
            let graphemes_before: usize = text[..offset].graphemes(true).count();
            let whole: Vec<&str> = text.graphemes(true).skip(graphemes_before).take(part.graphemes(true).count()).collect();
            prop_assert_eq!(whole.concat(), part.clone());
        }
        let visible = |s: &str| s.graphemes(true).filter(|g| !g.trim().is_empty()).collect::<Vec<_>>().concat();
        prop_assert_eq!(visible(&parts.concat()), visible(&text));
    }
}
