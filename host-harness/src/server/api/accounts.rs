//! `/api/accounts`: the channel's accounts, listed with their state, and changed through the same harness calls as
//! the CLI's `accounts` and `filters` commands.

use super::App;
use super::{JsonBody, Scoped, blocking, json_answer};
use crate::clock::now_ms;
use crate::harness::{FilterChange, Selection};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// The accounts the channel should have, exactly; dropping a linked one needs `confirm-drop`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(super) struct SelectBody {
    accounts: Vec<String>,
    #[serde(default)]
    confirm_drop: bool,
}

/// `GET /api/accounts`: every account with its state, expiry, representative, filters and last webhook.
pub(super) async fn list(Scoped { harness, .. }: Scoped) -> Response {
    match blocking(move || harness.account_overview(now_ms())).await {
        Ok(accounts) => Json(json!({"accounts": accounts})).into_response(),
        Err(refusal) => refusal,
    }
}

/// `POST /api/accounts/plan`: what selecting exactly these accounts would add, keep and drop.
pub(super) async fn plan(Scoped { harness, .. }: Scoped, JsonBody(request): JsonBody<SelectBody>) -> Response {
    json_answer(blocking(move || harness.select_accounts(&request.accounts, false)).await)
}

/// `POST /api/accounts/select`: makes the channel's accounts exactly these; a drop needs `confirm-drop` (409).
/// Each account it adds gets its history brought in, in the background.
pub(super) async fn select(
    State(app): State<Arc<App>>,
    Scoped { harness, .. }: Scoped,
    JsonBody(request): JsonBody<SelectBody>,
) -> Response {
    let selecting = harness.clone();
    match blocking(move || selecting.select_confirmed(&request.accounts, request.confirm_drop)).await {
        Ok(Selection::Applied(change)) => {
            app.backfill_in_background(harness, change.added.clone(), true);
            Json(change).into_response()
        }
        Ok(Selection::Refused(plan)) => (StatusCode::CONFLICT, Json(Selection::refusal(&plan))).into_response(),
        Err(refusal) => refusal,
    }
}

/// `PUT /api/accounts/{id}/representative` marks it; `DELETE` clears the channel's representative.
pub(super) async fn representative(Scoped { harness, .. }: Scoped, Path(account): Path<String>) -> Response {
    json_answer(blocking(move || harness.representative_json(Some(&account))).await)
}

pub(super) async fn clear_representative(Scoped { harness, .. }: Scoped) -> Response {
    json_answer(blocking(move || harness.representative_json(None)).await)
}

/// `PUT /api/accounts/{id}/filters`: changes the filters given, and answers all of them.
pub(super) async fn filters(
    Scoped { harness, .. }: Scoped,
    Path(account): Path<String>,
    JsonBody(request): JsonBody<FilterChange>,
) -> Response {
    let changed = blocking(move || {
        let filters = harness.change_filters(&account, request)?;
        Ok(crate::harness::Harness::filters_json(&account, filters))
    });
    json_answer(changed.await)
}

/// `POST /api/accounts/{id}/refresh`: refreshes an Instagram Login account's token now.
pub(super) async fn refresh(Scoped { harness, .. }: Scoped, Path(account): Path<String>) -> Response {
    json_answer(blocking(move || harness.refresh_json(&account, now_ms())).await)
}
