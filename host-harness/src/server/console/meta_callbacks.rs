//! The callbacks Meta's app review requires, each verifying Meta's `signed_request` with the app secret first:
//! deauthorize (`POST /meta/deauthorize`: the person removed the app, so their links are marked broken and the
//! owners told at once) and data deletion (`POST /meta/data-deletion`: every account the person linked is
//! forgotten, with what the host kept of it, and Meta gets `{"url","confirmation_code"}`, the URL a status page,
//! `GET /meta/data-deletion/{code}`).

use super::super::answer::error;
use super::records::Records;
use super::visit::Visit;
use crate::clock::now_ms;
use axum::Json;
use axum::body::Body;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use messenger_core::signed_request::{self, SignedRequest};
use messenger_core::time::{DAY_MS, format_rfc3339};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How long a deletion's status page answers.
const DELETION_KEPT_MS: u64 = 365 * DAY_MS;

/// A data deletion request, as its status page shows it.
#[derive(Serialize, Deserialize)]
struct Deletion {
    at: u64,
    accounts: usize,
}

/// `POST /meta/deauthorize`.
pub(super) async fn deauthorize(visit: Visit, body: Body) -> Response {
    let request = match verified(&visit, body).await {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let (worker, peer) = (visit.app.clone(), visit.peer);
    let marked = tokio::task::spawn_blocking(move || {
        let now = now_ms();
        let mut marked = 0;
        for namespace in worker.channels() {
            let Some(harness) = worker.harness_for(&namespace) else { continue };
            let accounts = harness.deauthorize(&request.user_id, now).map_err(|e| e.to_error_info())?;
            if !accounts.is_empty() {
                super::super::background::tell_owners(&worker, &namespace, &accounts);
            }
            marked += accounts.len();
        }
        Ok::<_, messenger_core::ConnectorError>(marked)
    })
    .await;
    match marked {
        Ok(Ok(marked)) => {
            tracing::info!(client = %peer.0, accounts = marked, "Meta said a person removed the app: links marked broken");
            Json(json!({"deauthorized": marked})).into_response()
        }
        Ok(Err(e)) => failed(&e.code, &e.message),
        Err(_) => failed("host-error", "the worker failed"),
    }
}

/// `POST /meta/data-deletion`.
pub(super) async fn data_deletion(visit: Visit, body: Body) -> Response {
    let request = match verified(&visit, body).await {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let (app, worker, peer) = (&visit.app, visit.app.clone(), visit.peer);
    let done = tokio::task::spawn_blocking(move || {
        let mut forgotten = 0;
        for namespace in worker.channels() {
            let Some(harness) = worker.harness_for(&namespace) else { continue };
            forgotten +=
                harness.forget_person(&request.user_id).map_err(|e| anyhow::anyhow!("{:?}", e.to_error_info()))?.len();
        }
        let deletion = Deletion { at: now_ms(), accounts: forgotten };
        let code = Records::new(worker.harness.database(), "deletion").put(now_ms() + DELETION_KEPT_MS, &deletion)?;
        anyhow::Ok((code, forgotten))
    })
    .await;
    match done {
        Ok(Ok((code, forgotten))) => {
            tracing::info!(client = %peer.0, accounts = forgotten, "Meta asked for a person's data to be deleted: deleted");
            let base = app.console.public_url.as_deref().unwrap_or("").trim_end_matches('/');
            Json(json!({"url": format!("{base}/meta/data-deletion/{code}"), "confirmation_code": code})).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %format!("{e:#}"), "a data deletion failed: 500, Meta will ask again");
            failed("storage-unavailable", "the deletion could not be completed; retry")
        }
        Err(_) => failed("host-error", "the worker failed"),
    }
}

/// `GET /meta/data-deletion/{code}`: the status of a deletion, as a page in the person's language.
pub(super) async fn deletion_status(visit: Visit, Path(code): Path<String>) -> Response {
    let records = Records::new(visit.app.harness.database(), "deletion");
    let lookup = code.clone();
    match tokio::task::spawn_blocking(move || records.get::<Deletion>(&lookup)).await {
        Ok(Ok(Some(deletion))) => {
            let details = format!("{code} · {}", format_rfc3339(deletion.at));
            visit.message(StatusCode::OK, "deletion_title", "deletion_body", Some(&details))
        }
        Ok(Ok(None)) => visit.message(StatusCode::NOT_FOUND, "deletion_title", "deletion_unknown_body", None),
        _ => visit.failed("reading a deletion's status"),
    }
}

/// The `signed_request` of a form body, verified with the app secret; else a JSON refusal (400 malformed, 401 not
/// Meta's), with nothing done.
async fn verified(visit: &Visit, body: Body) -> Result<SignedRequest, Response> {
    let Some(secret) = visit.app.config.app_secret.clone() else {
        tracing::error!("a Meta callback came, but no app secret is configured (MESSENGER_APP_SECRET): refused");
        return Err(error(StatusCode::UNAUTHORIZED, "bad-signature", "the server has no app secret to verify with"));
    };
    let form = visit.form(body).await?;
    let Some(signed) = form.get("signed_request") else {
        return Err(error(StatusCode::BAD_REQUEST, "malformed-payload", "the form has no signed_request"));
    };
    signed_request::verify(secret.as_bytes(), signed).map_err(|e| {
        tracing::warn!(client = %visit.peer.0, code = %e.code, "a Meta callback with a bad signed_request: refused");
        let status = if e.code == messenger_core::codes::BAD_SIGNATURE {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        error(status, &e.code, e.message)
    })
}

/// A 500 for Meta, which calls again.
fn failed(code: &str, message: &str) -> Response {
    tracing::error!(code, message, "a Meta callback failed: 500");
    error(StatusCode::INTERNAL_SERVER_ERROR, code, "the request could not be completed; retry")
}
