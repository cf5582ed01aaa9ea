//! `POST /api/messages` and `GET /api/messages/{id}`: replies, queued durably and sent at once.

use super::super::answer::error;
use super::super::app::App;
use super::super::conn::{ClientAddr, RequestId};
use super::super::keys::Caller;
use super::super::routes::{busy, internal, read_body};
use super::Scoped;
use crate::clock::now_ms;
use crate::harness::{CallError, Harness};
use crate::outbox::Handled;
use crate::store::activity;
use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use messenger_core::ConnectorError;
use messenger_core::error::codes;
use messenger_core::outbound::{self, Invalid, Reply, WindowSource};
use messenger_core::time::format_rfc3339;
use serde_json::{Value, json};
use std::sync::Arc;

/// Validates and sends a reply; what cannot be sent now but may later is queued durably. The answer is the first
/// attempt's: sent (200), failed for good (200, `ok: false`), or queued for a retry (202); a reply submitted before
/// with the same `Idempotency-Key` answers where it stands (200).
pub(super) async fn reply(
    State(app): State<Arc<App>>,
    scoped: Scoped,
    Extension(caller): Extension<Caller>,
    Extension(peer): Extension<ClientAddr>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (client, request_id) = (peer.0, id.0);
    let Ok(request_key) = super::super::parse::idempotency_key(&headers) else {
        return error(StatusCode::BAD_REQUEST, "invalid-idempotency-key", "1 to 200 visible ASCII characters");
    };
    // Scoped to the API key that made it: another caller's key of the same text is another reply.
    let request_key = request_key.map(|key| scoped_request_key(&caller, &key));
    let (body, body_ticket) = match read_body(&app, peer, id, body).await {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    let Some(permit) = app.replies.try_admit(client.ip()) else { return busy(app.replies.what()) };
    let worker = app.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _held = (permit, body_ticket);
        let (reply, window) = match read_reply(&scoped.harness, &body)? {
            Ok(read) => read,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let plan = match scoped.harness.validate_reply(&reply) {
            Ok(plan) => plan,
            Err(CallError::Invalid(errors)) => return Ok(Err(Refusal::Invalid(errors))),
            Err(other) => return Err(anyhow::anyhow!("{:?}", other.to_error_info())),
        };
        let outbox = worker.outbox_for(&scoped.namespace);
        let handled = outbox.submit_and_send(&scoped.harness, &plan, request_key.as_deref(), &worker.config.retry)?;
        Ok(Ok((handled, window)))
    })
    .await;
    let (status, answer) = match outcome {
        Ok(Ok(Ok((handled, window)))) => {
            let (status, mut answer) = handled_answer(handled);
            if let (Some(window), Some(fields)) = (window, answer.as_object_mut()) {
                fields.insert("window".into(), window);
            }
            (status, answer)
        }
        Ok(Ok(Err(Refusal::BadRequest(e)))) => return error(StatusCode::BAD_REQUEST, &e.code, e.message),
        Ok(Ok(Err(Refusal::Invalid(errors)))) => (StatusCode::UNPROCESSABLE_ENTITY, to_value(&Invalid::new(&errors))),
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
    app.metrics.reply(&answer);
    tracing::info!(request_id, %client, key = %caller.name, status = status.as_u16(), "reply handled");
    (status, Json(answer)).into_response()
}

enum Refusal {
    /// The request is not the REQUEST JSON (400).
    BadRequest(ConnectorError),
    /// The reply cannot go, with every reason (422).
    Invalid(Vec<ConnectorError>),
}

/// Reads the REQUEST on the server's clock, with the customer's last message time from what the connector stored
/// when the request gives none; when it was looked up, what was used (`window`) for the answer.
fn read_reply(harness: &Harness, body: &[u8]) -> anyhow::Result<Result<(Reply, Option<Value>), Refusal>> {
    let (database, namespace) = (harness.database(), harness.namespace());
    let mut failed = None;
    let now = now_ms();
    let parsed = outbound::parse_api_request(body, now, |account, customer| {
        activity::last_customer_message(database, namespace, account, customer).map_err(|e| {
            let refusal = ConnectorError::new(codes::STORAGE_UNAVAILABLE, format!("{e:#}"));
            failed = Some(e);
            refusal
        })
    });
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(match parsed {
        // A reply to a comment is timed by the comment, which the component checks against what it stored.
        Ok((reply, WindowSource::Request | WindowSource::Comment)) => Ok((reply, None)),
        Ok((reply, WindowSource::Traffic)) => {
            let window = json!({"now": format_rfc3339(now), "source": WindowSource::Traffic,
                "last-customer-message-at": format_rfc3339(reply.last_customer_message_at)});
            Ok((reply, Some(window)))
        }
        Err(e) if e.code == codes::UNKNOWN_CUSTOMER => Err(Refusal::Invalid(vec![e])),
        Err(e) => Err(Refusal::BadRequest(e)),
    })
}

/// The stored form of a client's idempotency key: the API key's name and the client's key, unambiguously joined.
fn scoped_request_key(caller: &Caller, key: &str) -> String {
    format!("{}:{}:{key}", caller.name.len(), caller.name)
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

pub(super) async fn reply_status(
    State(app): State<Arc<App>>,
    Scoped { namespace, .. }: Scoped,
    Extension(peer): Extension<ClientAddr>,
    Extension(id): Extension<RequestId>,
    Path(reply): Path<i64>,
) -> Response {
    let Some(permit) = app.replies.try_admit(peer.0.ip()) else { return busy(app.replies.what()) };
    // The database clients block: off the async workers.
    let worker = app.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        worker.outbox_for(&namespace).status(reply)
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
