//! `GET /metrics` (Prometheus text) and the layer that times every request by its route.

use super::app::App;
use crate::store::feed;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{Encoder, TextEncoder};
use std::sync::Arc;
use std::time::Instant;

/// `GET /metrics`, and every route of `router` timed.
pub(super) fn router(app: Arc<App>) -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(scrape)).with_state(app)
}

/// Times every request by its route (the pattern, never the path with its ids).
pub(super) async fn track(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    app.metrics.latency.with_label_values(&[&route, &method, &status]).observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub(super) async fn scrape(State(app): State<Arc<App>>) -> Response {
    let reader = app.clone();
    let depths = tokio::task::spawn_blocking(move || {
        let (database, namespace) = (reader.harness.database(), reader.harness.namespace());
        let queued = reader.outbox.pending_count()?;
        let forwarded = match &reader.forwarder {
            Some(_) => {
                let after = super::forward::stored_cursor(database, namespace)?;
                feed::read(database, namespace, after, 1000)?.len() as i64
            }
            None => 0,
        };
        anyhow::Ok((queued, forwarded))
    })
    .await;
    if let Ok(Ok((queued, forwarded))) = depths {
        app.metrics.queue_depth.set(i64::try_from(queued).unwrap_or(i64::MAX));
        app.metrics.forward_depth.set(forwarded);
    }
    let (groups, calls) = app.harness.database().group_counts();
    app.metrics.commit_groups.set(i64::try_from(groups).unwrap_or(i64::MAX));
    app.metrics.grouped_calls.set(i64::try_from(calls).unwrap_or(i64::MAX));
    let mut text = Vec::new();
    let _ = TextEncoder::new().encode(&app.metrics.registry.gather(), &mut text);
    ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], text).into_response()
}
