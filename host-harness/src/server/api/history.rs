//! `/api/accounts/{id}/history`: history on demand (an account's recent conversations, or one customer's to fill a
//! gap), run in the background at Meta's rate, and its progress.

use super::App;
use super::{OptionalJsonBody, Scoped, blocking, error};
use crate::clock::now_ms;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;

/// What to bring in: the whole account (no body, or `{}`), or one customer's conversation.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct HistoryBody {
    /// The customer (IGSID) whose conversation is read, to fill a gap; the whole account when left out.
    customer_id: Option<String>,
}

/// `POST /api/accounts/{id}/history`: starts (or restarts) a backfill and answers 202 with its progress at once;
/// the steps run in the background, each step's events committed as it goes.
pub(super) async fn start(
    State(app): State<Arc<App>>,
    Scoped { harness, .. }: Scoped,
    Path(account): Path<String>,
    // The body is optional: none (or `{}`) brings in the whole account.
    OptionalJsonBody(request): OptionalJsonBody<HistoryBody>,
) -> Response {
    let started = {
        let (harness, account) = (harness.clone(), account.clone());
        blocking(move || harness.start_backfill(&account, request.customer_id.as_deref(), now_ms())).await
    };
    match started {
        Ok(progress) => {
            app.backfill_in_background(harness, vec![account], false);
            (StatusCode::ACCEPTED, Json(progress)).into_response()
        }
        Err(refusal) => refusal,
    }
}

/// `GET /api/accounts/{id}/history`: the account's backfill progress; 404 `no-backfill` when none was started.
pub(super) async fn progress(Scoped { harness, .. }: Scoped, Path(account): Path<String>) -> Response {
    match blocking(move || harness.backfill_progress(&account)).await {
        Ok(Some(progress)) => Json(progress).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "no-backfill", "no backfill was started for this account"),
        Err(refusal) => refusal,
    }
}
