//! The routes: each maps a harness or outbox result to its HTTP answer.

use super::app::App;
use crate::clock::now_ms;
use crate::harness::CallError;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use messenger_core::inbound::{Delivery, TranslateOptions};
use serde_json::json;
use std::sync::Arc;

pub(super) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/webhooks/instagram", get(handshake).post(webhook))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(messenger_core::inbound::MAX_BODY_BYTES))
        .with_state(app)
}

pub(super) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
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
        app.metrics.delivery("busy", &[]);
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
            app.events_committed();
            app.metrics.delivery("committed", &events);
            (StatusCode::OK, "EVENT_RECEIVED").into_response()
        }
        Ok(Err(CallError::Rejected(e))) if e.code == "bad-signature" => {
            tracing::warn!(request_id, "bad signature: 401, nothing stored");
            app.metrics.delivery("bad-signature", &[]);
            error(StatusCode::UNAUTHORIZED, &e.code, e.message)
        }
        Ok(Err(CallError::Rejected(e))) if e.code != messenger_core::codes::STORAGE_UNAVAILABLE => {
            tracing::warn!(request_id, code = %e.code, "refused delivery");
            app.metrics.delivery("refused", &[]);
            error(StatusCode::BAD_REQUEST, &e.code, e.message)
        }
        Ok(Err(other)) => {
            if matches!(other, CallError::PluginFault(_)) {
                app.metrics.plugin_faults.inc();
            }
            app.metrics.delivery(if matches!(other, CallError::PluginFault(_)) { "fault" } else { "error" }, &[]);
            let info = other.to_error_info();
            tracing::error!(request_id, code = %info.code, "delivery not stored: 500, Meta will deliver again");
            error(StatusCode::INTERNAL_SERVER_ERROR, &info.code, info.message)
        }
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", "the worker failed"),
    }
}
