//! The kinds beyond text and attachments, natively: quick replies, cards, media by id, sender actions, reactions
//! and thread control; each rule at its limit, every problem at once, the plan's order, and the actions' window.

use messenger_core::outbound::limits::*;
use messenger_core::outbound::{
    Author, Button, Card, LinkButton, MediaType, OutgoingAttachment, PlannedMessage, PostbackButton, QuickReply,
    ReactionRequest, Reply, ReusedAttachment, SenderAction, ThreadAction, ThreadControl, codes, validate,
};
use messenger_core::time::DAY_MS;

const LAST: u64 = 1_794_474_843_512;

fn base() -> Reply {
    Reply {
        account_id: "17841400000000001".into(),
        customer_id: "1098765432100001".into(),
        now: LAST + 60_000,
        last_customer_message_at: LAST,
        ..Reply::default()
    }
}

fn codes_of(reply: &Reply) -> Vec<String> {
    validate(reply).err().unwrap_or_default().into_iter().map(|e| e.code).collect()
}

fn quick(title: &str) -> QuickReply {
    QuickReply { title: title.into(), payload: "P".into() }
}

fn card(title: &str) -> Card {
    Card { title: title.into(), subtitle: Some("Wool, size M".into()), ..Card::default() }
}

fn link(title: &str, url: &str) -> Button {
    Button::WebUrl(LinkButton { title: title.into(), url: url.into() })
}

fn postback(title: &str, payload: &str) -> Button {
    Button::Postback(PostbackButton { title: title.into(), payload: payload.into() })
}

#[test]
fn quick_replies_ride_on_the_last_text_part_which_goes_last() {
    let text = format!("{}\n\n{}", "a".repeat(995), "Pick one");
    let image = OutgoingAttachment {
        url: "https://cdn.example.com/a.png".into(),
        mime_type: "image/png".into(),
        size_bytes: 1,
        ..Default::default()
    };
    let reply = Reply {
        text: Some(text),
        attachments: vec![image],
        cards: vec![card("Coat")],
        quick_replies: vec![quick("Track"), quick("Agent")],
        ..base()
    };
    let plan = validate(&reply).unwrap();
    let kinds: Vec<&str> = plan
        .messages
        .iter()
        .map(|m| match m {
            PlannedMessage::Attachment(_) => "attachment",
            PlannedMessage::Cards(_) => "cards",
            PlannedMessage::Text(_) => "text",
            PlannedMessage::TextWithQuickReplies(t) if t.text == "Pick one" && t.quick_replies.len() == 2 => "last",
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["attachment", "cards", "text", "last"],
        "Instagram shows quick replies under the newest message"
    );
    let without = validate(&Reply { quick_replies: vec![], ..reply }).unwrap();
    assert!(matches!(
        &without.messages[..],
        [PlannedMessage::Text(_), PlannedMessage::Text(_), PlannedMessage::Attachment(_), PlannedMessage::Cards(_)]
    ));
}

#[test]
fn quick_replies_at_and_over_their_limits() {
    let many = |n: usize| Reply { text: Some("Pick".into()), quick_replies: vec![quick("ok"); n], ..base() };
    assert!(codes_of(&many(MAX_QUICK_REPLIES)).is_empty());
    assert_eq!(codes_of(&many(MAX_QUICK_REPLIES + 1)), [codes::TOO_MANY_QUICK_REPLIES]);
    let titled = |title: &str| Reply { text: Some("Pick".into()), quick_replies: vec![quick(title)], ..base() };
    assert!(codes_of(&titled(&"가".repeat(MAX_QUICK_REPLY_TITLE_CHARS))).is_empty(), "characters, not bytes");
    assert_eq!(codes_of(&titled(&"a".repeat(MAX_QUICK_REPLY_TITLE_CHARS + 1))), [codes::QUICK_REPLY_TITLE_TOO_LONG]);
    assert_eq!(codes_of(&titled(" ")), [codes::MISSING_TITLE]);
    let payload = |p: String| Reply {
        text: Some("Pick".into()),
        quick_replies: vec![QuickReply { title: "ok".into(), payload: p }],
        ..base()
    };
    assert!(codes_of(&payload("p".repeat(MAX_PAYLOAD_CHARS))).is_empty());
    assert_eq!(codes_of(&payload("p".repeat(MAX_PAYLOAD_CHARS + 1))), [codes::PAYLOAD_TOO_LONG]);
    assert_eq!(codes_of(&payload(String::new())), [codes::MISSING_PAYLOAD]);
    let alone = Reply { quick_replies: vec![quick("ok")], cards: vec![card("Coat")], ..base() };
    assert_eq!(codes_of(&alone), [codes::QUICK_REPLIES_NEED_TEXT], "text only: never under a card alone");
}

#[test]
fn cards_at_and_over_their_limits() {
    let with = |cards: Vec<Card>| Reply { cards, ..base() };
    assert!(codes_of(&with(vec![card("Coat"); MAX_CARDS])).is_empty());
    assert_eq!(codes_of(&with(vec![card("Coat"); MAX_CARDS + 1])), [codes::TOO_MANY_CARDS]);
    assert!(codes_of(&with(vec![card(&"t".repeat(MAX_CARD_TITLE_CHARS))])).is_empty());
    assert_eq!(codes_of(&with(vec![card(&"t".repeat(MAX_CARD_TITLE_CHARS + 1))])), [codes::CARD_TITLE_TOO_LONG]);
    let subtitle = Card { subtitle: Some("s".repeat(MAX_CARD_SUBTITLE_CHARS + 1)), ..card("Coat") };
    assert_eq!(codes_of(&with(vec![subtitle])), [codes::CARD_SUBTITLE_TOO_LONG]);
    let bare = Card { subtitle: Some("  ".into()), ..card("Coat") };
    assert_eq!(codes_of(&with(vec![bare])), [codes::CARD_NEEDS_CONTENT], "a blank subtitle is no content");
    let image_only = Card { subtitle: None, image_url: Some("https://cdn.example.com/c.png".into()), ..card("Coat") };
    assert!(codes_of(&with(vec![image_only])).is_empty());
    let buttons = |n: usize| Card { buttons: vec![postback("Reserve", "R"); n], ..card("Coat") };
    assert!(codes_of(&with(vec![buttons(MAX_CARD_BUTTONS)])).is_empty());
    assert_eq!(codes_of(&with(vec![buttons(MAX_CARD_BUTTONS + 1)])), [codes::TOO_MANY_BUTTONS]);
    let long_button =
        Card { buttons: vec![link(&"b".repeat(MAX_BUTTON_TITLE_CHARS + 1), "https://x.example/")], ..card("Coat") };
    assert_eq!(codes_of(&with(vec![long_button])), [codes::BUTTON_TITLE_TOO_LONG]);
    for bad in [
        "http://x.example/",
        "https://",
        "https://x.example/a b",
        &format!("https://x.example/{}", "a".repeat(MAX_URL_BYTES)),
    ] {
        let card = Card { buttons: vec![link("Shop", bad)], ..card("Coat") };
        assert_eq!(codes_of(&with(vec![card])), [codes::INVALID_URL], "{bad}");
    }
}

#[test]
fn every_broken_rule_of_a_carousel_is_named_at_once() {
    let broken = Card {
        title: String::new(),
        subtitle: None,
        image_url: Some("ftp://x".into()),
        default_url: None,
        buttons: vec![postback("", ""), link("ok", "http://x"), postback("ok", "P"), postback("ok", "P")],
    };
    let reply = Reply { author: Author::Bot, now: LAST + 2 * DAY_MS, cards: vec![broken], ..base() };
    assert_eq!(
        codes_of(&reply),
        [
            codes::WINDOW_CLOSED,
            codes::MISSING_TITLE,
            codes::INVALID_URL,
            codes::TOO_MANY_BUTTONS,
            codes::MISSING_PAYLOAD,
            codes::MISSING_TITLE,
            codes::INVALID_URL,
        ],
        "a bot's card follows the bot's window, and each problem is named"
    );
}

#[test]
fn media_by_id_is_planned_by_its_id_and_typed_by_its_mime() {
    let reused = OutgoingAttachment {
        mime_type: "video/mp4".into(),
        attachment_id: Some("1234567890".into()),
        ..Default::default()
    };
    let plan = validate(&Reply { attachments: vec![reused.clone()], ..base() }).unwrap();
    assert_eq!(
        plan.messages,
        [PlannedMessage::ReusedAttachment(ReusedAttachment {
            kind: MediaType::Video,
            attachment_id: "1234567890".into()
        })]
    );
    let both = OutgoingAttachment { url: "https://cdn.example.com/a.mp4".into(), ..reused.clone() };
    assert_eq!(codes_of(&Reply { attachments: vec![both], ..base() }), [codes::CONFLICTING_ATTACHMENT_SOURCE]);
    let bad_id = OutgoingAttachment { attachment_id: Some("12 34".into()), ..reused.clone() };
    assert_eq!(codes_of(&Reply { attachments: vec![bad_id], ..base() }), [codes::INVALID_ATTACHMENT_ID]);
    let gif = OutgoingAttachment { mime_type: "image/gif".into(), ..reused };
    assert_eq!(codes_of(&Reply { attachments: vec![gif], ..base() }), [codes::UNSUPPORTED_IMAGE_TYPE]);
}

#[test]
fn an_action_goes_alone_untagged_for_agents_and_bots_alike_within_7_days() {
    for author in [Author::Agent, Author::Bot] {
        for action in [SenderAction::TypingOn, SenderAction::TypingOff, SenderAction::MarkSeen] {
            let late = Reply { author, now: LAST + 3 * DAY_MS, sender_action: Some(action), ..base() };
            let plan = validate(&late).unwrap();
            assert_eq!((plan.messages, plan.tag), (vec![PlannedMessage::SenderAction(action)], None));
            assert_eq!(plan.window_closes_at, LAST + ACTION_WINDOW_MS);
        }
        let too_late =
            Reply { author, now: LAST + ACTION_WINDOW_MS, sender_action: Some(SenderAction::MarkSeen), ..base() };
        assert_eq!(codes_of(&too_late), [codes::WINDOW_CLOSED]);
    }
    let with_text = Reply { text: Some("hi".into()), sender_action: Some(SenderAction::TypingOn), ..base() };
    assert_eq!(codes_of(&with_text), [codes::ACTION_NOT_ALONE]);
    let two = Reply {
        sender_action: Some(SenderAction::TypingOn),
        thread_control: Some(ThreadControl { action: ThreadAction::Take, target_app_id: None, metadata: None }),
        ..base()
    };
    assert_eq!(codes_of(&two), [codes::ACTION_NOT_ALONE]);
    let blank_text = Reply { text: Some(" ".into()), sender_action: Some(SenderAction::MarkSeen), ..base() };
    assert!(codes_of(&blank_text).is_empty(), "a blank text is no text");
}

#[test]
fn reactions_name_a_message_and_one_emoji_or_remove_it() {
    let react = |message_id: &str, emoji: Option<&str>, remove: bool| Reply {
        reaction: Some(ReactionRequest { message_id: message_id.into(), emoji: emoji.map(Into::into), remove }),
        ..base()
    };
    for emoji in ["❤️", "👍🏻", "👨\u{200d}👩\u{200d}👧", "🇰🇷", "love"] {
        assert!(codes_of(&react("mid.1", Some(emoji), false)).is_empty(), "{emoji}");
    }
    assert!(codes_of(&react("mid.1", None, true)).is_empty());
    for (emoji, remove) in
        [(Some("❤️❤️"), false), (Some("a"), false), (Some(""), false), (None, false), (Some("❤️"), true)]
    {
        assert_eq!(codes_of(&react("mid.1", emoji, remove)), [codes::INVALID_REACTION], "{emoji:?} {remove}");
    }
    for id in ["", "a b", &"m".repeat(MAX_MESSAGE_ID_BYTES + 1)] {
        assert_eq!(codes_of(&react(id, Some("❤️"), false)), [codes::INVALID_MESSAGE_ID]);
    }
}

#[test]
fn thread_control_names_a_target_only_when_passing() {
    let control = |action, target: Option<&str>, metadata: Option<String>| Reply {
        thread_control: Some(ThreadControl { action, target_app_id: target.map(Into::into), metadata }),
        ..base()
    };
    assert!(codes_of(&control(ThreadAction::Pass, Some("1217981644879628"), None)).is_empty());
    assert!(codes_of(&control(ThreadAction::Pass, None, Some("m".repeat(MAX_HANDOVER_METADATA_CHARS)))).is_empty());
    assert_eq!(codes_of(&control(ThreadAction::Pass, Some("inbox"), None)), [codes::INVALID_APP_ID]);
    assert_eq!(codes_of(&control(ThreadAction::Take, Some("1217981644879628"), None)), [codes::UNEXPECTED_TARGET_APP]);
    assert_eq!(
        codes_of(&control(ThreadAction::Request, None, Some("m".repeat(MAX_HANDOVER_METADATA_CHARS + 1)))),
        [codes::METADATA_TOO_LONG]
    );
}
