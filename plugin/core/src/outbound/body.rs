//! The Graph request of each planned message: which edge, and the exact JSON body Meta documents for it. The
//! bodies are types in Meta's names, serialized straight to bytes (smaller in the component than JSON values).

use super::{Button, Card, MessageTag, PlannedMessage, QuickReply, SendPlan};
use serde::Serialize;

/// One Graph request: the edge under the account's base URL (`/me/...`) and its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphCall {
    pub path: String,
    pub body: Vec<u8>,
}

/// The request that sends `message` of `plan`.
pub fn graph_call(plan: &SendPlan, message: &PlannedMessage) -> GraphCall {
    let mut body = Body { recipient: Recipient { id: &plan.customer_id, comment_id: None }, ..Body::default() };
    let mut path = "/me/messages".to_owned();
    let attachment = |kind, payload| Content { attachment: Some(Attachment { kind, payload }), ..Content::default() };
    match message {
        PlannedMessage::SenderAction(action) => body.sender_action = Some(action.graph_name()),
        PlannedMessage::Reaction(reaction) => {
            let emoji = reaction.emoji.as_deref().filter(|_| !reaction.remove);
            body.sender_action = Some(if emoji.is_some() { "react" } else { "unreact" });
            body.payload = Some(ReactionPayload { message_id: &reaction.message_id, reaction: emoji });
        }
        PlannedMessage::ThreadControl(control) => {
            path = format!("/me/{}", control.action.graph_edge());
            body.target_app_id = control.target_app_id.as_deref();
            body.metadata = control.metadata.as_deref();
        }
        PlannedMessage::Text(text) => body.message = Some(Content { text: Some(text), ..Content::default() }),
        // A public reply is a comment under the comment: `{"message": text}` to its replies edge.
        PlannedMessage::CommentReply(reply) if reply.public => {
            let body = serde_json::to_vec(&PublicReply { message: &reply.text }).expect("a Graph body serializes");
            return GraphCall { path: format!("/{}/replies", reply.comment_id), body };
        }
        // A private reply is addressed to the comment, not the person; Meta documents text only and no tag.
        PlannedMessage::CommentReply(reply) => {
            body.recipient = Recipient { id: "", comment_id: Some(&reply.comment_id) };
            let text = Content { text: Some(&reply.text), ..Content::default() };
            return GraphCall {
                path,
                body: serde_json::to_vec(&Body { message: Some(text), ..body }).expect("a Graph body serializes"),
            };
        }
        PlannedMessage::TextWithQuickReplies(with) => {
            body.message = Some(Content {
                text: Some(&with.text),
                quick_replies: with.quick_replies.iter().map(GraphQuickReply::from).collect(),
                ..Content::default()
            })
        }
        // Meta keeps the media and answers its `attachment_id`, so it can be sent again without a download.
        PlannedMessage::Attachment(link) => {
            let payload = AttachmentPayload { url: Some(&link.url), is_reusable: Some(true), ..Default::default() };
            body.message = Some(attachment(link.kind.as_str(), payload));
        }
        PlannedMessage::ReusedAttachment(reused) => {
            let payload = AttachmentPayload { attachment_id: Some(&reused.attachment_id), ..Default::default() };
            body.message = Some(attachment(reused.kind.as_str(), payload));
        }
        PlannedMessage::Cards(cards) => {
            let elements = cards.iter().map(Element::from).collect();
            let payload = AttachmentPayload { template_type: Some("generic"), elements, ..Default::default() };
            body.message = Some(attachment("template", payload));
        }
    }
    if body.message.is_some() {
        (body.messaging_type, body.tag) = match plan.tag {
            Some(MessageTag::HumanAgent) => ("MESSAGE_TAG", Some("HUMAN_AGENT")),
            None => ("RESPONSE", None),
        };
    }
    GraphCall { path, body: serde_json::to_vec(&body).expect("a Graph body serializes") }
}

/// The body of `POST /me/messages` (a message, a sender action, a reaction) or of a thread control edge.
#[derive(Default, Serialize)]
struct Body<'a> {
    recipient: Recipient<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Content<'a>>,
    #[serde(skip_serializing_if = "str::is_empty")]
    messaging_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sender_action: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<ReactionPayload<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_app_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a str>,
}

#[derive(Default, Serialize)]
struct Recipient<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment_id: Option<&'a str>,
}

#[derive(Serialize)]
struct ReactionPayload<'a> {
    message_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reaction: Option<&'a str>,
}

#[derive(Default, Serialize)]
struct Content<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    quick_replies: Vec<GraphQuickReply<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment: Option<Attachment<'a>>,
}

#[derive(Serialize)]
struct GraphQuickReply<'a> {
    content_type: &'static str,
    title: &'a str,
    payload: &'a str,
}

impl<'a> From<&'a QuickReply> for GraphQuickReply<'a> {
    fn from(quick_reply: &'a QuickReply) -> Self {
        Self { content_type: "text", title: &quick_reply.title, payload: &quick_reply.payload }
    }
}

#[derive(Serialize)]
struct Attachment<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    payload: AttachmentPayload<'a>,
}

#[derive(Default, Serialize)]
struct AttachmentPayload<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_reusable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    elements: Vec<Element<'a>>,
}

/// A card as a generic template element; absent properties are left out.
#[derive(Serialize)]
struct Element<'a> {
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subtitle: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_action: Option<GraphButton<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    buttons: Vec<GraphButton<'a>>,
}

impl<'a> From<&'a Card> for Element<'a> {
    fn from(card: &'a Card) -> Self {
        Self {
            title: &card.title,
            subtitle: card.subtitle.as_deref(),
            image_url: card.image_url.as_deref(),
            // A URL button without a title: what opens when the card itself is tapped.
            default_action: card.default_url.as_deref().map(|url| GraphButton::WebUrl { url, title: None }),
            buttons: card.buttons.iter().map(GraphButton::from).collect(),
        }
    }
}

/// A button as Graph writes it: `web_url` or `postback`. The persistent menu's items are the same.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum GraphButton<'a> {
    WebUrl {
        url: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
    },
    Postback {
        title: &'a str,
        payload: &'a str,
    },
}

impl<'a> From<&'a Button> for GraphButton<'a> {
    fn from(button: &'a Button) -> Self {
        match button {
            Button::WebUrl(link) => Self::WebUrl { url: &link.url, title: Some(&link.title) },
            Button::Postback(postback) => Self::Postback { title: &postback.title, payload: &postback.payload },
        }
    }
}

/// A public reply's body: `{"message": text}`.
#[derive(Serialize)]
struct PublicReply<'a> {
    message: &'a str,
}
