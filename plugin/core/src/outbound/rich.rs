//! Quick replies and cards (Meta's generic template) with their buttons: the contract's JSON and their checks.
//! Buttons are shared with the persistent menu.

use super::checks::{self, Label, count, link, payload};
use super::codes;
use super::limits::{
    MAX_BUTTON_TITLE_CHARS, MAX_CARD_BUTTONS, MAX_CARD_SUBTITLE_CHARS, MAX_CARD_TITLE_CHARS, MAX_CARDS,
    MAX_QUICK_REPLIES, MAX_QUICK_REPLY_TITLE_CHARS,
};
use crate::error::ConnectorError;
use serde::{Deserialize, Serialize};

/// `{"title","payload"}`: a button under a text that posts its title back as the customer's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct QuickReply {
    pub title: String,
    pub payload: String,
}

/// A planned text with quick replies under it: `{"text","quick-replies"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TextWithQuickReplies {
    pub text: String,
    pub quick_replies: Vec<QuickReply>,
}

/// One element of a generic template: `{"title","subtitle"?,"image-url"?,"default-url"?,"buttons"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Card {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_url: Option<String>,
    #[serde(default)]
    pub buttons: Vec<Button>,
}

/// `{"type":"web-url","title","url"}` or `{"type":"postback","title","payload"}`: the two kinds Instagram allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Button {
    WebUrl(LinkButton),
    Postback(PostbackButton),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkButton {
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PostbackButton {
    pub title: String,
    pub payload: String,
}

/// Quick replies need a text to sit under; then their count, titles and payloads.
pub(super) fn check_quick_replies(errors: &mut Vec<ConnectorError>, quick_replies: &[QuickReply], has_text: bool) {
    if quick_replies.is_empty() {
        return;
    }
    if !has_text {
        errors.push(ConnectorError::new(codes::QUICK_REPLIES_NEED_TEXT, "quick replies are sent under a text"));
    }
    count(errors, "quick replies", quick_replies.len(), MAX_QUICK_REPLIES, codes::TOO_MANY_QUICK_REPLIES);
    for (index, quick_reply) in quick_replies.iter().enumerate() {
        let at = format!("quick reply {}", index + 1);
        Label::title(MAX_QUICK_REPLY_TITLE_CHARS, codes::QUICK_REPLY_TITLE_TOO_LONG).check(
            errors,
            &at,
            &quick_reply.title,
        );
        payload(errors, &at, &quick_reply.payload);
    }
}

/// The cards as they will be sent (a blank subtitle left out), with every broken rule added to `errors`.
pub(super) fn check_cards(errors: &mut Vec<ConnectorError>, cards: &[Card]) -> Vec<Card> {
    count(errors, "cards", cards.len(), MAX_CARDS, codes::TOO_MANY_CARDS);
    cards
        .iter()
        .enumerate()
        .map(|(index, card)| {
            let at = format!("card {}", index + 1);
            let card = Card { subtitle: card.subtitle.clone().filter(|s| !s.trim().is_empty()), ..card.clone() };
            Label::title(MAX_CARD_TITLE_CHARS, codes::CARD_TITLE_TOO_LONG).check(errors, &at, &card.title);
            if let Some(subtitle) = card.subtitle.as_deref().filter(|s| checks::chars(s) > MAX_CARD_SUBTITLE_CHARS) {
                let message = format!(
                    "{at}: the subtitle has {} characters; at most {MAX_CARD_SUBTITLE_CHARS} are allowed",
                    checks::chars(subtitle)
                );
                errors.push(ConnectorError::new(codes::CARD_SUBTITLE_TOO_LONG, message));
            }
            for (name, url) in [("image", &card.image_url), ("default link", &card.default_url)] {
                if let Some(url) = url {
                    link(errors, &format!("{at}, {name}"), url);
                }
            }
            let bare = card.subtitle.is_none()
                && card.image_url.is_none()
                && card.default_url.is_none()
                && card.buttons.is_empty();
            if bare {
                let message =
                    format!("{at}: a card needs a subtitle, an image, a default link or a button besides its title");
                errors.push(ConnectorError::new(codes::CARD_NEEDS_CONTENT, message));
            }
            count(errors, &format!("buttons on {at}"), card.buttons.len(), MAX_CARD_BUTTONS, codes::TOO_MANY_BUTTONS);
            for (number, button) in card.buttons.iter().enumerate() {
                check_button(errors, &format!("{at}, button {}", number + 1), button, MAX_BUTTON_TITLE_CHARS);
            }
            card
        })
        .collect()
}

/// A button of a card or of the persistent menu: its title (at most `max_title` characters), and its link or
/// payload.
pub(crate) fn check_button(errors: &mut Vec<ConnectorError>, at: &str, button: &Button, max_title: usize) {
    let label = match button {
        Button::WebUrl(b) => {
            link(errors, at, &b.url);
            &b.title
        }
        Button::Postback(b) => {
            payload(errors, at, &b.payload);
            &b.title
        }
    };
    Label::title(max_title, codes::BUTTON_TITLE_TOO_LONG).check(errors, at, label);
}
