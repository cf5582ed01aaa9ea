//! One authorized Graph call for an account: its token in a header (never the URL), its login's host, a JSON
//! body; the answer of a 200, or the failure sorted for the retry (a broken link recorded for expiry). Sends and
//! the Messenger Profile calls share it.

use super::send::{Retry, SendError};
use crate::graph::{self, GraphError};
use crate::ports::{Http, HttpError, HttpRequest, Method, Storage};
use crate::time::TimestampMs;
use serde_json::Value;

/// A send may take longer than a profile lookup: Meta downloads attachments before it answers.
pub const SEND_TIMEOUT_MS: u32 = 10_000;

/// Calls `path` (under the account's versioned base URL) with a JSON `body`; the 200 answer's JSON (null when it is
/// not JSON).
pub(crate) fn authorized(
    storage: &impl Storage,
    http: &impl Http,
    account_id: &str,
    method: Method,
    path: &str,
    body: Option<&[u8]>,
    now: TimestampMs,
) -> Result<Value, SendError> {
    let storage_failed =
        |e| SendError::new("storage-unavailable", format!("storage failed before calling Graph: {e:?}"), Retry::Later);
    let Some(token) = graph::access_token(storage, account_id).map_err(storage_failed)? else {
        return Err(SendError::new(
            "no-access-token",
            "the account has no access token; link (authorize) it first",
            Retry::Reauthorize,
        ));
    };
    let mut headers = vec![("authorization".to_owned(), format!("Bearer {token}"))];
    if body.is_some() {
        headers.push(("content-type".into(), "application/json".into()));
    }
    let request = HttpRequest {
        method,
        url: format!("{}{path}", graph::base_url(storage, account_id).map_err(storage_failed)?),
        headers,
        body: body.unwrap_or_default().to_vec(),
        timeout_ms: Some(SEND_TIMEOUT_MS),
    };
    let response = http.send(&request).map_err(transport_error)?;
    if response.status == 200 {
        return Ok(serde_json::from_slice(&response.body).unwrap_or(Value::Null));
    }
    let Some(graph_error) = GraphError::parse(response.status, &response.body) else {
        let retry = if response.status >= 500 || response.status == 429 { Retry::Later } else { Retry::Never };
        return Err(SendError::new(
            "graph-unavailable",
            format!("Instagram answered HTTP {} without an error body", response.status),
            retry,
        ));
    };
    let verdict = graph::classify(&graph_error);
    graph::record_break(storage, account_id, &graph_error, now);
    Err(SendError {
        error: crate::ConnectorError::new(verdict.code, verdict.explanation),
        retry: verdict.retry,
        graph: Some(graph_error),
    })
}

fn transport_error(error: HttpError) -> SendError {
    match error {
        HttpError::Timeout => SendError::new("graph-timeout", "Instagram did not answer in time", Retry::Later),
        HttpError::Connection(why) => {
            SendError::new("graph-unreachable", format!("could not reach Instagram: {why}"), Retry::Later)
        }
        HttpError::TooLarge(_) => {
            SendError::new("graph-unavailable", "Instagram's answer was larger than allowed", Retry::Later)
        }
        HttpError::Denied(why) => {
            SendError::new("egress-denied", format!("the host refused the request: {why}"), Retry::Never)
        }
        HttpError::InvalidRequest(why) => {
            SendError::new("invalid-request", format!("the request was invalid: {why}"), Retry::Never)
        }
    }
}
