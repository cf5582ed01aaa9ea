//! The fuzzer's generators for the kinds beyond text and attachments: quick replies, cards, actions and media by
//! id (as replies, and as REQUEST JSON), and ice breaker and menu settings. Values sit around each limit: empty,
//! blank, at it, just over it, far over it, or random.

use super::inputs::{Rng, random_text, random_time};
use messenger_core::messenger_profile::{IceBreaker, LocalizedIceBreakers, LocalizedMenu, ProfileSetting};
use messenger_core::outbound::{
    Author, Button, Card, LinkButton, PostbackButton, QuickReply, ReactionRequest, Reply, SenderAction, ThreadAction,
    ThreadControl,
};
use serde_json::{Value, json};

const LAST_MESSAGE_AT: u64 = 1_794_474_843_512;

/// Text around a limit of `limit` characters; valid half of the time, so that whole inputs often pass.
fn around(rng: &mut Rng, limit: usize) -> String {
    match rng.below(12) {
        0 => String::new(),
        1 => " \n".into(),
        2 => "가".repeat(limit),
        3 => "x".repeat(limit + 1),
        4 => "👨\u{200d}👩\u{200d}👧".repeat(rng.below(limit / 5 + 2)),
        5 => random_text(rng),
        _ => "Track order".into(),
    }
}

fn maybe<T>(rng: &mut Rng, percent: u64, make: impl FnOnce(&mut Rng) -> T) -> Option<T> {
    rng.chance(percent).then(|| make(rng))
}

fn url(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => "http://shop.example.com/a".into(),
        1 => String::new(),
        2 => "https:// x".into(),
        3 => format!("https://shop.example.com/{}", "a".repeat(2_000)),
        _ => format!("https://shop.example.com/{}", rng.below(100)),
    }
}

fn button(rng: &mut Rng, title_limit: usize) -> Button {
    let title = around(rng, title_limit);
    match rng.chance(50) {
        true => Button::WebUrl(LinkButton { title, url: url(rng) }),
        false => Button::Postback(PostbackButton { title, payload: around(rng, 1_000) }),
    }
}

fn card(rng: &mut Rng) -> Card {
    Card {
        title: around(rng, 80),
        subtitle: maybe(rng, 60, |rng| around(rng, 80)),
        image_url: maybe(rng, 50, url),
        default_url: maybe(rng, 30, url),
        buttons: (0..rng.below(5)).map(|_| button(rng, 20)).collect(),
    }
}

fn sender_action(rng: &mut Rng) -> SenderAction {
    [SenderAction::TypingOn, SenderAction::TypingOff, SenderAction::MarkSeen][rng.below(3)]
}

fn reaction(rng: &mut Rng) -> ReactionRequest {
    let emoji = ["❤️", "👍🏻", "love", "ab", "", "🇰🇷🇰🇷", "👨\u{200d}👩\u{200d}👧"][rng.below(7)];
    ReactionRequest {
        message_id: ["aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE", "", "a b", &"m".repeat(600)][rng.below(4)].into(),
        emoji: rng.chance(80).then(|| emoji.to_owned()),
        remove: rng.chance(25),
    }
}

fn thread_control(rng: &mut Rng) -> ThreadControl {
    ThreadControl {
        action: [ThreadAction::Pass, ThreadAction::Take, ThreadAction::Request][rng.below(3)],
        target_app_id: maybe(rng, 50, |rng| ["1217981644879628", "app", ""][rng.below(3)].to_owned()),
        metadata: maybe(rng, 50, |rng| around(rng, 1_000)),
    }
}

/// A reply with quick replies, cards or one (or several) actions, mostly inside the window with good ids, so that
/// both outcomes are reached.
pub(super) fn reply(rng: &mut Rng) -> Reply {
    let age = [0, 86_400_000, 7 * 86_400_000, rng.below(8 * 86_400_000) as u64][rng.below(4)];
    Reply {
        account_id: if rng.chance(90) { "17841400000000001".into() } else { "x/y".into() },
        customer_id: "1098765432100001".into(),
        now: if rng.chance(90) { LAST_MESSAGE_AT + age } else { random_time(rng) },
        author: if rng.chance(50) { Author::Agent } else { Author::Bot },
        last_customer_message_at: LAST_MESSAGE_AT,
        human_agent_tag: rng.chance(50),
        text: maybe(rng, 60, |rng| around(rng, 1_000)),
        quick_replies: (0..[0, 1, 13, 14][rng.below(4)])
            .map(|_| QuickReply { title: around(rng, 20), payload: around(rng, 1_000) })
            .collect(),
        cards: (0..[0, 0, 1, 10, 11][rng.below(5)]).map(|_| card(rng)).collect(),
        sender_action: maybe(rng, 15, sender_action),
        reaction: maybe(rng, 15, reaction),
        thread_control: maybe(rng, 15, thread_control),
        ..Reply::default()
    }
}

/// REQUEST JSON with the new keys, well or badly typed: unknown kinds and actions, numbers for strings, stray keys.
pub(super) fn request_json(rng: &mut Rng) -> String {
    let odd = || [json!(1), json!(null), json!([]), json!({}), json!("é"), json!(true)];
    let pick = |rng: &mut Rng, good: Value| match rng.chance(75) {
        true => good,
        false => odd()[rng.below(6)].clone(),
    };
    let mut request = json!({"account-id": "17841400000000001", "customer-id": "1098765432100001",
        "now": "2026-11-12T10:00:00Z", "author": "agent", "last-customer-message-at": "2026-11-12T09:00:00Z"});
    let (action, button) =
        (["pass", "take", "request", "release"][rng.below(4)], ["web-url", "postback", "call"][rng.below(3)]);
    let choices = [
        ("sender-action", json!(["typing-on", "typing_off", "mark-seen", "seen"][rng.below(4)])),
        ("reaction", json!({"message-id": "m1", "emoji": "❤️", "remove": rng.chance(30)})),
        (
            "thread-control",
            json!({"action": action,
            "target-app-id": "263902037430900", "metadata": "from the bot"}),
        ),
        ("quick-replies", json!([{"title": "Track", "payload": "TRACK"}, {"title": "x", "payload": 1}])),
        (
            "cards",
            json!([{"title": "Coat", "buttons": [{"type": button,
            "title": "Go", "url": "https://x.example/a", "payload": "P"}]}]),
        ),
        (
            "attachments",
            json!([{"attachment-id": "123456", "mime-type": "image/png"}, {"url": "https://x/a.png",
            "mime-type": "image/png"}]),
        ),
        ("text", json!("Pick one")),
        ("stray", json!("unknown key")),
    ];
    for (key, good) in choices {
        if rng.chance(35) {
            request[key] = pick(rng, good);
        }
    }
    request.to_string()
}

/// Ice breakers or a menu, with locales good, bad, repeated or missing, and items around their limits.
pub(super) fn profile_setting(rng: &mut Rng) -> ProfileSetting {
    let first = if rng.chance(80) { "default" } else { "ko_KR" };
    let others = (0..rng.below(3)).map(|_| ["ko_KR", "en", "default", "zz_zz", ""][rng.below(5)]);
    let locales: Vec<String> = std::iter::once(first).chain(others).map(str::to_owned).collect();
    match rng.chance(50) {
        true => ProfileSetting::IceBreakers(
            locales
                .into_iter()
                .map(|locale| LocalizedIceBreakers {
                    locale,
                    questions: (0..[1, 1, 4, 5, 0][rng.below(5)])
                        .map(|_| IceBreaker { question: around(rng, 80), payload: around(rng, 1_000) })
                        .collect(),
                })
                .collect(),
        ),
        false => ProfileSetting::PersistentMenu(
            locales
                .into_iter()
                .map(|locale| LocalizedMenu {
                    locale,
                    items: (0..[1, 1, 3, 20, 21, 0][rng.below(6)]).map(|_| button(rng, 30)).collect(),
                })
                .collect(),
        ),
    }
}
