//! Managing a channel's accounts, once for both faces: the CLI's `accounts` and `filters` commands and the serve
//! API call these, and print or answer what they give.

use super::{CallError, Harness};
use crate::store::activity;
use messenger_core::ConnectorError;
use messenger_core::accounts::{AccountInfo, SelectionChange};
use messenger_core::expiry::{Link, LinkState, Reason};
use messenger_core::settings::Filters;
use messenger_core::time::{TimestampMs, format_rfc3339};
use serde::Serialize;
use serde_json::{Value, json};

/// What a selection did: applied, or refused because it would drop linked accounts without a confirmation.
pub enum Selection {
    Applied(SelectionChange),
    Refused(SelectionChange),
}

impl Selection {
    /// The refusal as both faces show it: the plan, and an error with code `selection-drops-accounts`.
    pub fn refusal(plan: &SelectionChange) -> Value {
        let mut report = serde_json::to_value(plan).expect("a change serializes");
        report["error"] = json!({"code": "selection-drops-accounts", "message": plan.warning});
        report
    }
}

/// One account as the API lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct AccountOverview {
    pub account_id: String,
    #[schema(required)]
    pub username: Option<String>,
    #[schema(value_type = messenger_core::expiry::LoginKind)]
    pub login: &'static str,
    pub state: LinkState,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub representative: bool,
    pub filters: FilterFields,
    /// Whether Meta delivers this account's webhooks here: the stored outcome of the connector's subscription
    /// when it made one, else whether a webhook for it has arrived.
    pub subscribed: bool,
    /// Why Meta refused the subscription, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_error: Option<ConnectorError>,
    #[schema(format = DateTime, required)]
    pub last_webhook_at: Option<String>,
    /// Why the link needs attention (expiring, expired, or why it broke), when it does.
    pub reason: Option<Reason>,
    /// How far bringing in its recent conversations got, once one was started (on link, or on demand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<messenger_core::history::BackfillProgress>,
    /// When the link was made, when it expires, and when a webhook last came (ms), for hosts that compute.
    #[serde(skip)]
    pub linked_at_ms: u64,
    #[serde(skip)]
    pub expires_at_ms: u64,
    #[serde(skip)]
    pub last_webhook_ms: Option<u64>,
}

/// An account's filters as both faces show them (the component stores its own form of them).
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct FilterFields {
    /// Story mentions open no conversation.
    pub skip_story_mentions: bool,
    /// Shared posts and reels open no conversation.
    pub skip_shares: bool,
    /// Comments open no conversation (off by default: comments arrive).
    pub skip_comments: bool,
}

impl From<Filters> for FilterFields {
    fn from(filters: Filters) -> Self {
        let Filters { skip_story_mentions, skip_shares, skip_comments } = filters;
        Self { skip_story_mentions, skip_shares, skip_comments }
    }
}

/// Filters to change; one left out (None) stays as it is.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FilterChange {
    pub skip_story_mentions: Option<bool>,
    pub skip_shares: Option<bool>,
    pub skip_comments: Option<bool>,
}

/// The link the expiry policy evaluates for a stored account at `now`.
pub fn link_of(
    account: &AccountInfo,
    now: TimestampMs,
    last_notice_at: Option<TimestampMs>,
    owners: Vec<String>,
    language: Option<String>,
) -> Link {
    Link {
        now,
        linked_at: account.linked_at,
        token_expires_at: Some(account.token_expires_at),
        last_notice_at,
        owners,
        last_error: account.last_error.clone(),
        last_error_at: account.last_error_at,
        language,
        login: Some(account.login),
    }
}

impl Harness {
    /// Makes the channel's accounts exactly `accounts`; dropping a linked one needs `confirm_drop`.
    pub fn select_confirmed(&self, accounts: &[String], confirm_drop: bool) -> Result<Selection, CallError> {
        let plan = self.select_accounts(accounts, false)?;
        if !plan.removed.is_empty() && !confirm_drop {
            return Ok(Selection::Refused(plan));
        }
        Ok(Selection::Applied(self.select_accounts(accounts, true)?))
    }

    /// Marks (or clears) the representative account; the answer both faces give.
    pub fn representative_json(&self, account_id: Option<&str>) -> Result<Value, CallError> {
        self.set_representative(account_id)?;
        Ok(json!({"representative": account_id}))
    }

    /// Refreshes an account's token now; the answer both faces give.
    pub fn refresh_json(&self, account_id: &str, now: TimestampMs) -> Result<Value, CallError> {
        let expires_at = self.refresh_token(account_id, now)?;
        Ok(json!({"account-id": account_id, "token-expires-at": format_rfc3339(expires_at)}))
    }

    /// The account's filters with the given ones changed (and stored, when any is given).
    pub fn change_filters(&self, account_id: &str, change: FilterChange) -> Result<Filters, CallError> {
        let mut filters = self.filters(account_id)?;
        let FilterChange { skip_story_mentions, skip_shares, skip_comments } = change;
        if skip_story_mentions.is_some() || skip_shares.is_some() || skip_comments.is_some() {
            filters.skip_story_mentions = skip_story_mentions.unwrap_or(filters.skip_story_mentions);
            filters.skip_shares = skip_shares.unwrap_or(filters.skip_shares);
            filters.skip_comments = skip_comments.unwrap_or(filters.skip_comments);
            self.set_filters(account_id, filters)?;
        }
        Ok(filters)
    }

    /// The filters as the `filters` command prints them and the API answers.
    pub fn filters_json(account_id: &str, filters: Filters) -> Value {
        let mut answer = filter_fields(filters);
        answer["account-id"] = json!(account_id);
        answer
    }

    /// Every linked account with its state at `now`, filters and last webhook.
    pub fn account_overview(&self, now: TimestampMs) -> Result<Vec<AccountOverview>, CallError> {
        let subscriptions = self.subscriptions()?;
        let mut overview = Vec::new();
        for account in self.list_accounts()? {
            let decision = self.evaluate_link(&link_of(&account, now, None, Vec::new(), None))?;
            let last_webhook = activity::last_webhook(self.database(), self.namespace(), &account.account_id)
                .map_err(CallError::Host)?;
            let subscription = subscriptions.iter().find(|s| s.account_id == account.account_id);
            overview.push(AccountOverview {
                filters: self.filters(&account.account_id)?.into(),
                state: decision.state,
                expires_at: format_rfc3339(decision.expires_at),
                login: account.login.as_str(),
                representative: account.representative,
                subscribed: subscription.map_or(last_webhook.is_some(), |s| s.is_subscribed()),
                subscription_error: subscription.and_then(|s| s.error.clone()),
                last_webhook_at: last_webhook.map(format_rfc3339),
                reason: decision.reason,
                history: self.backfill_progress(&account.account_id)?,
                linked_at_ms: account.linked_at,
                expires_at_ms: decision.expires_at,
                last_webhook_ms: last_webhook,
                username: account.username,
                account_id: account.account_id,
            });
        }
        Ok(overview)
    }
}

fn filter_fields(filters: Filters) -> Value {
    serde_json::to_value(FilterFields::from(filters)).expect("filters serialize")
}
