//! `GET` and `POST /connect/select?pick=`: the accounts a login reached beside the linked ones (checked), and what
//! saving adds, keeps and drops. A selection that drops a linked account is shown again with the guide's warning,
//! and applied only once confirmed. Saving applies the selection and subscribes every selected account to the
//! webhook fields; a refused subscription is stored and shown on the account.

use super::super::api::Scoped;
use super::connect::Reached;
use super::records::Records;
use super::session::Person;
use super::visit::Visit;
use crate::clock::now_ms;
use crate::harness::{CallError, Harness, Selection};
use axum::body::Body;
use axum::extract::Extension;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use messenger_core::accounts::{AccountInfo, SelectionChange};
use serde_json::{Value, json};

/// `GET /connect/select?pick=`: the selection form.
pub(super) async fn form(visit: Visit, Extension(person): Extension<Person>) -> Response {
    let pick = visit.query.get("pick").unwrap_or_default().to_owned();
    let Some((reached, scoped)) = load(&visit, &person, &pick).await else { return visit.bad_form() };
    let harness = scoped.harness.clone();
    let linked = match tokio::task::spawn_blocking(move || harness.list_accounts()).await {
        Ok(Ok(linked)) => linked,
        _ => return visit.failed("listing the linked accounts"),
    };
    let mut rows: Vec<Value> = linked
        .iter()
        .map(|a| {
            let reauthorized = reached.accounts.iter().any(|r| r.id == a.account_id);
            json!({"id": a.account_id, "username": a.username, "checked": true, "linked": true,
                "note": if reauthorized { "reauthorized" } else { "linked" }})
        })
        .collect();
    for account in reached.accounts.iter().filter(|r| !linked.iter().any(|a| a.account_id == r.id)) {
        rows.push(
            json!({"id": account.id, "username": account.username, "checked": false, "linked": false, "note": "new"}),
        );
    }
    let context = json!({
        "rows": rows,
        "pick": pick,
        "csrf": person.csrf(&visit.app),
        "target_missing": reached.target.as_ref().is_some_and(|t| !reached.accounts.iter().any(|r| &r.id == t)),
    });
    page(&visit, &reached, context)
}

/// `POST /connect/select`: applies the selection (once a drop is confirmed) and subscribes each selected account.
pub(super) async fn save(visit: Visit, Extension(person): Extension<Person>, body: Body) -> Response {
    let form = match visit.form_of(&person, body).await {
        Ok(form) => form,
        Err(refusal) => return refusal,
    };
    let pick = form.get("pick").unwrap_or_default().to_owned();
    let Some((reached, scoped)) = load(&visit, &person, &pick).await else { return visit.bad_form() };
    let mut selected: Vec<String> = Vec::new();
    for account in form.all("account") {
        if !selected.contains(&account) {
            selected.push(account);
        }
    }
    let confirmed = form.get("confirm") == Some("yes");
    let harness = scoped.harness.clone();
    let reachable: Vec<String> = reached.accounts.iter().map(|a| a.id.clone()).collect();
    let chosen = selected.clone();
    let outcome = tokio::task::spawn_blocking(move || apply(&harness, &reachable, &chosen, confirmed)).await;
    let app = &visit.app;
    match outcome {
        Ok(Ok(Saved::Applied(added))) => {
            tracing::info!(key = %person.caller.name, accounts = selected.len(), "a selection saved from the console");
            // Agents expect a newly linked account's recent conversations at once: brought in in the background.
            app.backfill_in_background(scoped.harness.clone(), added, true);
            let records = Records::new(app.harness.database(), "pick");
            let _ = tokio::task::spawn_blocking(move || records.remove(&pick)).await;
            Redirect::to(&format!("/?saved=1{}", super::channel_param(&scoped, app, "&"))).into_response()
        }
        Ok(Ok(Saved::NeedsConfirmation { plan, linked })) => {
            let name = |ids: &[String]| names(&reached, &linked, ids);
            let context = json!({
                "pick": pick,
                "csrf": person.csrf(app),
                "selected": selected,
                "confirm": {"added": name(&plan.added), "kept": name(&plan.kept), "removed": name(&plan.removed)},
            });
            page(&visit, &reached, context)
        }
        Ok(Ok(Saved::NotOffered)) => visit.bad_form(),
        Ok(Err(e)) => {
            let info = e.to_error_info();
            tracing::warn!(code = %info.code, "a selection from the console was refused");
            visit.message(StatusCode::CONFLICT, "failed_title", "bad_form_body", Some(&info.message))
        }
        Err(_) => visit.failed("saving a selection"),
    }
}

/// What saving did.
enum Saved {
    /// Saved; the accounts it added.
    Applied(Vec<String>),
    /// It drops linked accounts: shown with the warning first (the linked accounts give their names).
    NeedsConfirmation { plan: SelectionChange, linked: Vec<AccountInfo> },
    /// It named an account neither reached nor linked.
    NotOffered,
}

/// Applies `selected` (each one reached by the login or linked already) and subscribes each to the webhooks.
fn apply(harness: &Harness, reachable: &[String], selected: &[String], confirmed: bool) -> Result<Saved, CallError> {
    let linked = harness.list_accounts()?;
    if selected.iter().any(|id| !reachable.contains(id) && !linked.iter().any(|a| &a.account_id == id)) {
        return Ok(Saved::NotOffered);
    }
    match harness.select_confirmed(selected, confirmed)? {
        Selection::Refused(plan) => Ok(Saved::NeedsConfirmation { plan, linked }),
        Selection::Applied(change) => {
            for account in selected {
                // Meta's refusal is stored with the account and shown on the console; only a fault stops here.
                let subscription = harness.subscribe_webhooks(account, now_ms())?;
                if let Some(error) = subscription.error {
                    tracing::warn!(account, code = %error.code, "a webhook subscription was refused");
                }
            }
            Ok(Saved::Applied(change.added))
        }
    }
}

/// The login's reached accounts under `pick`, if they belong to this person's session, and the channel they link to.
async fn load(visit: &Visit, person: &Person, pick: &str) -> Option<(Reached, Scoped)> {
    let records = Records::new(visit.app.harness.database(), "pick");
    let reference = pick.to_owned();
    let reached: Reached = tokio::task::spawn_blocking(move || records.get(&reference)).await.ok()?.ok()??;
    if reached.session != person.session.id {
        return None;
    }
    let scoped = visit.scope(person, Some(&reached.channel)).ok()?;
    Some((reached, scoped))
}

/// `@username` where the login or the link named it, else the id.
fn names(reached: &Reached, linked: &[AccountInfo], ids: &[String]) -> Vec<String> {
    let name = |id: &String| {
        let from_login = reached.accounts.iter().find(|a| &a.id == id).and_then(|a| a.username.clone());
        let from_link = || linked.iter().find(|a| &a.account_id == id).and_then(|a| a.username.clone());
        from_login.or_else(from_link).map_or_else(|| id.clone(), |u| format!("@{u}"))
    };
    ids.iter().map(name).collect()
}

/// The selection page, in either of its modes.
fn page(visit: &Visit, reached: &Reached, mut context: Value) -> Response {
    let channel = &reached.channel;
    let default = visit.app.harness.namespace().channel() == channel;
    context["channel_query"] = json!(if default { String::new() } else { format!("?channel={channel}") });
    context["channel_amp"] = json!(if default { String::new() } else { format!("&channel={channel}") });
    visit.render("select.html", context)
}
