//! The routes: each maps a harness or outbox result to its HTTP answer. Bodies are read here, under a slot of
//! their own and a deadline; a webhook's signature is checked before it may take a delivery slot or reach the
//! store, so forged posts cost one HMAC each and starve nothing. A 500 says which request failed, never why: the
//! detail is in the log, under the same request id.

use super::answer::error;
use super::app::App;
use super::conn::{ClientAddr, RequestId};
use crate::clock::now_ms;
use crate::harness::CallError;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use messenger_core::inbound::{Delivery, MAX_BODY_BYTES};
use std::sync::Arc;

pub(super) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/webhooks/instagram", get(handshake).post(webhook))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(app)
}

/// A 500 that names the request, not the cause: the cause is logged under the same id.
pub(super) fn internal(RequestId(id): RequestId, code: &str) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, code, format!("internal error; the server log has request {id}"))
}

pub(super) fn busy(what: &str) -> Response {
    let mut answer = error(StatusCode::SERVICE_UNAVAILABLE, "busy", format!("too many {what} in flight; retry"));
    answer.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    answer
}

/// Reads a body whole, at most 1 MiB, within the body deadline, under a body slot (kept until the request ends,
/// since the bytes live that long).
pub(super) async fn read_body(
    app: &App,
    ClientAddr(client): ClientAddr,
    RequestId(id): RequestId,
    body: Body,
) -> Result<(Bytes, super::admission::Ticket), Response> {
    use http_body_util::BodyExt;
    let Some(ticket) = app.bodies.try_admit(client.ip()) else {
        tracing::warn!(request_id = id, %client, "body slots full: 503");
        super::conn::drain_briefly(body);
        return Err(busy(app.bodies.what()));
    };
    let limited = http_body_util::Limited::new(body, MAX_BODY_BYTES);
    match tokio::time::timeout(app.config.body_timeout, limited.collect()).await {
        Ok(Ok(collected)) => Ok((collected.to_bytes(), ticket)),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            Err(error(StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", "the body is over 1 MiB"))
        }
        Ok(Err(_)) => Err(error(StatusCode::BAD_REQUEST, "unreadable-body", "the body did not arrive whole")),
        Err(_) => {
            tracing::warn!(request_id = id, %client, "body deadline passed: 408");
            Err(error(StatusCode::REQUEST_TIMEOUT, "request-timeout", "the body did not arrive in time"))
        }
    }
}

async fn handshake(
    State(app): State<Arc<App>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(expected) = app.config.verify_token.clone() else {
        tracing::warn!(%client, "a verification request came, but no verify token is configured (MESSENGER_VERIFY_TOKEN)");
        return StatusCode::FORBIDDEN.into_response();
    };
    let Some(ticket) = app.webhooks.try_admit(client.ip()) else { return busy(app.webhooks.what()) };
    let request = messenger_core::handshake::from_query(query.as_deref().unwrap_or(""));
    let harness = app.harness.clone();
    let verified = tokio::task::spawn_blocking(move || {
        let _ticket = ticket;
        harness.verify_subscription(&request, &expected)
    });
    match verified.await {
        Ok(Ok(challenge)) => ([(header::CONTENT_TYPE, "text/plain")], challenge).into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

async fn webhook(
    State(app): State<Arc<App>>,
    Extension(peer): Extension<ClientAddr>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (client, request_id) = (peer.0, id.0);
    let Some(app_secret) = app.config.app_secret.clone() else {
        tracing::error!(request_id, %client, "a delivery came, but no app secret is configured (MESSENGER_APP_SECRET): refused");
        return error(
            StatusCode::UNAUTHORIZED,
            "bad-signature",
            "the server has no app secret to verify deliveries with",
        );
    };
    let (body, body_ticket) = match read_body(&app, peer, id, body).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    // Checked here first (the component checks it again): a forged post takes no delivery slot and no storage.
    if !messenger_core::signature::is_valid(app_secret.as_bytes(), &body, super::parse::signature(&headers)) {
        tracing::warn!(request_id, %client, "bad signature: 401, nothing stored");
        app.metrics.delivery("bad-signature", &[]);
        return error(StatusCode::UNAUTHORIZED, "bad-signature", "X-Hub-Signature-256 does not match the body");
    }
    let Some(permit) = app.webhooks.try_admit(client.ip()) else {
        tracing::warn!(request_id, %client, "deliveries full: 503, Meta will deliver again");
        app.metrics.delivery("busy", &[]);
        return busy(app.webhooks.what());
    };
    let headers = headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let delivery = Delivery { headers, body: body.to_vec(), received_at: now_ms() };
    drop(body);
    let (harness, unrouted) = (app.harness.clone(), app.config.unrouted);
    let outcome = tokio::task::spawn_blocking(move || {
        let _held = (permit, body_ticket);
        super::deliver::store(&harness, &delivery, &app_secret, unrouted)
    })
    .await;
    match outcome {
        Ok(Ok(events)) => {
            tracing::info!(request_id, %client, events = events.len(), "delivery committed");
            app.events_committed();
            app.metrics.delivery("committed", &events);
            (StatusCode::OK, "EVENT_RECEIVED").into_response()
        }
        Ok(Err(CallError::Rejected(e))) if e.code == "bad-signature" => {
            tracing::warn!(request_id, %client, "bad signature: 401, nothing stored");
            app.metrics.delivery("bad-signature", &[]);
            error(StatusCode::UNAUTHORIZED, &e.code, e.message)
        }
        Ok(Err(CallError::Rejected(e))) if e.code != messenger_core::codes::STORAGE_UNAVAILABLE => {
            tracing::warn!(request_id, %client, code = %e.code, "refused delivery");
            app.metrics.delivery("refused", &[]);
            error(StatusCode::BAD_REQUEST, &e.code, e.message)
        }
        Ok(Err(CallError::Conflict(why))) => {
            tracing::warn!(request_id, %client, why, "delivery lost a storage race: 503, Meta will deliver again");
            app.metrics.delivery("busy", &[]);
            busy("writers")
        }
        Ok(Err(other)) => {
            let fault = matches!(other, CallError::PluginFault(_));
            if fault {
                app.metrics.plugin_faults.inc();
            }
            app.metrics.delivery(if fault { "fault" } else { "error" }, &[]);
            let info = other.to_error_info();
            tracing::error!(request_id, %client, code = %info.code, detail = %info.message, "delivery not stored: 500, Meta will deliver again");
            internal(id, &info.code)
        }
        Err(e) => {
            tracing::error!(request_id, %client, error = %e, "the worker failed: 500");
            internal(id, "host-error")
        }
    }
}
