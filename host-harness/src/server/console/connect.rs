//! `GET /connect/facebook` and `/connect/instagram` send the person to Meta's login dialog with a state that is
//! signed, single-use, expiring and bound to their session; `GET /connect/callback` checks that state before
//! anything else, then exchanges the code through the component and shows what the login reached
//! (`select`). A forged, replayed or expired state, or another session's, exchanges and stores nothing.

use super::super::app::App;
use super::records::Records;
use super::session::{Person, person_of};
use super::visit::Visit;
use crate::clock::now_ms;
use axum::extract::{Extension, Path};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use messenger_core::accounts::{LinkRequest, percent_encode};
use messenger_core::expiry::LoginKind;
use messenger_core::graph::API_VERSION;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How long the accounts a login reached wait to be selected.
const PICK_MS: u64 = 30 * 60_000;

/// Meta's dialog hosts (`--dialog-url` replaces them).
const FACEBOOK_DIALOG: &str = "https://www.facebook.com";
/// Instagram Login's dialog host.
const INSTAGRAM_DIALOG: &str = "https://www.instagram.com";
/// The permissions each login asks for: what receiving and answering messages needs, and no more.
const FACEBOOK_SCOPES: &str = "instagram_basic,instagram_manage_messages,pages_manage_metadata,pages_show_list,pages_messaging,business_management";
/// Instagram Login's permissions.
const INSTAGRAM_SCOPES: &str = "instagram_business_basic,instagram_business_manage_messages";

/// A link attempt, stored until its callback (single use).
#[derive(Serialize, Deserialize)]
struct Attempt {
    /// The session it is bound to.
    session: String,
    channel: String,
    login: LoginKind,
    /// The account being re-authorized, when it is one.
    account: Option<String>,
}

/// What a login reached, kept until the person selects (`select`).
#[derive(Serialize, Deserialize)]
pub(super) struct Reached {
    pub session: String,
    pub channel: String,
    pub accounts: Vec<ReachedAccount>,
    /// The account being re-authorized, when it is one.
    pub target: Option<String>,
}

/// One account a login reached.
#[derive(Serialize, Deserialize)]
pub(super) struct ReachedAccount {
    pub id: String,
    pub username: Option<String>,
    /// It was linked before (and keeps its data).
    pub relinked: bool,
}

/// `GET /connect/facebook` and `/connect/instagram`: records the attempt and redirects (302) to Meta's dialog.
/// `account` names an account to re-authorize, `channel` the channel to link to.
pub(super) async fn start(visit: Visit, Extension(person): Extension<Person>, Path(login): Path<String>) -> Response {
    let login = match login.as_str() {
        "facebook" => LoginKind::Facebook,
        "instagram" => LoginKind::Instagram,
        _ => return visit.message(StatusCode::NOT_FOUND, "not_found_title", "not_found_body", None),
    };
    let app = &visit.app;
    let Some((client_id, redirect_uri)) = app.console.client(login) else { return visit.not_configured() };
    let scoped = match visit.scope(&person, None) {
        Ok(scoped) => scoped,
        Err(refusal) => return *refusal,
    };
    let query = &visit.query;
    let account = query.get("account").filter(|a| messenger_core::keys::is_valid_id(a)).map(str::to_owned);
    let attempt =
        Attempt { session: person.session.id.clone(), channel: scoped.namespace.channel().to_owned(), login, account };
    let (records, attempt_ms) = (Records::new(app.harness.database(), "state"), app.console.attempt_ms);
    let stored = tokio::task::spawn_blocking(move || records.put(now_ms() + attempt_ms, &attempt)).await;
    let reference = match stored {
        Ok(Ok(reference)) => reference,
        _ => return visit.failed("storing a link attempt"),
    };
    let state =
        format!("{reference}.{}", app.console.signer.tag("state", &format!("{reference}|{}", person.session.id)));
    let (host, path, scope) = match login {
        LoginKind::Facebook => (FACEBOOK_DIALOG, format!("/{API_VERSION}/dialog/oauth"), FACEBOOK_SCOPES),
        LoginKind::Instagram => (INSTAGRAM_DIALOG, "/oauth/authorize".to_owned(), INSTAGRAM_SCOPES),
    };
    let host = app.console.dialog_url.as_deref().unwrap_or(host).trim_end_matches('/');
    // A Facebook Login for Business configuration replaces the scopes (Meta advises against sending both).
    let permissions = match (login, &app.console.login_config_id) {
        (LoginKind::Facebook, Some(config)) => format!("config_id={}", percent_encode(config)),
        _ => format!("scope={}", percent_encode(scope)),
    };
    let dialog = format!(
        "{host}{path}?client_id={}&redirect_uri={}&response_type=code&{permissions}&state={}",
        percent_encode(&client_id),
        percent_encode(&redirect_uri),
        percent_encode(&state)
    );
    tracing::info!(key = %person.caller.name, login = login.as_str(), channel = %scoped.namespace.channel(), "sending a person to Meta's login dialog");
    (StatusCode::FOUND, [(axum::http::header::LOCATION, dialog)]).into_response()
}

/// `GET /connect/callback?code&state` (or `?error&state`): checks and consumes the state first, then exchanges the
/// code and redirects to the selection page.
pub(super) async fn callback(visit: Visit) -> Response {
    let (app, query) = (&visit.app, &visit.query);
    let person = person_of(app, &visit.headers);
    let attempt = match (&person, query.get("state")) {
        (Some(person), Some(state)) => consume(app, person, state).await,
        _ => None,
    };
    // A cancel says so, whatever the state (Instagram may send none back); nothing was stored or exchanged.
    if let Some(error) = query.get("error") {
        tracing::info!(error, attempt = attempt.is_some(), "Meta's login dialog came back without a code");
        let (status, title, body) = match error {
            "access_denied" => (StatusCode::OK, "cancelled_title", "cancelled_body"),
            _ => (StatusCode::BAD_GATEWAY, "refused_title", "refused_body"),
        };
        let details = query.get("error_description").map(|d| d.chars().take(200).collect::<String>());
        return visit.message(status, title, body, details.as_deref());
    }
    let start_again = || visit.message(StatusCode::BAD_REQUEST, "start_again_title", "start_again_body", None);
    let (Some(person), Some(attempt)) = (person, attempt) else {
        tracing::warn!("a login callback with a missing, forged, used or expired state: nothing exchanged");
        return start_again();
    };
    let Some(code) = query.get("code").filter(|c| !c.is_empty() && c.len() <= 2048) else { return start_again() };
    let Some((client_id, redirect_uri)) = app.console.client(attempt.login) else { return visit.not_configured() };
    let scoped = match visit.scope(&person, Some(&attempt.channel)) {
        Ok(scoped) => scoped,
        Err(refusal) => return *refusal,
    };
    let request = LinkRequest {
        login: attempt.login,
        code: code.to_owned(),
        redirect_uri,
        app_id: client_id,
        app_secret: app.config.app_secret.clone().unwrap_or_default(),
        now: now_ms(),
    };
    let harness = scoped.harness.clone();
    let linked = match tokio::task::spawn_blocking(move || harness.link_accounts(&request)).await {
        Ok(Ok(linked)) => linked,
        Ok(Err(e)) => {
            let info = e.to_error_info();
            tracing::warn!(code = %info.code, "exchanging a login's code failed: nothing linked");
            let (title, body) = ("exchange_failed_title", "exchange_failed_body");
            return visit.message(StatusCode::BAD_GATEWAY, title, body, Some(&info.message));
        }
        Err(_) => return visit.failed("exchanging a login's code"),
    };
    tracing::info!(key = %person.caller.name, accounts = linked.len(), "a login reached accounts; waiting for the selection");
    let reached = Reached {
        session: person.session.id.clone(),
        channel: attempt.channel,
        accounts: linked
            .into_iter()
            .map(|a| ReachedAccount { id: a.account_id, username: a.username, relinked: a.relinked })
            .collect(),
        target: attempt.account,
    };
    let records = Records::new(app.harness.database(), "pick");
    match tokio::task::spawn_blocking(move || records.put(now_ms() + PICK_MS, &reached)).await {
        Ok(Ok(pick)) => Redirect::to(&format!("/connect/select?pick={pick}")).into_response(),
        _ => visit.failed("keeping the accounts a login reached"),
    }
}

/// The attempt `state` names, consumed, if the state is this session's, signed here and not used or expired.
async fn consume(app: &Arc<App>, person: &Person, state: &str) -> Option<Attempt> {
    let (reference, tag) = state.split_once('.')?;
    // The signature first: a forged state never reaches the store.
    if !app.console.signer.verify("state", &format!("{reference}|{}", person.session.id), tag) {
        return None;
    }
    let records = Records::new(app.harness.database(), "state");
    let reference = reference.to_owned();
    let attempt: Attempt = tokio::task::spawn_blocking(move || records.take(&reference)).await.ok()?.ok()??;
    (attempt.session == person.session.id).then_some(attempt)
}
