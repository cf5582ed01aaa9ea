//! The Messenger Profile API calls: `GET`, `POST` and `DELETE /me/messenger_profile` with the account's token.
//! Under Facebook Login they name the platform (`?platform=instagram`); under Instagram Login the host implies it.

use super::{IceBreaker, LocalizedIceBreakers, LocalizedMenu, ProfileField, ProfileSetting, rules};
use crate::error::{ConnectorError, codes};
use crate::graph::uses_instagram_login;
use crate::keys;
use crate::outbound::{Button, GraphButton, LinkButton, PostbackButton, SendError, authorized};
use crate::ports::{Http, Method, Storage};
use crate::time::TimestampMs;
use serde::Serialize;
use serde_json::Value;

/// The account's setting as Meta has it; an empty one when none is set.
pub fn get(
    account_id: &str,
    field: ProfileField,
    now: TimestampMs,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<ProfileSetting, ConnectorError> {
    let query = format!("fields={}", field.graph_name());
    let answer = call(account_id, Method::Get, &query, None, now, storage, http)?;
    read_setting(field, &answer)
}

/// Replaces the account's setting, once it passes every check.
pub fn set(
    account_id: &str,
    setting: &ProfileSetting,
    now: TimestampMs,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<(), Vec<ConnectorError>> {
    rules::validate(setting)?;
    let answer =
        call(account_id, Method::Post, "", Some(&set_body(setting)), now, storage, http).map_err(|e| vec![e])?;
    succeeded(&answer).map_err(|e| vec![e])
}

/// Removes the account's setting.
pub fn delete(
    account_id: &str,
    field: ProfileField,
    now: TimestampMs,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<(), ConnectorError> {
    let body = format!(r#"{{"fields":["{}"]}}"#, field.graph_name());
    succeeded(&call(account_id, Method::Delete, "", Some(body.as_bytes()), now, storage, http)?)
}

/// The body that sets `setting`, in Meta's current, localized format.
pub(super) fn set_body(setting: &ProfileSetting) -> Vec<u8> {
    let body = match setting {
        ProfileSetting::IceBreakers(locales) => SetBody {
            ice_breakers: locales
                .iter()
                .map(|l| Localized { locale: &l.locale, call_to_actions: l.questions.iter().collect() })
                .collect(),
            ..SetBody::default()
        },
        ProfileSetting::PersistentMenu(locales) => SetBody {
            persistent_menu: locales
                .iter()
                .map(|l| Localized {
                    locale: &l.locale,
                    call_to_actions: l.items.iter().map(GraphButton::from).collect(),
                })
                .collect(),
            ..SetBody::default()
        },
    };
    serde_json::to_vec(&body).expect("a setting serializes")
}

/// `{"platform":"instagram","ice_breakers"|"persistent_menu":[{"locale","call_to_actions":[...]}]}`.
#[derive(Default, Serialize)]
struct SetBody<'a> {
    platform: Platform,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ice_breakers: Vec<Localized<'a, &'a IceBreaker>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    persistent_menu: Vec<Localized<'a, GraphButton<'a>>>,
}

/// Always `instagram`: the Messenger Profile API serves Messenger too.
#[derive(Default, Serialize)]
#[serde(rename_all = "lowercase")]
enum Platform {
    #[default]
    Instagram,
}

#[derive(Serialize)]
struct Localized<'a, T> {
    locale: &'a str,
    call_to_actions: Vec<T>,
}

fn call(
    account_id: &str,
    method: Method,
    query: &str,
    body: Option<&[u8]>,
    now: TimestampMs,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<Value, ConnectorError> {
    if !keys::is_valid_id(account_id) {
        return Err(ConnectorError::new(codes::INVALID_ACCOUNT_ID, "the account id is not an Instagram account id"));
    }
    let platform = match uses_instagram_login(storage, account_id)? {
        true => "",
        false => "platform=instagram",
    };
    let query: Vec<&str> = [query, platform].into_iter().filter(|q| !q.is_empty()).collect();
    let path = match query.is_empty() {
        true => "/me/messenger_profile".to_owned(),
        false => format!("/me/messenger_profile?{}", query.join("&")),
    };
    authorized(storage, http, account_id, method, &path, body, now).map_err(|SendError { error, .. }| error)
}

/// Meta answers `{"success":true}` (Instagram) or `{"result":"success"}` (Messenger); only a clear "no" fails.
fn succeeded(answer: &Value) -> Result<(), ConnectorError> {
    match answer.get("success").and_then(Value::as_bool) {
        Some(false) => Err(ConnectorError::new("unexpected-response", "Instagram answered 200 with success false")),
        _ => Ok(()),
    }
}

/// Reads `{"data":[...]}` in any of the shapes Meta answers: the locales themselves (Instagram's page), the list
/// nested under the field's name (Messenger's), or, for ice breakers set in the older flat format, the questions
/// themselves (then the `default` locale's).
fn read_setting(field: ProfileField, answer: &Value) -> Result<ProfileSetting, ConnectorError> {
    let Some(data) = answer.get("data").and_then(Value::as_array) else {
        return Err(ConnectorError::new("unexpected-response", "Instagram's answer has no `data` list"));
    };
    let items: Vec<&Value> = data
        .iter()
        .flat_map(|item| match item.get(field.graph_name()).and_then(Value::as_array) {
            Some(nested) => nested.iter().collect(),
            None => vec![item],
        })
        .collect();
    let locale = |item: &Value| item.get("locale").and_then(Value::as_str).unwrap_or(rules::DEFAULT_LOCALE).to_owned();
    let actions = |item: &Value| item.get("call_to_actions").and_then(Value::as_array).cloned().unwrap_or_default();
    Ok(match field {
        ProfileField::IceBreakers => {
            let (flat, localized): (Vec<&Value>, Vec<&Value>) =
                items.into_iter().partition(|item| item.get("question").is_some());
            let mut locales: Vec<LocalizedIceBreakers> = localized
                .into_iter()
                .map(|item| LocalizedIceBreakers {
                    locale: locale(item),
                    questions: actions(item).iter().filter_map(ice_breaker).collect(),
                })
                .collect();
            if !flat.is_empty() {
                let questions = flat.into_iter().filter_map(ice_breaker).collect();
                locales.insert(0, LocalizedIceBreakers { locale: rules::DEFAULT_LOCALE.into(), questions });
            }
            ProfileSetting::IceBreakers(locales)
        }
        ProfileField::PersistentMenu => ProfileSetting::PersistentMenu(
            items
                .into_iter()
                .map(|item| LocalizedMenu {
                    locale: locale(item),
                    items: actions(item).iter().filter_map(button).collect(),
                })
                .collect(),
        ),
    })
}

fn text(item: &Value, name: &str) -> Option<String> {
    item.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn ice_breaker(item: &Value) -> Option<IceBreaker> {
    Some(IceBreaker { question: text(item, "question")?, payload: text(item, "payload").unwrap_or_default() })
}

/// A menu item as Graph writes it; kinds Instagram does not show (nested menus) are left out.
fn button(item: &Value) -> Option<Button> {
    let title = text(item, "title")?;
    match item.get("type").and_then(Value::as_str)? {
        "web_url" => Some(Button::WebUrl(LinkButton { title, url: text(item, "url")? })),
        "postback" => Some(Button::Postback(PostbackButton { title, payload: text(item, "payload")? })),
        _ => None,
    }
}
