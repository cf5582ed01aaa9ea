//! The helpdesk-facing API, `/api/*`: every route behind a bearer API key (`auth`), scoped to one channel
//! (`Scoped`), each in a module of its own. Every refusal is a JSON error with a code, and stores nothing.

mod accounts;
mod auth;
mod feed;
mod history;
mod messages;
mod openapi;
mod settings;

use super::answer::error;
use super::app::App;
use super::keys::Caller;
use crate::harness::{CallError, Harness};
use crate::store::Namespace;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::{Json, Router, middleware};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The `/api/*` routes, each answering 401 without a valid key before anything else is read.
pub(super) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/api/messages", post(messages::reply))
        .route("/api/messages/{id}", get(messages::reply_status))
        .route("/api/events", get(feed::events))
        .route("/api/settings", get(settings::get).put(settings::put))
        .route("/api/accounts", get(accounts::list))
        .route("/api/accounts/plan", post(accounts::plan))
        .route("/api/accounts/select", post(accounts::select))
        .route(
            "/api/accounts/{id}/representative",
            put(accounts::representative).delete(accounts::clear_representative),
        )
        .route("/api/accounts/{id}/filters", put(accounts::filters))
        .route("/api/accounts/{id}/refresh", post(accounts::refresh))
        .route("/api/accounts/{id}/history", get(history::progress).post(history::start))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/{*rest}", any(|| async { error(StatusCode::NOT_FOUND, "not-found", "no such API route") }))
        .route_layer(middleware::from_fn_with_state(app.clone(), auth::require_key))
        .layer(DefaultBodyLimit::max(messenger_core::inbound::MAX_BODY_BYTES))
        .with_state(app)
}

/// The channel a call reaches: the `channel` parameter, else the key's own channel, else the server's default
/// channel (`--channel`, `default` unless told). A key bound to a channel reaches no other (403).
pub(crate) struct Scoped {
    pub namespace: Namespace,
    pub harness: Arc<Harness>,
}

/// The `channel` parameter every `/api/*` route takes.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ChannelQuery {
    /// The channel to reach; the key's own channel, else the server's default, when left out.
    channel: Option<String>,
}

/// Why a caller cannot reach the channel it asked for.
pub(crate) struct ChannelRefusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Scoped {
    /// The channel `caller` reaches when it asks for `asked`: that one, else its key's own, else the server's
    /// default. A key bound to a channel reaches no other.
    pub(crate) fn resolve(app: &App, caller: &Caller, asked: Option<&str>) -> Result<Self, ChannelRefusal> {
        let default = app.harness.namespace().channel();
        let channel = match (asked, caller.channel.as_deref()) {
            (Some(asked), Some(own)) if asked != own => {
                return Err(ChannelRefusal {
                    status: StatusCode::FORBIDDEN,
                    code: "forbidden-channel",
                    message: "this API key is bound to another channel".into(),
                });
            }
            (Some(asked), _) => asked,
            (None, Some(own)) => own,
            (None, None) => default,
        };
        if channel == default {
            return Ok(Scoped { namespace: app.harness.namespace().clone(), harness: app.harness.clone() });
        }
        match app.harness.for_channel(channel) {
            Ok(harness) => Ok(Scoped { namespace: harness.namespace().clone(), harness: Arc::new(harness) }),
            Err(e) => Err(ChannelRefusal {
                status: StatusCode::BAD_REQUEST,
                code: "invalid-channel",
                message: format!("{e:#}"),
            }),
        }
    }
}

impl FromRequestParts<Arc<App>> for Scoped {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        let Query(query) = Query::<ChannelQuery>::try_from_uri(&parts.uri).map_err(bad_query)?;
        let caller = parts.extensions.get::<Caller>().cloned().expect("the auth layer runs first");
        Scoped::resolve(app, &caller, query.channel.as_deref())
            .map_err(|refusal| error(refusal.status, refusal.code, refusal.message))
    }
}

/// A query string that does not parse: 400 with a JSON error, as every refusal.
pub(super) fn bad_query(rejection: QueryRejection) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid-argument", rejection.body_text())
}

/// A JSON request body (at most 1 MiB), or a JSON error: 413 `payload-too-large`, 400 `invalid-argument`.
pub(super) struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        serde_json::from_slice(&body_bytes(request, state).await?).map(JsonBody).map_err(invalid_json)
    }
}

/// A JSON request body that may be left out (an empty body is `T::default()`), else as `JsonBody`.
pub(super) struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> axum::extract::FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        let raw = body_bytes(request, state).await?;
        if raw.is_empty() {
            return Ok(OptionalJsonBody(T::default()));
        }
        serde_json::from_slice(&raw).map(OptionalJsonBody).map_err(invalid_json)
    }
}

/// A request's body, within the 1 MiB limit; over it, 413 `payload-too-large`.
async fn body_bytes<S: Send + Sync>(request: axum::extract::Request, state: &S) -> Result<axum::body::Bytes, Response> {
    use axum::extract::FromRequest;
    match axum::body::Bytes::from_request(request, state).await {
        Ok(raw) => Ok(raw),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(error(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "the body is over 1 MiB"))
        }
        Err(rejection) => Err(error(StatusCode::BAD_REQUEST, "unreadable-body", rejection.body_text())),
    }
}

/// A body that is not the JSON asked for: 400 `invalid-argument`.
fn invalid_json(e: serde_json::Error) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid-argument", format!("the request body: {e}"))
}

/// Runs a harness call off the async workers; its refusal as an HTTP answer.
pub(super) async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, CallError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(call_error(e)),
        Err(_) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", "the worker failed")),
    }
}

/// A call's answer as JSON (200), or its refusal.
pub(super) fn json_answer<T: serde::Serialize>(answer: Result<T, Response>) -> Response {
    match answer {
        Ok(value) => Json(value).into_response(),
        Err(refusal) => refusal,
    }
}

/// A failed call as HTTP: the component's refusals are the caller's (400, or 404 for an unknown account; 422 with
/// every problem), faults and host failures are the server's (500).
pub(super) fn call_error(e: CallError) -> Response {
    let status = match &e {
        CallError::Rejected(e) if e.code.contains("unknown") || e.code.contains("not-found") => StatusCode::NOT_FOUND,
        CallError::Rejected(e) if e.code == messenger_core::codes::STORAGE_UNAVAILABLE => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        CallError::Rejected(_) => StatusCode::BAD_REQUEST,
        CallError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        CallError::PluginFault(_) | CallError::Host(_) => StatusCode::INTERNAL_SERVER_ERROR,
        CallError::Conflict(_) => return super::routes::busy("writers"),
    };
    if let CallError::Invalid(errors) = &e {
        let invalid = messenger_core::outbound::Invalid::new(errors);
        return (status, Json(serde_json::to_value(&invalid).expect("errors serialize"))).into_response();
    }
    let info = e.to_error_info();
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        // The cause is for the log, not the caller (the answer's `x-request-id` finds it).
        tracing::error!(code = %info.code, detail = %info.message, "an API call failed: 500");
        return error(status, &info.code, "internal error; the server log has this request");
    }
    error(status, &info.code, info.message)
}
