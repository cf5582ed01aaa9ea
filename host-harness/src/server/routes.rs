//! The routes: each maps a harness or outbox result to its HTTP answer. Bodies are read here, under a slot of
//! their own and a deadline; a webhook's signature is checked before it may take a delivery slot or reach the
//! store, so forged posts cost one HMAC each and starve nothing. A 500 says which request failed, never why: the
//! detail is in the log, under the same request id.

use super::answer::error;
use super::app::App;
use super::conn::{ClientAddr, RequestId};
use crate::clock::now_ms;
use crate::harness::CallError;
use crate::outbox::Handled;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use messenger_core::inbound::{Delivery, MAX_BODY_BYTES, TranslateOptions};
use messenger_core::outbound::{self, Invalid};
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/webhooks/instagram", get(handshake).post(webhook))
        .route("/api/messages", post(reply))
        .route("/api/messages/{id}", get(reply_status))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(app)
}

/// A 500 that names the request, not the cause: the cause is logged under the same id.
fn internal(RequestId(id): RequestId, code: &str) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, code, format!("internal error; the server log has request {id}"))
}

fn busy(what: &str) -> Response {
    let mut answer = error(StatusCode::SERVICE_UNAVAILABLE, "busy", format!("too many {what} in flight; retry"));
    answer.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    answer
}

/// Reads a body whole, at most 1 MiB, within the body deadline, under a body slot (kept until the request ends,
/// since the bytes live that long).
async fn read_body(
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
        return error(StatusCode::UNAUTHORIZED, "bad-signature", "X-Hub-Signature-256 does not match the body");
    }
    let Some(permit) = app.webhooks.try_admit(client.ip()) else {
        tracing::warn!(request_id, %client, "deliveries full: 503, Meta will deliver again");
        return busy(app.webhooks.what());
    };
    let headers = headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let delivery = Delivery { headers, body: body.to_vec(), received_at: now_ms() };
    drop(body);
    let harness = app.harness.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _held = (permit, body_ticket);
        harness.translate_recorded(&delivery, &TranslateOptions { app_secret, filters: None })
    })
    .await;
    match outcome {
        Ok(Ok(events)) => {
            tracing::info!(request_id, %client, events = events.len(), "delivery committed");
            (StatusCode::OK, "EVENT_RECEIVED").into_response()
        }
        Ok(Err(CallError::Rejected(e))) if e.code == "bad-signature" => {
            tracing::warn!(request_id, %client, "bad signature: 401, nothing stored");
            error(StatusCode::UNAUTHORIZED, &e.code, e.message)
        }
        Ok(Err(CallError::Rejected(e))) if e.code != messenger_core::codes::STORAGE_UNAVAILABLE => {
            tracing::warn!(request_id, %client, code = %e.code, "refused delivery");
            error(StatusCode::BAD_REQUEST, &e.code, e.message)
        }
        Ok(Err(CallError::Conflict(why))) => {
            tracing::warn!(request_id, %client, why, "delivery lost a storage race: 503, Meta will deliver again");
            busy("writers")
        }
        Ok(Err(other)) => {
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

/// Validates and sends a reply; what cannot be sent now but may later is queued durably. The answer is the first
/// attempt's: sent (200), failed for good (200, `ok: false`), or queued for a retry (202); a reply submitted before
/// with the same `Idempotency-Key` answers where it stands (200).
async fn reply(
    State(app): State<Arc<App>>,
    Extension(peer): Extension<ClientAddr>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (client, request_id) = (peer.0, id.0);
    let Ok(request_key) = super::parse::idempotency_key(&headers) else {
        return error(StatusCode::BAD_REQUEST, "invalid-idempotency-key", "1 to 200 visible ASCII characters");
    };
    let (body, body_ticket) = match read_body(&app, peer, id, body).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    let reply = match outbound::parse_request(&body, now_ms()) {
        Ok(reply) => reply,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.code, e.message),
    };
    drop((body, body_ticket));
    let Some(permit) = app.replies.try_admit(client.ip()) else { return busy(app.replies.what()) };
    let worker = app.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let plan = match worker.harness.validate_reply(&reply) {
            Ok(plan) => plan,
            Err(CallError::Invalid(errors)) => return Ok(Err(errors)),
            Err(other) => return Err(anyhow::anyhow!("{:?}", other.to_error_info())),
        };
        let handled =
            worker.outbox.submit_and_send(&worker.harness, &plan, request_key.as_deref(), &worker.config.retry)?;
        Ok(Ok(handled))
    })
    .await;
    let (status, answer) = match outcome {
        Ok(Ok(Ok(handled))) => handled_answer(handled),
        Ok(Ok(Err(errors))) => (StatusCode::UNPROCESSABLE_ENTITY, to_value(&Invalid::new(&errors))),
        Ok(Err(e)) if crate::outbox::is_full(&e) => {
            tracing::warn!(request_id, %client, "the reply queue is full: 503");
            return busy("queued replies");
        }
        Ok(Err(e)) => {
            tracing::error!(request_id, %client, error = %format!("{e:#}"), "reply failed: 500");
            return internal(id, "host-error");
        }
        Err(e) => {
            tracing::error!(request_id, %client, error = %e, "the worker failed: 500");
            return internal(id, "host-error");
        }
    };
    tracing::info!(request_id, %client, status = status.as_u16(), "reply handled");
    (status, Json(answer)).into_response()
}

fn handled_answer(handled: Handled) -> (StatusCode, Value) {
    match handled {
        Handled::Sent { id, settled } => {
            let status = settled.status;
            let mut answer = json!({"ok": status != crate::outbox::ReplyStatus::Failed, "id": id, "status": status,
                "deliveries": settled.report});
            if status == crate::outbox::ReplyStatus::Pending {
                answer["status"] = json!("queued");
                answer["queued"] = json!(id);
                return (StatusCode::ACCEPTED, answer);
            }
            (StatusCode::OK, answer)
        }
        Handled::Found { id, stored } => {
            (StatusCode::OK, stored.map_or_else(|| json!({"id": id}), |stored| to_value(&stored)))
        }
    }
}

fn to_value(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("answers always serialize")
}

async fn reply_status(
    State(app): State<Arc<App>>,
    Extension(peer): Extension<ClientAddr>,
    Extension(id): Extension<RequestId>,
    Path(reply): Path<i64>,
) -> Response {
    let Some(permit) = app.replies.try_admit(peer.0.ip()) else { return busy(app.replies.what()) };
    // The database clients block: off the async workers.
    let worker = app.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        worker.outbox.status(reply)
    })
    .await
    .unwrap_or_else(|_| Err(anyhow::anyhow!("the worker failed")));
    match stored {
        Ok(Some(reply)) => Json(to_value(&reply)).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "not-found", "no such queued reply"),
        Err(e) => {
            tracing::error!(request_id = id.0, client = %peer.0, error = %format!("{e:#}"), "reading a reply's status failed: 500");
            internal(id, "host-error")
        }
    }
}
