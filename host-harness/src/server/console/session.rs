//! Signing a person in: an API key, posted once in a form (never in a URL), buys a session cookie that is
//! HttpOnly, SameSite=Lax (Meta's redirect back from its login dialog is a cross-site navigation, which Strict
//! would strip of the cookie, and the link's state is bound to it), signed, and expiring after 8 hours; `Secure`
//! when the public URL is https. The session names its key, so removing the key ends the session. Forms carry a
//! CSRF token tied to the session; the sign-in form one tied to a short-lived cookie of its own.

use super::super::answer::unauthorized;
use super::super::app::App;
use super::super::keys::Caller;
use super::form::Form;
use super::signing::random_token;
use crate::clock::now_ms;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The session cookie's name.
pub(super) const SESSION_COOKIE: &str = "messenger_session";
/// How long a session lasts.
pub(super) const SESSION_MS: u64 = 8 * 3_600_000;

/// A signed-in person's session, as its cookie carries it (signed, so it cannot be altered).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Session {
    /// Random: what link states and CSRF tokens are bound to.
    pub id: String,
    /// The name of the API key it was opened with (never the key).
    pub key: String,
    pub expires_at: u64,
}

/// Who a console request comes from: the caller its key makes it, and its session.
#[derive(Debug, Clone)]
pub(super) struct Person {
    pub caller: Caller,
    pub session: Session,
    /// Authenticated by the session cookie (its forms must carry the CSRF token), not by an API key header.
    pub by_cookie: bool,
}

impl Person {
    /// The CSRF token of this person's forms.
    pub fn csrf(&self, app: &App) -> String {
        app.console.signer.tag("csrf", &self.session.id)
    }

    /// Whether a form may act for this person: its CSRF token matches, or the request carried an API key (which a
    /// browser never sends by itself).
    pub fn may_post(&self, app: &App, form: &Form) -> bool {
        !self.by_cookie
            || form.get("csrf").is_some_and(|token| app.console.signer.verify("csrf", &self.session.id, token))
    }
}

/// The value of cookie `name` in the request.
pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, on the whole site, for `max_age_ms` (0 deletes it).
pub(super) fn set_cookie(app: &App, name: &str, value: &str, max_age_ms: u64) -> HeaderValue {
    let secure = if app.console.secure_cookies { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}", max_age_ms / 1000);
    HeaderValue::from_str(&text).expect("cookie values are base64url")
}

/// The session a request's cookie holds, while it is valid and its key still configured.
pub(super) fn person_of(app: &App, headers: &HeaderMap) -> Option<Person> {
    let session: Session = app.console.signer.open("session", cookie(headers, SESSION_COOKIE)?)?;
    if session.expires_at <= now_ms() {
        return None;
    }
    let caller = app.keys.named(&session.key)?;
    Some(Person { caller, session, by_cookie: true })
}

/// A new session for `caller`, and the cookie that holds it.
pub(super) fn open_session(app: &App, caller: Caller) -> (Person, HeaderValue) {
    let session = Session { id: random_token(), key: caller.name.to_string(), expires_at: now_ms() + SESSION_MS };
    let cookie = set_cookie(app, SESSION_COOKIE, &app.console.signer.seal("session", &session), SESSION_MS);
    (Person { caller, session, by_cookie: true }, cookie)
}

/// Lets a console request through with a session cookie or an API key (a key gets a fresh session, set as a
/// cookie on the answer, so a link it starts can be finished in the browser that follows it). Without either, a
/// page is sent to the sign-in form, and a form post is refused.
pub(super) async fn require_person(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    if let Some(person) = person_of(&app, request.headers()) {
        request.extensions_mut().insert(person);
        return next.run(request).await;
    }
    let presented = request.headers().get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or_default().to_owned());
    if let Some(presented) = presented {
        // A client that sends a key is a program, not a browser: a wrong key is the API's 401, not the sign-in form.
        let Some(caller) = presented.strip_prefix("Bearer ").and_then(|key| app.keys.find(key.trim())) else {
            tracing::warn!(path = %request.uri().path(), "a console call with a wrong API key: 401");
            return unauthorized();
        };
        let (mut person, cookie) = open_session(&app, caller);
        person.by_cookie = false;
        request.extensions_mut().insert(person);
        let mut answer = next.run(request).await;
        answer.headers_mut().append(header::SET_COOKIE, cookie);
        return answer;
    }
    if request.method() == Method::GET {
        return Redirect::to("/login").into_response();
    }
    let lang = super::render::Lang::choose(request.headers(), app.config.language.as_deref());
    app.console.pages.message(StatusCode::UNAUTHORIZED, lang, "bad_form_title", "bad_form_body", None)
}
