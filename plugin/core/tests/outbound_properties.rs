//! Properties of the validator over generated replies of every kind, each part drawn valid or with a known broken
//! rule: a reply it accepts becomes Graph bodies within every limit Meta sets (checked on the bodies themselves);
//! a reply it refuses is refused with the code of each rule that was broken.

use messenger_core::outbound::limits::*;
use messenger_core::outbound::{
    Author, Button, Card, LinkButton, OutgoingAttachment, PostbackButton, QuickReply, ReactionRequest, Reply,
    SenderAction, ThreadAction, ThreadControl, codes, graph_call, validate,
};
use messenger_core::time::{DAY_MS, HOUR_MS};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeSet;

const LAST: u64 = 1_794_474_843_512;

/// A value, and the codes of the rules it breaks (none when valid).
type Drawn<T> = (T, Vec<&'static str>);

/// Mostly none or a few; now and then exactly `max`, or one over it.
fn some_of<S: Strategy>(item: impl Fn() -> S, max: usize) -> impl Strategy<Value = Vec<S::Value>> {
    prop_oneof![
        12 => proptest::collection::vec(item(), 0..=2),
        2 => proptest::collection::vec(item(), max..=max),
        1 => proptest::collection::vec(item(), max + 1..=max + 1),
    ]
}

/// A label around its limit: valid (ASCII, Hangul at the limit, emoji), empty, blank, or one over.
fn label(max: usize, missing: &'static str, too_long: &'static str) -> impl Strategy<Value = Drawn<String>> {
    prop_oneof![
        30 => "[A-Za-z][A-Za-z ]{0,8}".prop_map(|s| (s, vec![])),
        5 => Just(("가".repeat(max), vec![])),
        5 => (1..=max).prop_map(|n| ("👍".repeat(n), vec![])),
        1 => Just((String::new(), vec![missing])),
        1 => Just((" \n".to_owned(), vec![missing])),
        1 => Just(("x".repeat(max + 1), vec![too_long])),
    ]
}

fn payload() -> impl Strategy<Value = Drawn<String>> {
    label(MAX_PAYLOAD_CHARS, codes::MISSING_PAYLOAD, codes::PAYLOAD_TOO_LONG)
}

fn url() -> impl Strategy<Value = Drawn<String>> {
    prop_oneof![
        40 => "[a-z]{1,8}".prop_map(|path| (format!("https://shop.example.com/{path}"), vec![])),
        1 => Just(("http://shop.example.com/".to_owned(), vec![codes::INVALID_URL])),
        1 => Just(("https://shop.example.com/a b".to_owned(), vec![codes::INVALID_URL])),
        1 => Just((format!("https://x.example/{}", "a".repeat(MAX_URL_BYTES)), vec![codes::INVALID_URL])),
    ]
}

fn button() -> impl Strategy<Value = Drawn<Button>> {
    let title = label(MAX_BUTTON_TITLE_CHARS, codes::MISSING_TITLE, codes::BUTTON_TITLE_TOO_LONG);
    (title, any::<bool>(), url(), payload()).prop_map(
        |((title, mut broken), is_link, (url, bad_url), (payload, bad_payload))| {
            let button = match is_link {
                true => Button::WebUrl(LinkButton { title, url }),
                false => Button::Postback(PostbackButton { title, payload }),
            };
            broken.extend(if is_link { bad_url } else { bad_payload });
            (button, broken)
        },
    )
}

fn card() -> impl Strategy<Value = Drawn<Card>> {
    let title = label(MAX_CARD_TITLE_CHARS, codes::MISSING_TITLE, codes::CARD_TITLE_TOO_LONG);
    let subtitle = prop_oneof![
        4 => Just((None, vec![])),
        15 => "[A-Za-z]{1,20}".prop_map(|s| (Some(s), vec![])),
        1 => Just((Some("s".repeat(MAX_CARD_SUBTITLE_CHARS + 1)), vec![codes::CARD_SUBTITLE_TOO_LONG])),
    ];
    let optional_url = prop_oneof![Just((None, vec![])), url().prop_map(|(u, b)| (Some(u), b))];
    let buttons = some_of(button, MAX_CARD_BUTTONS);
    (title, subtitle, optional_url.clone(), optional_url, buttons).prop_map(
        |((title, mut broken), (subtitle, b1), (image_url, b2), (default_url, b3), buttons)| {
            broken.extend(b1.into_iter().chain(b2).chain(b3));
            if subtitle.is_none() && image_url.is_none() && default_url.is_none() && buttons.is_empty() {
                broken.push(codes::CARD_NEEDS_CONTENT);
            }
            if buttons.len() > MAX_CARD_BUTTONS {
                broken.push(codes::TOO_MANY_BUTTONS);
            }
            let (buttons, button_codes): (Vec<_>, Vec<_>) = buttons.into_iter().unzip();
            broken.extend(button_codes.into_iter().flatten());
            (Card { title, subtitle, image_url, default_url, buttons }, broken)
        },
    )
}

fn quick_reply() -> impl Strategy<Value = Drawn<QuickReply>> {
    let title = label(MAX_QUICK_REPLY_TITLE_CHARS, codes::MISSING_TITLE, codes::QUICK_REPLY_TITLE_TOO_LONG);
    (title, payload()).prop_map(|((title, mut broken), (payload, more))| {
        broken.extend(more);
        (QuickReply { title, payload }, broken)
    })
}

fn attachment() -> impl Strategy<Value = Drawn<OutgoingAttachment>> {
    let by_link = |mime: &str, size| OutgoingAttachment {
        url: "https://cdn.example.com/a".into(),
        mime_type: mime.into(),
        size_bytes: size,
        attachment_id: None,
    };
    let by_id = |id: &str| OutgoingAttachment {
        mime_type: "video/mp4".into(),
        attachment_id: Some(id.into()),
        ..OutgoingAttachment::default()
    };
    prop_oneof![
        8 => Just((by_link("image/png", 1_000), vec![])),
        8 => Just((by_id("1234567890"), vec![])),
        1 => Just((by_link("image/gif", 10), vec![codes::UNSUPPORTED_IMAGE_TYPE])),
        1 => Just((by_id("12 34"), vec![codes::INVALID_ATTACHMENT_ID])),
        1 => Just((OutgoingAttachment { url: "https://x/a".into(), ..by_id("1") }, vec![codes::CONFLICTING_ATTACHMENT_SOURCE])),
    ]
}

/// At most one action usually, sometimes two (which breaks `action-not-alone`).
fn actions() -> impl Strategy<Value = Drawn<(Option<SenderAction>, Option<ReactionRequest>, Option<ThreadControl>)>> {
    let sender = prop_oneof![Just(SenderAction::TypingOn), Just(SenderAction::TypingOff), Just(SenderAction::MarkSeen)];
    let reaction = prop_oneof![
        3 => Just((ReactionRequest { message_id: "mid.1".into(), emoji: Some("❤️".into()), remove: false }, vec![])),
        3 => Just((ReactionRequest { message_id: "mid.1".into(), emoji: None, remove: true }, vec![])),
        1 => Just((ReactionRequest { message_id: "mid.1".into(), emoji: Some("ab".into()), remove: false }, vec![codes::INVALID_REACTION])),
        1 => Just((ReactionRequest { message_id: " ".into(), emoji: None, remove: true }, vec![codes::INVALID_MESSAGE_ID])),
    ];
    let control = prop_oneof![
        3 => Just((ThreadControl { action: ThreadAction::Pass, target_app_id: Some("263902037430900".into()), metadata: None }, vec![])),
        3 => Just((ThreadControl { action: ThreadAction::Take, target_app_id: None, metadata: Some("bot done".into()) }, vec![])),
        1 => Just((ThreadControl { action: ThreadAction::Request, target_app_id: Some("1".into()), metadata: None }, vec![codes::UNEXPECTED_TARGET_APP])),
    ];
    (
        proptest::option::weighted(0.15, sender),
        proptest::option::weighted(0.1, reaction),
        proptest::option::weighted(0.1, control),
    )
        .prop_map(|(sender, reaction, control)| {
            let mut broken: Vec<&'static str> = Vec::new();
            let count =
                usize::from(sender.is_some()) + usize::from(reaction.is_some()) + usize::from(control.is_some());
            if count > 1 {
                broken.push(codes::ACTION_NOT_ALONE);
            }
            let reaction = reaction.map(|(r, b)| {
                broken.extend(b);
                r
            });
            let control = control.map(|(c, b)| {
                broken.extend(b);
                c
            });
            ((sender, reaction, control), broken)
        })
}

fn reply() -> impl Strategy<Value = Drawn<Reply>> {
    let text = prop_oneof![
        2 => Just(None),
        4 => Just(Some("Pick one".to_owned())),
        1 => Just(Some(" ".to_owned())),
        2 => Just(Some(format!("{}\n\n{}", "a".repeat(990), "b".repeat(990)))),
    ];
    let age = prop_oneof![6 => Just(0), 2 => Just(23 * HOUR_MS), 2 => Just(25 * HOUR_MS), 1 => Just(8 * DAY_MS)];
    (
        (text, age, any::<bool>(), any::<bool>(), proptest::bool::weighted(0.7)),
        proptest::collection::vec(attachment(), 0..3),
        some_of(quick_reply, MAX_QUICK_REPLIES),
        some_of(card, MAX_CARDS),
        actions(),
    )
        .prop_map(
            |(
                (text, age, bot, tag, alone),
                attachments,
                quick_replies,
                cards,
                ((sender, reaction, control), mut broken),
            )| {
                // Most actions go alone, as they should; the others meet every kind of content.
                let asks_action = sender.is_some() || reaction.is_some() || control.is_some();
                let (text, attachments, quick_replies, cards) = match asks_action && alone {
                    true => (None, vec![], vec![], vec![]),
                    false => (text, attachments, quick_replies, cards),
                };
                let has_text = text.as_deref().is_some_and(|t| !t.trim().is_empty());
                let author = if bot { Author::Bot } else { Author::Agent };
                let window_open = match asks_action {
                    true => age < ACTION_WINDOW_MS,
                    false => age < DAY_MS || (author == Author::Agent && tag && age < 7 * DAY_MS),
                };
                if !window_open {
                    broken.push(codes::WINDOW_CLOSED);
                }
                if asks_action
                    && (has_text || !attachments.is_empty() || !quick_replies.is_empty() || !cards.is_empty())
                {
                    broken.push(codes::ACTION_NOT_ALONE);
                }
                if !asks_action && !has_text && attachments.is_empty() && cards.is_empty() {
                    broken.push(codes::EMPTY_MESSAGE);
                }
                if !quick_replies.is_empty() && !has_text {
                    broken.push(codes::QUICK_REPLIES_NEED_TEXT);
                }
                if quick_replies.len() > MAX_QUICK_REPLIES {
                    broken.push(codes::TOO_MANY_QUICK_REPLIES);
                }
                if cards.len() > MAX_CARDS {
                    broken.push(codes::TOO_MANY_CARDS);
                }
                let (attachments, a): (Vec<_>, Vec<_>) = attachments.into_iter().unzip();
                let (quick_replies, q): (Vec<_>, Vec<_>) = quick_replies.into_iter().unzip();
                let (cards, c): (Vec<_>, Vec<_>) = cards.into_iter().unzip();
                broken.extend(a.into_iter().chain(q).chain(c).flatten());
                let reply = Reply {
                    account_id: "17841400000000001".into(),
                    customer_id: "1098765432100001".into(),
                    now: LAST + age,
                    author,
                    last_customer_message_at: LAST,
                    human_agent_tag: tag,
                    text,
                    attachments,
                    quick_replies,
                    cards,
                    sender_action: sender,
                    reaction,
                    thread_control: control,
                    comment_id: None,
                    public_reply: false,
                };
                (reply, broken)
            },
        )
}

/// Every limit Meta sets, checked on a Graph body as it would be sent.
fn assert_within_limits(path: &str, body: &Value) {
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let filled = |v: &Value, max: usize| v.as_str().is_some_and(|s| !s.trim().is_empty() && s.chars().count() <= max);
    assert!(body.to_string().len() < 1 << 20, "under the host's request cap");
    assert!(body["recipient"]["id"].is_string());
    if path != "/me/messages" {
        assert!(chars(&body["metadata"]) <= MAX_HANDOVER_METADATA_CHARS);
        return;
    }
    if let Some(action) = body.get("sender_action") {
        assert!(["typing_on", "typing_off", "mark_seen", "react", "unreact"].contains(&action.as_str().unwrap()));
        assert!(body.get("message").is_none(), "an action goes alone");
        return;
    }
    let message = &body["message"];
    if let Some(text) = message.get("text") {
        assert!(text.as_str().unwrap().len() <= 1000, "text within 1000 bytes");
    }
    if let Some(quick_replies) = message.get("quick_replies").and_then(Value::as_array) {
        assert!(quick_replies.len() <= MAX_QUICK_REPLIES && message.get("text").is_some());
        for q in quick_replies {
            assert!(q["content_type"] == "text" && filled(&q["title"], MAX_QUICK_REPLY_TITLE_CHARS));
            assert!(filled(&q["payload"], MAX_PAYLOAD_CHARS));
        }
    }
    let payload = &message["attachment"]["payload"];
    if let Some(elements) = payload.get("elements").and_then(Value::as_array) {
        assert!(!elements.is_empty() && elements.len() <= MAX_CARDS && payload["template_type"] == "generic");
        for element in elements {
            assert!(filled(&element["title"], MAX_CARD_TITLE_CHARS));
            assert!(element.get("subtitle").is_none_or(|s| filled(s, MAX_CARD_SUBTITLE_CHARS)));
            let extra = ["subtitle", "image_url", "default_action", "buttons"];
            assert!(extra.iter().any(|k| element.get(k).is_some()), "a title and at least one more property");
            let buttons = element.get("buttons").and_then(Value::as_array).cloned().unwrap_or_default();
            assert!(buttons.len() <= MAX_CARD_BUTTONS);
            for button in buttons {
                assert!(filled(&button["title"], MAX_BUTTON_TITLE_CHARS));
                match button["type"].as_str().unwrap() {
                    "web_url" => assert!(button["url"].as_str().unwrap().starts_with("https://")),
                    "postback" => assert!(filled(&button["payload"], MAX_PAYLOAD_CHARS)),
                    other => panic!("Instagram has no {other} button"),
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn accepted_replies_make_bodies_within_every_limit_and_refusals_name_each_broken_rule((reply, broken) in reply()) {
        match validate(&reply) {
            Ok(plan) => {
                prop_assert!(broken.is_empty(), "accepted, though it breaks {broken:?}");
                prop_assert!(!plan.messages.is_empty());
                for message in &plan.messages {
                    let call = graph_call(&plan, message);
                    assert_within_limits(&call.path, &serde_json::from_slice(&call.body).unwrap());
                }
            }
            Err(errors) => {
                let named: BTreeSet<&str> = errors.iter().map(|e| e.code.as_str()).collect();
                let expected: BTreeSet<&str> = broken.iter().copied().collect();
                prop_assert!(!expected.is_empty(), "refused with {named:?}, though it breaks no rule");
                prop_assert_eq!(named, expected);
            }
        }
    }
}
