//! The sign-in form and signing out: a person posts an API key once (never in a URL) and gets the session cookie
//! (`session`); the form's own CSRF token is tied to a short-lived cookie, since there is no session yet.

use super::session::Person;
use super::session::{SESSION_COOKIE, cookie, open_session, set_cookie};
use super::signing::random_token;
use super::visit::Visit;
use crate::clock::now_ms;
use axum::body::Body;
use axum::extract::Extension;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

/// The sign-in form's own cookie, for its CSRF token before there is a session.
const SIGN_IN_COOKIE: &str = "messenger_sign_in";
/// How long the sign-in form may be left open.
const SIGN_IN_MS: u64 = 30 * 60_000;

/// `GET /login`: the sign-in form, with a fresh CSRF token and the cookie it is checked against.
pub(super) async fn sign_in_form(visit: Visit) -> Response {
    sign_in_page(&visit, StatusCode::OK, false)
}

/// The sign-in form (`failed`: after a wrong key), with its CSRF token and the cookie it is checked against.
fn sign_in_page(visit: &Visit, status: StatusCode, failed: bool) -> Response {
    let (app, nonce) = (&visit.app, random_token());
    let context = json!({"login_csrf": app.console.signer.tag("sign-in", &nonce), "failed": failed});
    let mut page = app.console.pages.render(status, "login.html", visit.lang, context);
    let sealed = app.console.signer.seal("sign-in", &(nonce, now_ms() + SIGN_IN_MS));
    page.headers_mut().append(header::SET_COOKIE, set_cookie(app, SIGN_IN_COOKIE, &sealed, SIGN_IN_MS));
    page
}

/// `POST /login`: checks the form's CSRF token and the key, then opens a session. A wrong key is answered 401 with
/// the form again; the key never appears in a log, a URL or an answer.
pub(super) async fn sign_in(visit: Visit, body: Body) -> Response {
    let form = match visit.form(body).await {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let (app, client) = (&visit.app, visit.peer.0);
    let sealed: Option<(String, u64)> =
        cookie(&visit.headers, SIGN_IN_COOKIE).and_then(|c| app.console.signer.open("sign-in", c));
    let fresh = sealed.filter(|(_, expires_at)| *expires_at > now_ms());
    let csrf_ok = fresh.is_some_and(|(nonce, _)| {
        form.get("csrf").is_some_and(|token| app.console.signer.verify("sign-in", &nonce, token))
    });
    if !csrf_ok {
        tracing::warn!(%client, "a sign-in without a valid form token: refused");
        return visit.bad_form();
    }
    let Some(caller) = form.get("key").and_then(|key| app.keys.find(key.trim())) else {
        tracing::warn!(%client, "a console sign-in with a wrong key: 401");
        return sign_in_page(&visit, StatusCode::UNAUTHORIZED, true);
    };
    tracing::info!(key = %caller.name, %client, "console sign-in");
    let (_, cookie) = open_session(app, caller);
    let mut answer = Redirect::to("/").into_response();
    answer.headers_mut().append(header::SET_COOKIE, cookie);
    answer.headers_mut().append(header::SET_COOKIE, set_cookie(app, SIGN_IN_COOKIE, "", 0));
    answer
}

/// `POST /logout`: ends the session in this browser.
pub(super) async fn sign_out(visit: Visit, Extension(person): Extension<Person>, body: Body) -> Response {
    if let Err(refusal) = visit.form_of(&person, body).await {
        return refusal;
    }
    let mut answer = Redirect::to("/login").into_response();
    answer.headers_mut().append(header::SET_COOKIE, set_cookie(&visit.app, SESSION_COOKIE, "", 0));
    answer
}
