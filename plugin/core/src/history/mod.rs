//! History on link: an account's recent conversations (or one customer's, to fill a gap) brought in through the
//! Conversations API as inbox events marked `backfill`. It runs in steps, one Graph request each, so that the host
//! paces them at Meta's rate and commits each step's events; the cursor lives in storage, so a Graph error stops
//! it where it was and the next step resumes there. Each message is deduplicated against what webhooks delivered
//! (the same `seen/mid` mark), so a later webhook of a backfilled message is a `duplicate`.

mod graph_messages;

use crate::error::ConnectorError;
use crate::events::InboxEvent;
use crate::keys;
use crate::outbound::authorized;
use crate::ports::{Http, Method, Storage, StorageError};
use crate::time::{SECOND_MS, TimestampMs};
use serde::{Deserialize, Serialize};

/// Meta's limit for the Conversations API: 2 calls a second per account.
pub const CALLS_PER_SECOND: u64 = 2;
/// How many conversations one backfill lists (the most recently updated; Meta pages them 25 at a time).
pub const CONVERSATIONS: u32 = 25;
/// Only the 20 newest messages of a conversation can be read in detail.
pub const MESSAGES_PER_CONVERSATION: u32 = 20;

/// Codes of a refused backfill call.
pub mod codes {
    /// No backfill was started for the account.
    pub const NO_BACKFILL: &str = "no-backfill";
    /// The account has no token to call Graph with.
    pub const NO_ACCESS_TOKEN: &str = "no-access-token";
}

/// Where a backfill is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum BackfillState {
    Running,
    Done,
    Failed,
}

/// How far an account's backfill got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub struct BackfillProgress {
    pub account_id: String,
    /// The one customer whose conversation is read (a gap fill); none for the whole account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    pub state: BackfillState,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(serialize_with = "crate::time::serialize")]
    pub started_at: TimestampMs,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(serialize_with = "crate::time::serialize")]
    pub updated_at: TimestampMs,
    pub conversations_total: u32,
    pub conversations_done: u32,
    pub messages_imported: u32,
    /// Why the last step stopped; the next step resumes where it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ConnectorError>,
}

/// What one step brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillBatch {
    pub events: Vec<InboxEvent>,
    pub progress: BackfillProgress,
    pub graph_calls: u32,
    pub next_step_after_ms: u64,
}

/// The stored cursor: the conversations listed (None until they are) and how many were read.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor {
    customer_id: Option<String>,
    started_at: TimestampMs,
    updated_at: TimestampMs,
    conversations: Option<Vec<String>>,
    done: u32,
    imported: u32,
    error: Option<ConnectorError>,
}

impl Cursor {
    fn progress(&self, account_id: &str) -> BackfillProgress {
        let total = self.conversations.as_ref().map_or(0, |c| c.len() as u32);
        let state = match (&self.error, &self.conversations) {
            (Some(_), _) => BackfillState::Failed,
            (None, Some(_)) if self.done >= total => BackfillState::Done,
            _ => BackfillState::Running,
        };
        BackfillProgress {
            account_id: account_id.to_owned(),
            customer_id: self.customer_id.clone(),
            state,
            started_at: self.started_at,
            updated_at: self.updated_at,
            conversations_total: total,
            conversations_done: self.done,
            messages_imported: self.imported,
            error: self.error.clone(),
        }
    }
}

fn load(storage: &impl Storage, account_id: &str) -> Result<Option<Cursor>, StorageError> {
    Ok(storage.get(&keys::backfill(account_id))?.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

fn save(storage: &impl Storage, account_id: &str, cursor: &Cursor) -> Result<(), StorageError> {
    storage.set(&keys::backfill(account_id), &serde_json::to_vec(cursor).expect("a cursor serializes"))
}

/// Starts (or restarts) a backfill of the account, or of one customer's conversation.
pub fn start(
    account_id: &str,
    customer_id: Option<&str>,
    now: TimestampMs,
    storage: &impl Storage,
) -> Result<BackfillProgress, ConnectorError> {
    if !keys::is_valid_id(account_id) {
        return Err(ConnectorError::new(crate::codes::INVALID_ACCOUNT_ID, "the account id is not an Instagram id"));
    }
    if customer_id.is_some_and(|id| !keys::is_valid_id(id)) {
        let code = crate::outbound::codes::INVALID_CUSTOMER_ID;
        return Err(ConnectorError::new(code, "the customer id is not an Instagram-scoped id"));
    }
    if crate::graph::access_token(storage, account_id)?.is_none() {
        return Err(ConnectorError::new(codes::NO_ACCESS_TOKEN, "the account has no access token; link it first"));
    }
    let cursor = Cursor {
        customer_id: customer_id.map(str::to_owned),
        started_at: now,
        updated_at: now,
        conversations: None,
        done: 0,
        imported: 0,
        error: None,
    };
    save(storage, account_id, &cursor)?;
    Ok(cursor.progress(account_id))
}

/// The account's backfill progress, if one was started.
pub fn progress(account_id: &str, storage: &impl Storage) -> Result<Option<BackfillProgress>, ConnectorError> {
    Ok(load(storage, account_id)?.map(|cursor| cursor.progress(account_id)))
}

/// Runs the next step: lists the conversations first, then reads one conversation a step. A Graph error stops the
/// backfill where it was (state `failed`, kept in storage); the next step tries the same request again.
pub fn step(
    account_id: &str,
    now: TimestampMs,
    storage: &impl Storage,
    http: &impl Http,
) -> Result<BackfillBatch, ConnectorError> {
    let Some(mut cursor) = load(storage, account_id)? else {
        return Err(ConnectorError::new(codes::NO_BACKFILL, "no backfill was started for this account"));
    };
    let mut events = Vec::new();
    let listed = cursor.conversations.clone();
    let request = match &listed {
        None => Some(list_path(cursor.customer_id.as_deref())),
        Some(ids) => ids.get(cursor.done as usize).map(|id| conversation_path(id)),
    };
    let Some(path) = request else {
        return Ok(BackfillBatch {
            events,
            progress: cursor.progress(account_id),
            graph_calls: 0,
            next_step_after_ms: 0,
        });
    };
    cursor.updated_at = now;
    match authorized(storage, http, account_id, Method::Get, &path, None, now) {
        Err(failure) => cursor.error = Some(failure.error),
        Ok(answer) if listed.is_none() => {
            cursor.conversations = Some(graph_messages::conversations(&answer));
            cursor.error = None;
        }
        Ok(answer) => {
            events = graph_messages::import(account_id, &answer, storage)?;
            cursor.imported += events.len() as u32;
            cursor.done += 1;
            cursor.error = None;
        }
    }
    save(storage, account_id, &cursor)?;
    let progress = cursor.progress(account_id);
    Ok(BackfillBatch { events, progress, graph_calls: 1, next_step_after_ms: SECOND_MS / CALLS_PER_SECOND })
}

/// The most recently updated conversations of the account (or the customer's one).
fn list_path(customer_id: Option<&str>) -> String {
    let customer = customer_id.map(|id| format!("&user_id={id}")).unwrap_or_default();
    format!("/me/conversations?platform=instagram&fields=id,updated_time&limit={CONVERSATIONS}{customer}")
}

/// A conversation's newest messages with their details, in one request (nested expansion).
fn conversation_path(conversation_id: &str) -> String {
    let fields = "id,created_time,from,to,message,attachments";
    format!("/{conversation_id}?fields=messages.limit({MESSAGES_PER_CONVERSATION}){{{fields}}}")
}
