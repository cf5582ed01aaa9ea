//! The routes: each maps a harness or outbox result to its HTTP answer.

use super::app::App;
use crate::clock::now_ms;
use crate::harness::CallError;
use crate::outbox::Handled;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use messenger_core::inbound::{Delivery, TranslateOptions};
use messenger_core::outbound::{self, Invalid};
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/webhooks/instagram", get(handshake).post(webhook))
        .route("/api/messages", post(reply))
        .route("/api/messages/{id}", get(reply_status))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(messenger_core::inbound::MAX_BODY_BYTES))
        .with_state(app)
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message.into()}}))).into_response()
}

async fn handshake(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let Some(expected) = app.config.verify_token.clone() else {
        tracing::warn!("a verification request came, but no verify token is configured (MESSENGER_VERIFY_TOKEN)");
        return StatusCode::FORBIDDEN.into_response();
    };
    let request = messenger_core::handshake::from_query(query.as_deref().unwrap_or(""));
    let harness = app.harness.clone();
    match tokio::task::spawn_blocking(move || harness.verify_subscription(&request, &expected)).await {
        Ok(Ok(challenge)) => ([(header::CONTENT_TYPE, "text/plain")], challenge).into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

async fn webhook(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let request_id = app.next_request_id();
    let Ok(permit) = app.permits.clone().try_acquire_owned() else {
        tracing::warn!(request_id, "queue full: 503, Meta will deliver again");
        return error(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many deliveries in flight; retry");
    };
    let Some(app_secret) = app.config.app_secret.clone() else {
        tracing::error!(request_id, "a delivery came, but no app secret is configured (MESSENGER_APP_SECRET): refused");
        return error(
            StatusCode::UNAUTHORIZED,
            "bad-signature",
            "the server has no app secret to verify deliveries with",
        );
    };
    let headers = headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let delivery = Delivery { headers, body: body.to_vec(), received_at: now_ms() };
    let harness = app.harness.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        harness.translate_recorded(&delivery, &TranslateOptions { app_secret, filters: None })
    })
    .await;
    match outcome {
        Ok(Ok(events)) => {
            tracing::info!(request_id, events = events.len(), "delivery committed");
            (StatusCode::OK, "EVENT_RECEIVED").into_response()
        }
        Ok(Err(CallError::Rejected(e))) if e.code == "bad-signature" => {
            tracing::warn!(request_id, "bad signature: 401, nothing stored");
            error(StatusCode::UNAUTHORIZED, &e.code, e.message)
        }
        Ok(Err(CallError::Rejected(e))) if e.code != messenger_core::codes::STORAGE_UNAVAILABLE => {
            tracing::warn!(request_id, code = %e.code, "refused delivery");
            error(StatusCode::BAD_REQUEST, &e.code, e.message)
        }
        Ok(Err(other)) => {
            let info = other.to_error_info();
            tracing::error!(request_id, code = %info.code, "delivery not stored: 500, Meta will deliver again");
            error(StatusCode::INTERNAL_SERVER_ERROR, &info.code, info.message)
        }
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", "the worker failed"),
    }
}

/// Validates and sends a reply; what cannot be sent now but may later is queued durably. The answer is the first
/// attempt's: sent (200), failed for good (200, `ok: false`), or queued for a retry (202); a reply submitted before
/// with the same `Idempotency-Key` answers where it stands (200).
async fn reply(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let request_id = app.next_request_id();
    let request_key = match headers.get("idempotency-key").map(|key| key.to_str()) {
        None => None,
        Some(Ok(key)) if !key.is_empty() && key.len() <= 200 => Some(key.to_owned()),
        Some(_) => {
            return error(StatusCode::BAD_REQUEST, "invalid-idempotency-key", "1 to 200 visible ASCII characters");
        }
    };
    let reply = match outbound::parse_request(&body, now_ms()) {
        Ok(reply) => reply,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.code, e.message),
    };
    let Ok(permit) = app.permits.clone().try_acquire_owned() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many requests in flight; retry");
    };
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
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", format!("{e:#}")),
        Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", "the worker failed"),
    };
    tracing::info!(request_id, status = status.as_u16(), "reply handled");
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

async fn reply_status(State(app): State<Arc<App>>, Path(id): Path<i64>) -> Response {
    // The database clients block: off the async workers.
    let stored = tokio::task::spawn_blocking(move || app.outbox.status(id))
        .await
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the worker failed")));
    match stored {
        Ok(Some(reply)) => Json(to_value(&reply)).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "not-found", "no such queued reply"),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", format!("{e:#}")),
    }
}
