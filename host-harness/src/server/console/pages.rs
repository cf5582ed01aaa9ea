//! The console's front page (`GET /`): every account of the channel with its state, representative badge and
//! switch, filter switches, re-authorize link, and health line; and the switches' form posts.

use super::form::Form;
use super::render::{ICON, STYLESHEET};
use super::session::Person;
use super::visit::Visit;
use crate::clock::now_ms;
use crate::harness::{AccountOverview, CallError, FilterChange, Harness};
use axum::body::Body;
use axum::extract::{Extension, Path};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use messenger_core::expiry::LinkState;
use messenger_core::time::{DAY_MS, format_rfc3339};
use serde_json::{Value, json};

/// An account with no webhook for this long gets the "Allow access to messages" warning.
const QUIET_MS: u64 = DAY_MS;

/// `GET /`.
pub(super) async fn console(visit: Visit, Extension(person): Extension<Person>) -> Response {
    let scoped = match visit.scope(&person, None) {
        Ok(scoped) => scoped,
        Err(refusal) => return *refusal,
    };
    let harness = scoped.harness.clone();
    let accounts = match tokio::task::spawn_blocking(move || harness.account_overview(now_ms())).await {
        Ok(Ok(accounts)) => accounts,
        _ => return visit.failed("listing the accounts"),
    };
    let app = &visit.app;
    let (channel, and_channel) = (super::channel_param(&scoped, app, "?"), super::channel_param(&scoped, app, "&"));
    let views: Vec<Value> = accounts.iter().map(|a| account_view(a, &and_channel, &channel)).collect();
    let context = json!({
        "channel": scoped.namespace.channel(),
        "saved": visit.query.get("saved").is_some(),
        "csrf": person.csrf(app),
        "add_facebook": format!("/connect/facebook{channel}"),
        "add_instagram": format!("/connect/instagram{channel}"),
        "accounts": views,
    });
    visit.render("console.html", context)
}

/// One account as the page shows it. `and_channel` and `channel` carry the channel in links (`&`, `?` forms).
fn account_view(account: &AccountOverview, and_channel: &str, channel: &str) -> Value {
    let id = &account.account_id;
    let now = now_ms();
    let seen = account.last_webhook_ms.unwrap_or(0).max(account.linked_at_ms);
    let working = matches!(account.state, LinkState::Active | LinkState::ExpiringSoon);
    let switch = |kind: &str, filter: Option<&str>, on: bool| {
        let action = match filter {
            Some(_) => format!("/accounts/{id}/filters{channel}"),
            None => format!("/accounts/{id}/representative{channel}"),
        };
        json!({"id": format!("switch-{kind}-{id}"), "label": format!("switch_{}", kind.replace('-', "_")),
            "action": action, "filter": filter, "on": on})
    };
    let filter_on = |name: &str| match name {
        "skip-story-mentions" => account.filters.skip_story_mentions,
        _ => account.filters.skip_shares,
    };
    json!({
        "id": id,
        "username": account.username,
        "login": account.login,
        "state": account.state,
        "reason": account.reason,
        "expires_on": day(account.expires_at_ms),
        "representative": account.representative,
        "reauthorize": (account.state != LinkState::Active).then(|| format!("/connect/{}?account={id}{and_channel}", account.login)),
        "subscribed": account.subscribed,
        "subscription_error": account.subscription_error.as_ref().map(|e| e.message.clone()),
        "last_webhook": account.last_webhook_ms.map(minute),
        "quiet": working && now.saturating_sub(seen) > QUIET_MS,
        "switches": [
            switch("representative", None, account.representative),
            switch("skip-story-mentions", Some("skip-story-mentions"), filter_on("skip-story-mentions")),
            switch("skip-shares", Some("skip-shares"), filter_on("skip-shares")),
        ],
    })
}

/// `YYYY-MM-DD` (UTC).
fn day(ms: u64) -> String {
    format_rfc3339(ms).chars().take(10).collect()
}

/// `YYYY-MM-DD HH:MM UTC`.
fn minute(ms: u64) -> String {
    let text = format_rfc3339(ms);
    format!("{} {} UTC", &text[..10], &text[11..16])
}

/// `POST /accounts/{id}/representative` (`on=true` marks the account, `on=false` clears the mark) and
/// `POST /accounts/{id}/filters` (`filter`, `skip-story-mentions` or `skip-shares`, turned `on` or off).
pub(super) async fn switched(
    visit: Visit,
    Extension(person): Extension<Person>,
    Path((account, setting)): Path<(String, String)>,
    body: Body,
) -> Response {
    switch(visit, person, body, move |harness, form| {
        let on = form.get("on") == Some("true");
        match (setting.as_str(), form.get("filter")) {
            ("representative", _) => harness.set_representative(on.then_some(account.as_str())),
            ("filters", Some("skip-story-mentions")) => harness
                .change_filters(&account, FilterChange { skip_story_mentions: Some(on), ..FilterChange::default() })
                .map(drop),
            ("filters", Some("skip-shares")) => harness
                .change_filters(&account, FilterChange { skip_shares: Some(on), ..FilterChange::default() })
                .map(drop),
            _ => Err(CallError::Rejected(messenger_core::ConnectorError::new(
                "invalid-argument",
                "a switch is the representative mark or the filter skip-story-mentions or skip-shares",
            ))),
        }
    })
    .await
}

/// A switch's form post: checked (CSRF), applied on the channel, then back to the front page.
async fn switch(
    visit: Visit,
    person: Person,
    body: Body,
    change: impl FnOnce(&Harness, &Form) -> Result<(), CallError> + Send + 'static,
) -> Response {
    let form = match visit.form_of(&person, body).await {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let scoped = match visit.scope(&person, None) {
        Ok(scoped) => scoped,
        Err(refusal) => return *refusal,
    };
    let harness = scoped.harness.clone();
    match tokio::task::spawn_blocking(move || change(&harness, &form)).await {
        Ok(Ok(())) => Redirect::to(&format!("/{}", super::channel_param(&scoped, &visit.app, "?"))).into_response(),
        Ok(Err(e)) => {
            let info = e.to_error_info();
            visit.message(StatusCode::BAD_REQUEST, "bad_form_title", "bad_form_body", Some(&info.message))
        }
        Err(_) => visit.failed("changing an account"),
    }
}

/// `GET /static/console.css` and `/static/icon.svg`.
pub(super) async fn asset(Path(name): Path<String>) -> Response {
    let (kind, body) = match name.as_str() {
        "console.css" => ("text/css; charset=utf-8", STYLESHEET),
        "icon.svg" => ("image/svg+xml", ICON),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}
