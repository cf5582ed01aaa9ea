//! A cheap check of an account's token, so that a break (a revoked token, a changed password, a permission taken
//! back) is found by the scheduler before the next send meets it.

use crate::error::ConnectorError;
use crate::graph::GraphError;
use crate::keys;
use crate::outbound::authorized;
use crate::ports::{Http, Method, Storage};
use crate::time::TimestampMs;

/// Asks Graph who the token is (`GET /me?fields=id`). A Graph error that breaks the link is recorded at `now`, as a
/// send records it, and returned; None when the token works or Graph could not be reached (a transport failure says
/// nothing about the token).
pub fn probe_token(
    account_id: &str,
    now: TimestampMs,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<Option<GraphError>, ConnectorError> {
    if !keys::is_valid_id(account_id) {
        return Err(ConnectorError::new(crate::codes::INVALID_ACCOUNT_ID, "the account id is not an Instagram id"));
    }
    match authorized(storage, http, account_id, Method::Get, "/me?fields=id", None, now) {
        Ok(_) => Ok(None),
        Err(failure) if failure.error.code == "no-access-token" => Err(failure.error),
        // `authorized` recorded the break already; only errors that break the link are reported.
        Err(failure) => Ok(failure.graph.filter(|g| crate::graph::classify(g).breaks_link)),
    }
}
