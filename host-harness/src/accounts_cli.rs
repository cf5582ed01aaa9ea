//! `messenger-harness accounts ...`: the channel's linked accounts on `--db`.

use crate::bindings::expiry::LinkRequest;
use crate::expiry_json;
use crate::harness::Harness;
use clap::Subcommand;
use messenger_core::ConnectorError;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// Lists the channel's linked accounts (never their tokens).
    List,
    /// Links the accounts an authorization code gives; the app secret comes from MESSENGER_APP_SECRET.
    Link {
        #[arg(long, value_parser = ["facebook", "instagram"])]
        login: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        redirect_uri: String,
        #[arg(long)]
        app_id: String,
    },
    /// Says what selecting exactly these accounts would add, keep and drop, without applying it.
    Plan { accounts: Vec<String> },
    /// Makes the channel's accounts exactly these; refuses to drop any unless --confirm-drop is given.
    Select {
        #[arg(long)]
        confirm_drop: bool,
        accounts: Vec<String>,
    },
    /// Marks the representative account, or clears it with --none.
    Representative {
        #[arg(required_unless_present = "none")]
        account: Option<String>,
        #[arg(long, conflicts_with = "account")]
        none: bool,
    },
    /// Refreshes an Instagram Login account's token now.
    Refresh { account: String },
}

/// Runs one accounts command: its JSON, or an error to print.
pub fn run(harness: &Harness, command: &AccountsCommand, now_ms: u64) -> Result<Value, AccountsFailure> {
    match command {
        AccountsCommand::List => Ok(Value::Array(harness.list_accounts()?.iter().map(expiry_json::account).collect())),
        AccountsCommand::Link { login, code, redirect_uri, app_id } => {
            let app_secret = std::env::var("MESSENGER_APP_SECRET").ok().filter(|s| !s.is_empty()).ok_or_else(|| {
                AccountsFailure::Refused(ConnectorError::new(
                    "missing-app-secret",
                    "set MESSENGER_APP_SECRET to the Meta app secret",
                ))
            })?;
            let request = LinkRequest {
                login: expiry_json::login(login).map_err(AccountsFailure::Refused)?,
                code: code.clone(),
                redirect_uri: redirect_uri.clone(),
                app_id: app_id.clone(),
                app_secret,
                now: now_ms,
            };
            Ok(Value::Array(harness.link_accounts(&request)?.iter().map(expiry_json::linked).collect()))
        }
        AccountsCommand::Plan { accounts } => Ok(expiry_json::change(&harness.select_accounts(accounts, false)?)),
        AccountsCommand::Select { confirm_drop, accounts } => {
            let plan = harness.select_accounts(accounts, false)?;
            if !plan.removed.is_empty() && !confirm_drop {
                let mut report = expiry_json::change(&plan);
                report["error"] = json!({"code": "selection-drops-accounts", "message": plan.warning});
                return Err(AccountsFailure::Report(report));
            }
            Ok(expiry_json::change(&harness.select_accounts(accounts, true)?))
        }
        AccountsCommand::Representative { account, .. } => {
            harness.set_representative(account.as_deref())?;
            Ok(json!({"representative": account}))
        }
        AccountsCommand::Refresh { account } => {
            let expires_at = harness.refresh_token(account, now_ms)?;
            Ok(json!({"account-id": account, "token-expires-at": messenger_core::time::format_rfc3339(expires_at)}))
        }
    }
}

pub enum AccountsFailure {
    Call(crate::harness::CallError),
    Refused(ConnectorError),
    /// Printed as is, exit 1.
    Report(Value),
}

impl From<crate::harness::CallError> for AccountsFailure {
    fn from(error: crate::harness::CallError) -> Self {
        Self::Call(error)
    }
}
