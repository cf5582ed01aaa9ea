//! The benchmark's inputs: signed deliveries of each kind, a long reply to split, and a reply of many cards.

use messenger_core::outbound::{Author, Button, Card, LinkButton, PostbackButton, Reply};
use serde_json::{Value, json};

/// The app secret the benchmark signs its deliveries with.
pub const SECRET: &str = "bench-app-secret";

/// A signed delivery of one kind, with message ids unique to `n` so every translation does the same fresh work.
pub fn payload(kind: &str, n: usize) -> (Vec<(String, String)>, Vec<u8>) {
    let item = |i: usize, text: &str| {
        json!({"sender": {"id": "1098765432100001"}, "recipient": {"id": "17841400000000001"}, "timestamp": 1_794_474_843_512u64 + i as u64,
            "message": {"mid": format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE-bench-{n}-{i}-ZDZD"), "text": text}})
    };
    if kind == "comment" {
        return signed(&comment(n));
    }
    let items: Vec<Value> = match kind {
        "batch" => (0..10).map(|i| item(i, "Do you ship to Busan? 부산도 배송되나요? 🙏")).collect(),
        "korean" => vec![item(0, &"주문한 코트 언제 배송되나요? 🙏🏻 ".repeat(24))],
        _ => vec![item(0, "Hi! Is the oversized wool coat still available in beige, size M?")],
    };
    let body = json!({"object": "instagram", "entry": [{"time": 1_794_474_843_903u64, "id": "17841400000000001", "messaging": items}]});
    signed(&body)
}

/// A comment on a post, its id unique to `n` (the `comments` webhook field, as Meta sends it).
fn comment(n: usize) -> Value {
    json!({"object": "instagram", "entry": [{"id": "17841400000000001", "time": 1_794_474_843u64, "changes": [{"field": "comments",
        "value": {"from": {"id": "1098765432100001", "username": "winter.buyer"}, "media": {"id": "18050310947722369",
        "media_product_type": "FEED"}, "id": format!("1786730127{n:07}"), "text": "How much is the blue coat? 🧥"}}]}]})
}

fn signed(body: &Value) -> (Vec<(String, String)>, Vec<u8>) {
    let body = serde_json::to_vec(body).expect("a payload serializes");
    (vec![("x-hub-signature-256".into(), messenger_core::signature::sign(SECRET.as_bytes(), &body))], body)
}

/// An agent's reply to validate, inside the window: a long text to split, or `cards` full cards.
pub(super) fn reply(text: Option<String>, cards: usize) -> Reply {
    let card = |n: usize| Card {
        title: format!("Oversized wool coat, beige {n} 🧥"),
        subtitle: Some("울 코트 · size M · ₩189,000".into()),
        image_url: Some(format!("https://cdn.example.com/coats/{n}.png")),
        default_url: Some(format!("https://shop.example.com/coats/{n}")),
        buttons: vec![
            Button::WebUrl(LinkButton { title: "View".into(), url: format!("https://shop.example.com/coats/{n}") }),
            Button::Postback(PostbackButton { title: "Reserve".into(), payload: format!("RESERVE_{n}") }),
            Button::Postback(PostbackButton { title: "Ask an agent".into(), payload: "AGENT".into() }),
        ],
    };
    Reply {
        account_id: "17841400000000001".into(),
        customer_id: "1098765432100001".into(),
        now: 1_794_477_600_000,
        author: Author::Agent,
        last_customer_message_at: 1_794_477_000_000,
        human_agent_tag: true,
        text,
        cards: (0..cards).map(card).collect(),
        ..Reply::default()
    }
}

pub(super) fn split_text() -> String {
    "안녕하세요 고객님! 주문하신 코트는 내일 출고됩니다. 🙏🏻 배송 조회는 프로필 링크에서 가능해요. 👨‍👩‍👧‍👦 Thanks for waiting!\n\n".repeat(20)
}
