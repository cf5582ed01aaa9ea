//! The Graph request of each planned message: which edge, and the exact JSON body Meta documents for it.

use super::{Button, Card, MessageTag, PlannedMessage, SendPlan};
use serde_json::{Value, json};

/// One Graph request: the edge under the account's base URL (`/me/...`) and its JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphCall {
    pub path: String,
    pub body: Value,
}

/// The request that sends `message` of `plan`.
pub fn graph_call(plan: &SendPlan, message: &PlannedMessage) -> GraphCall {
    let recipient = json!({"id": plan.customer_id});
    let send = |body: Value| GraphCall { path: "/me/messages".into(), body };
    let content = match message {
        PlannedMessage::SenderAction(action) => {
            return send(json!({"recipient": recipient, "sender_action": action.graph_name()}));
        }
        PlannedMessage::Reaction(reaction) => {
            let body = match (&reaction.emoji, reaction.remove) {
                (Some(emoji), false) => json!({"recipient": recipient, "sender_action": "react",
                    "payload": {"message_id": reaction.message_id, "reaction": emoji}}),
                _ => json!({"recipient": recipient, "sender_action": "unreact",
                    "payload": {"message_id": reaction.message_id}}),
            };
            return send(body);
        }
        PlannedMessage::ThreadControl(control) => {
            let mut body = json!({"recipient": recipient});
            if let Some(app) = &control.target_app_id {
                body["target_app_id"] = json!(app);
            }
            if let Some(metadata) = &control.metadata {
                body["metadata"] = json!(metadata);
            }
            return GraphCall { path: format!("/me/{}", control.action.graph_edge()), body };
        }
        PlannedMessage::Text(text) => json!({"text": text}),
        PlannedMessage::TextWithQuickReplies(with) => {
            let quick_replies: Vec<Value> = with
                .quick_replies
                .iter()
                .map(|q| json!({"content_type": "text", "title": q.title, "payload": q.payload}))
                .collect();
            json!({"text": with.text, "quick_replies": quick_replies})
        }
        // Meta keeps the media and answers its `attachment_id`, so it can be sent again without a download.
        PlannedMessage::Attachment(attachment) => json!({"attachment": {"type": attachment.kind.as_str(),
            "payload": {"url": attachment.url, "is_reusable": true}}}),
        PlannedMessage::ReusedAttachment(reused) => json!({"attachment": {"type": reused.kind.as_str(),
            "payload": {"attachment_id": reused.attachment_id}}}),
        PlannedMessage::Cards(cards) => json!({"attachment": {"type": "template",
            "payload": {"template_type": "generic", "elements": cards.iter().map(element).collect::<Vec<_>>()}}}),
    };
    let mut body = json!({"recipient": recipient, "message": content});
    match plan.tag {
        Some(MessageTag::HumanAgent) => {
            body["messaging_type"] = json!("MESSAGE_TAG");
            body["tag"] = json!("HUMAN_AGENT");
        }
        None => body["messaging_type"] = json!("RESPONSE"),
    }
    send(body)
}

/// A card as a generic template element; absent properties are left out.
fn element(card: &Card) -> Value {
    let mut element = json!({"title": card.title});
    if let Some(subtitle) = &card.subtitle {
        element["subtitle"] = json!(subtitle);
    }
    if let Some(image) = &card.image_url {
        element["image_url"] = json!(image);
    }
    if let Some(url) = &card.default_url {
        element["default_action"] = json!({"type": "web_url", "url": url});
    }
    if !card.buttons.is_empty() {
        element["buttons"] = card.buttons.iter().map(button).collect();
    }
    element
}

/// A button as Graph writes it: `web_url` or `postback`. The persistent menu's items are the same.
pub(crate) fn button(button: &Button) -> Value {
    match button {
        Button::WebUrl(link) => json!({"type": "web_url", "url": link.url, "title": link.title}),
        Button::Postback(postback) => json!({"type": "postback", "title": postback.title, "payload": postback.payload}),
    }
}
