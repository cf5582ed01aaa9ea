//! `GET` and `PUT /api/settings?channel=`: a channel's own settings (owners told of expiring or broken links, the
//! notices' language). What a channel leaves unset falls back to the deployment's (`owners`, `language`).

use super::super::answer::error;
use super::super::app::App;
use super::{JsonBody, Scoped};
use crate::store::channels::{self, ChannelSettings};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

/// The channel's settings: its own, and what is in effect.
pub(super) async fn get(State(app): State<Arc<App>>, Scoped { namespace, .. }: Scoped) -> Response {
    let database = app.harness.database().clone();
    let stored = tokio::task::spawn_blocking(move || channels::settings(&database, &namespace)).await;
    match stored {
        Ok(Ok(own)) => Json(answer(&app, own)).into_response(),
        Ok(Err(e)) => failed(e),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", "the worker failed"),
    }
}

/// Replaces the channel's own settings (a field left out is unset, so the deployment's applies).
pub(super) async fn put(
    State(app): State<Arc<App>>,
    Scoped { namespace, .. }: Scoped,
    JsonBody(settings): JsonBody<ChannelSettings>,
) -> Response {
    let problems = settings.problems();
    if !problems.is_empty() {
        return error(StatusCode::BAD_REQUEST, "invalid-settings", problems.join("; "));
    }
    let (database, stored) = (app.harness.database().clone(), settings.clone());
    match tokio::task::spawn_blocking(move || channels::set_settings(&database, &namespace, &stored)).await {
        Ok(Ok(())) => Json(answer(&app, settings)).into_response(),
        Ok(Err(e)) => failed(e),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", "the worker failed"),
    }
}

fn answer(app: &App, own: ChannelSettings) -> serde_json::Value {
    let effective = app.effective_settings(&own);
    json!({"settings": own, "effective": effective})
}

fn failed(e: anyhow::Error) -> Response {
    tracing::error!(error = %format!("{e:#}"), "channel settings: 500");
    error(StatusCode::INTERNAL_SERVER_ERROR, "storage-unavailable", "the store could not be reached")
}
