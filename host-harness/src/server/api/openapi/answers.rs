//! The answers the handlers build as JSON by hand, as schema-only types: each mirrors one `json!` of a handler
//! (named beside it), and `tests/tests/api_openapi.rs` checks real answers against them. Never built: they only
//! describe. The shared refusals (`Unauthorized`, `Busy`, ...) are reusable responses of the document.

#![expect(dead_code, reason = "schema-only types: only their derived schemas are used")]

use crate::harness::{AccountOverview, FilterFields};
use crate::outbox::{ReportLine, StoredReply};
use crate::store::channels::ChannelSettings;
use messenger_core::ConnectorError;
use messenger_core::accounts::SelectionChange;
use messenger_core::events::InboxEvent;
use messenger_core::expiry::Reason;
use messenger_core::outbound::WindowSource;
use utoipa::openapi::{Object, ObjectBuilder, Type};
use utoipa::{IntoResponses, ToResponse, ToSchema};

/// Every refusal and failure: a stable `code` and a `message` for people.
// Built by `answer::error`.
#[derive(ToSchema)]
pub(super) struct ErrorAnswer {
    error: ConnectorError,
}

/// No valid `Authorization: Bearer <API key>` (`unauthorized`); nothing was done.
#[derive(ToResponse)]
#[response(headers(("WWW-Authenticate" = String, description = "`Bearer`")))]
pub(super) struct Unauthorized(ErrorAnswer);

/// Refused (`invalid-argument`, `invalid-channel`, ...); nothing was done.
#[derive(ToResponse)]
pub(super) struct Refused(ErrorAnswer);

/// The API key is bound to another channel (`forbidden-channel`).
#[derive(ToResponse)]
pub(super) struct ForbiddenChannel(ErrorAnswer);

/// No such account or reply (`not-found`, `unknown-account`, ...).
#[derive(ToResponse)]
pub(super) struct NotFound(ErrorAnswer);

/// The server failed (`host-error`, `storage-unavailable`, ...); its log has the cause under the answer's
/// `x-request-id`.
#[derive(ToResponse)]
pub(super) struct Failed(ErrorAnswer);

/// Too much in flight (`busy`); nothing was done: retry.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = u32, description = "Seconds to wait")))]
pub(super) struct Busy(ErrorAnswer);

/// The refusals every channel operation under `/api/*` may answer: bad input, no valid key, another channel's key,
/// a failure; each a reference to the shared response above.
#[derive(IntoResponses)]
pub(super) enum ChannelRefusals {
    #[response(status = 400)]
    Refused(#[ref_response] Refused),
    #[response(status = 401)]
    Unauthorized(#[ref_response] Unauthorized),
    #[response(status = 403)]
    ForbiddenChannel(#[ref_response] ForbiddenChannel),
    #[response(status = 500)]
    Failed(#[ref_response] Failed),
}

/// The channel's accounts.
// Built by `accounts::list`.
#[derive(ToSchema)]
pub(super) struct AccountList {
    accounts: Vec<AccountOverview>,
}

/// A selection refused: what it would have done, and why not.
// Built by `Selection::refusal`.
#[derive(ToSchema)]
pub(super) struct SelectionRefused {
    #[serde(flatten)]
    change: SelectionChange,
    /// `selection-drops-accounts`, with the plan's warning.
    error: ConnectorError,
}

/// The channel's representative after the change.
// Built by `Harness::representative_json`.
#[derive(ToSchema)]
pub(super) struct RepresentativeAnswer {
    /// The channel's representative account now; null once cleared.
    #[schema(required)]
    representative: Option<String>,
}

/// Every filter of the account, as it is now.
// Built by `Harness::filters_json`.
#[derive(ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) struct FiltersAnswer {
    account_id: String,
    #[serde(flatten)]
    filters: FilterFields,
}

/// The account's refreshed token expiry.
// Built by `Harness::refresh_json`.
#[derive(ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) struct Refreshed {
    account_id: String,
    #[schema(format = DateTime)]
    token_expires_at: String,
}

/// A page of the feed: events in commit order, and the cursor to pass back as `after`.
// Built by `feed::events`.
#[derive(ToSchema)]
pub(super) struct FeedPage {
    events: Vec<FeedEvent>,
    next: String,
}

/// One event of the feed and of the push: a stored event with its `cursor`.
// Built by `FeedEvent::to_json`.
#[derive(ToSchema)]
pub(super) struct FeedEvent {
    /// Opaque; a push receiver dedups on it.
    cursor: String,
    /// The channel the event belongs to.
    channel: String,
    #[serde(flatten)]
    event: StoredEvent,
}

/// What the feed stores: an inbox event, or an owner notice of the expiry scheduler.
#[derive(ToSchema)]
#[serde(untagged)]
pub(super) enum StoredEvent {
    /// Boxed: an inbox event (comments and ad referrals since 0.3.0) is far larger than a notice.
    Inbox(Box<InboxEvent>),
    Notice(OwnerNotice),
}

/// An account's link needs its owners' attention; stored once per notice period.
// Built by `background::run_expiry`.
#[derive(ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) struct OwnerNotice {
    account_id: String,
    #[schema(schema_with = owner_notice)]
    kind: String,
    /// Whom to tell.
    notify: Vec<String>,
    /// The notice's text, in the configured language.
    #[schema(required)]
    notice: Option<String>,
    #[schema(required)]
    reason: Option<Reason>,
    #[schema(format = DateTime)]
    expires_at: String,
}

/// `kind` of an owner notice.
fn owner_notice() -> Object {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["owner-notice"])).build()
}

/// A reply's answer: a new reply's first attempt, or the reply an `Idempotency-Key` found.
// Built by `messages::handled_answer`, with `window` added by `messages::reply`.
#[derive(ToSchema)]
#[serde(untagged)]
pub(super) enum ReplyOutcome {
    Attempted(ReplyAnswer),
    Found(ReplyFound),
    Gone(ReplyGone),
}

/// A new reply's first attempt: sent (`ok`), failed for good (`ok: false`), or queued for a retry (202).
#[derive(ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) struct ReplyAnswer {
    /// False when a message was refused for good.
    ok: bool,
    /// The reply's id, for `GET /api/messages/{id}`.
    id: i64,
    status: AnswerStatus,
    /// One line per message of the reply, in order.
    deliveries: Vec<ReportLine>,
    /// The id again, when the reply is queued for a retry (202).
    #[serde(skip_serializing_if = "Option::is_none")]
    queued: Option<i64>,
    /// When `last-customer-message-at` was left out: what the window was reckoned from.
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<Window>,
}

/// Where a new reply stands after its first attempt.
#[derive(ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) enum AnswerStatus {
    Sent,
    Failed,
    /// A message's outcome is unknown.
    Unknown,
    /// A retryable failure: the retry worker sends it.
    Queued,
}

/// The messaging window a reply was checked against.
// Built by `messages::read_reply`.
#[derive(ToSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) struct Window {
    #[schema(format = DateTime)]
    now: String,
    source: WindowSource,
    #[schema(format = DateTime)]
    last_customer_message_at: String,
}

/// A reply an `Idempotency-Key` found: where it stands, as `GET /api/messages/{id}` shows it.
#[derive(ToSchema)]
pub(super) struct ReplyFound {
    #[serde(flatten)]
    stored: StoredReply,
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<Window>,
}

/// A reply an `Idempotency-Key` found, whose row is gone (pruned after its retention).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReplyGone {
    id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<Window>,
}

/// A channel's settings: what it set itself, and what applies (its own, else the deployment's).
// Built by `settings::get` and `settings::put`.
#[derive(ToSchema)]
pub(super) struct SettingsAnswer {
    settings: ChannelSettings,
    effective: ChannelSettings,
}
