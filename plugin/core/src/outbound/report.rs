//! The `outbound` command's answers (DESIGN.md), derived from the plan's own serde form.

use super::{MessageTag, PlannedMessage, SendPlan};
use crate::error::ConnectorError;
use crate::time::{self, TimestampMs};
use serde::Serialize;

/// `{"ok":true,"messages":[...],"tag":...,"window-closes-at":...}`: a valid reply's plan.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PlanReport<'a> {
    ok: bool,
    messages: &'a [PlannedMessage],
    tag: Option<MessageTag>,
    #[serde(serialize_with = "time::serialize")]
    window_closes_at: TimestampMs,
}

impl<'a> PlanReport<'a> {
    pub fn new(plan: &'a SendPlan) -> Self {
        Self { ok: true, messages: &plan.messages, tag: plan.tag, window_closes_at: plan.window_closes_at }
    }
}

/// `{"ok":false,"errors":[...]}`: every problem of an invalid reply.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invalid<'a> {
    ok: bool,
    errors: &'a [ConnectorError],
}

impl<'a> Invalid<'a> {
    pub fn new(errors: &'a [ConnectorError]) -> Self {
        Self { ok: false, errors }
    }
}
