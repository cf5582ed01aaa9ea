//! Ice breakers and the persistent menu: what a customer sees of an account before writing, kept by Meta's
//! Messenger Profile API (reference section 17). Read, set (validated first, every problem at once) and deleted
//! per account through the `http` port. Taps on either come back as `postback` events.

mod graph;
mod rules;

pub use graph::{delete, get, set};
pub use rules::{
    DEFAULT_LOCALE, MAX_ICE_BREAKER_QUESTION_CHARS, MAX_ICE_BREAKERS, MAX_MENU_ITEMS, MAX_MENU_TITLE_CHARS,
    MAX_SETTING_BYTES, codes, validate,
};

use crate::error::ConnectorError;
use crate::outbound::Button;
use serde::{Deserialize, Serialize};

/// `{"question","payload"}`: a question offered on a new conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IceBreaker {
    pub question: String,
    pub payload: String,
}

/// `{"locale","questions"}`: the ice breakers of one locale (`default`, or e.g. `ko_KR`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalizedIceBreakers {
    pub locale: String,
    pub questions: Vec<IceBreaker>,
}

/// `{"locale","items"}`: the persistent menu of one locale; its items are buttons (links and postbacks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalizedMenu {
    pub locale: String,
    pub items: Vec<Button>,
}

/// `ice-breakers` or `persistent-menu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileField {
    IceBreakers,
    PersistentMenu,
}

impl ProfileField {
    /// The Messenger Profile API's name of the field.
    pub fn graph_name(self) -> &'static str {
        match self {
            Self::IceBreakers => "ice_breakers",
            Self::PersistentMenu => "persistent_menu",
        }
    }
}

/// A setting and its value, every locale of it: `{"ice-breakers":[...]}` or `{"persistent-menu":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileSetting {
    IceBreakers(Vec<LocalizedIceBreakers>),
    PersistentMenu(Vec<LocalizedMenu>),
}

impl ProfileSetting {
    pub fn field(&self) -> ProfileField {
        match self {
            Self::IceBreakers(_) => ProfileField::IceBreakers,
            Self::PersistentMenu(_) => ProfileField::PersistentMenu,
        }
    }

    /// The setting with no locale: what an account without one has.
    pub fn empty(field: ProfileField) -> Self {
        match field {
            ProfileField::IceBreakers => Self::IceBreakers(Vec::new()),
            ProfileField::PersistentMenu => Self::PersistentMenu(Vec::new()),
        }
    }
}

/// Reads a setting's JSON for `field`: `[{"locale","questions":[{"question","payload"}]}]` for ice breakers,
/// `[{"locale","items":[{"type":"postback"|"web-url","title","payload"|"url"}]}]` for the menu.
pub fn parse_setting(field: ProfileField, bytes: &[u8]) -> Result<ProfileSetting, ConnectorError> {
    let invalid = |e: serde_json::Error| {
        ConnectorError::new(
            crate::codes::INVALID_REQUEST,
            format!("the setting is not the {} JSON: {e}", field.graph_name()),
        )
    };
    Ok(match field {
        ProfileField::IceBreakers => ProfileSetting::IceBreakers(serde_json::from_slice(bytes).map_err(invalid)?),
        ProfileField::PersistentMenu => ProfileSetting::PersistentMenu(serde_json::from_slice(bytes).map_err(invalid)?),
    })
}
