//! What every console request carries besides its body, taken once by one extractor: the server, the client and
//! request id, the query, the headers and the language to answer in; and the pages every handler may answer with.

use super::super::api::{ChannelRefusal, Scoped};
use super::super::app::App;
use super::super::conn::{ClientAddr, RequestId};
use super::form::Form;
use super::render::Lang;
use super::session::Person;
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;

/// One console request, but its body.
pub(super) struct Visit {
    pub app: Arc<App>,
    pub peer: ClientAddr,
    pub id: RequestId,
    pub query: Form,
    pub headers: HeaderMap,
    pub lang: Lang,
}

impl FromRequestParts<Arc<App>> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let extensions = &parts.extensions;
        Ok(Self {
            app: app.clone(),
            peer: *extensions.get::<ClientAddr>().expect("the connection layer sets it"),
            id: *extensions.get::<RequestId>().expect("the connection layer sets it"),
            query: Form::parse(parts.uri.query().unwrap_or_default().as_bytes()),
            lang: Lang::choose(&parts.headers, app.config.language.as_deref()),
            headers: parts.headers.clone(),
        })
    }
}

impl Visit {
    /// The form in `body` (at most 1 MiB, within the body deadline, as every body).
    pub async fn form(&self, body: Body) -> Result<Form, Response> {
        let (raw, _ticket) = super::super::routes::read_body(&self.app, self.peer, self.id, body).await?;
        Ok(Form::parse(&raw))
    }

    /// The form in `body`, if `person` may post it (its CSRF token matches); else the refusal page.
    pub async fn form_of(&self, person: &Person, body: Body) -> Result<Form, Response> {
        let form = self.form(body).await?;
        if !person.may_post(&self.app, &form) {
            tracing::warn!(client = %self.peer.0, "a console form without a valid CSRF token: refused");
            return Err(self.bad_form());
        }
        Ok(form)
    }

    /// The channel `person` reaches with `asked` (the query's `channel` when none), or the refusal page.
    pub fn scope(&self, person: &Person, asked: Option<&str>) -> Result<Scoped, Box<Response>> {
        let asked = asked.or_else(|| self.query.get("channel"));
        Scoped::resolve(&self.app, &person.caller, asked).map_err(|refusal| Box::new(self.refused(refusal)))
    }

    /// `template` rendered with `context`, 200.
    pub fn render(&self, template: &str, context: Value) -> Response {
        self.app.console.pages.render(StatusCode::OK, template, self.lang, context)
    }

    /// A page that says something (title and sentence by their keys in the texts).
    pub fn message(&self, status: StatusCode, title: &str, body: &str, details: Option<&str>) -> Response {
        self.app.console.pages.message(status, self.lang, title, body, details)
    }

    /// The page for a form that cannot be taken (no valid CSRF token, an expired or foreign reference): 403.
    pub fn bad_form(&self) -> Response {
        self.message(StatusCode::FORBIDDEN, "bad_form_title", "bad_form_body", None)
    }

    /// The page for a failure of the server's own: 500, the cause in the log only.
    pub fn failed(&self, doing: &str) -> Response {
        tracing::error!(request_id = self.id.0, doing, "a console request failed: 500");
        self.message(StatusCode::INTERNAL_SERVER_ERROR, "failed_title", "failed_body", None)
    }

    /// The page for a channel the person may not reach, or that does not exist.
    pub fn refused(&self, refusal: ChannelRefusal) -> Response {
        self.message(refusal.status, "bad_form_title", "bad_form_body", Some(&refusal.message))
    }

    /// The page for linking that is not set up.
    pub fn not_configured(&self) -> Response {
        self.message(StatusCode::SERVICE_UNAVAILABLE, "not_configured_title", "not_configured_body", None)
    }
}
