//! `GET /api/events?after=&limit=&wait=&channel=`: the channel's stored events in commit order, after an opaque
//! cursor; with `wait`, the request is held until an event arrives or the wait ends.

use super::super::answer::error;
use super::super::app::App;
use super::{Scoped, bad_query};
use crate::store::feed::{self, Position};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The most events one page holds, and the default.
pub const MAX_LIMIT: usize = 1000;
pub const DEFAULT_LIMIT: usize = 100;
/// The longest a request may wait, in seconds: under the server's 60 s answer deadline.
pub const MAX_WAIT_S: u64 = 50;

/// The feed's parameters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct FeedQuery {
    /// A cursor the feed handed out (`next`, or an event's `cursor`); the start when empty or left out.
    after: Option<String>,
    /// At most this many events, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// Seconds to hold the request until an event commits, 0 to 60 (default 0).
    #[param(maximum = 60)]
    wait: Option<u64>,
}

pub(super) async fn events(
    State(app): State<Arc<App>>,
    Scoped { namespace, .. }: Scoped,
    query: Result<Query<FeedQuery>, QueryRejection>,
) -> Response {
    let Query(query) = match query {
        Ok(query) => query,
        Err(rejection) => return bad_query(rejection),
    };
    let after = match query.after.as_deref().filter(|a| !a.is_empty()) {
        None => Position::START,
        Some(cursor) => match Position::from_cursor(cursor) {
            Some(position) => position,
            None => return error(StatusCode::BAD_REQUEST, "invalid-cursor", "not a cursor this feed handed out"),
        },
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return error(StatusCode::BAD_REQUEST, "invalid-argument", format!("limit is 1 to {MAX_LIMIT}"));
    }
    let wait = query.wait.unwrap_or(0);
    if wait > MAX_WAIT_S {
        return error(StatusCode::BAD_REQUEST, "invalid-argument", format!("wait is 0 to {MAX_WAIT_S} seconds"));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        // Subscribed before reading: a commit after the read still wakes this request.
        let mut committed = app.committed.subscribe();
        let (database, ns) = (app.harness.database().clone(), namespace.clone());
        let page = tokio::task::spawn_blocking(move || feed::read(&database, &ns, after, limit)).await;
        let page = match page {
            Ok(Ok(page)) => page,
            Ok(Err(e)) => {
                tracing::error!(error = %format!("{e:#}"), "reading the feed failed: 500");
                return error(StatusCode::INTERNAL_SERVER_ERROR, "storage-unavailable", "the store could not be read");
            }
            Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "host-error", "the worker failed"),
        };
        let now = tokio::time::Instant::now();
        if !page.is_empty() || now >= deadline {
            let next = page.last().map_or(after, |e| e.position).to_cursor();
            let events: Vec<_> = page.iter().map(feed::FeedEvent::to_json).collect();
            return Json(json!({"events": events, "next": next})).into_response();
        }
        let _ = tokio::time::timeout((deadline - now).min(app.config.feed_poll), committed.changed()).await;
    }
}
