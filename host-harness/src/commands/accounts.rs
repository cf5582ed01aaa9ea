//! `messenger-harness accounts ...`: the channel's linked accounts on `--db`.

use super::{Cli, Failure, env, harness, to_json};
use crate::harness::Selection;
use clap::Subcommand;
use messenger_core::ConnectorError;
use messenger_core::accounts::LinkRequest;
use messenger_core::expiry::login_kind;

#[derive(Subcommand)]
pub(super) enum AccountsCommand {
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
pub(super) fn run(cli: &Cli, command: &AccountsCommand) -> Result<String, Failure> {
    let harness = harness(cli)?;
    let now_ms = crate::clock::now_ms();
    let value = match command {
        AccountsCommand::List => to_json(&harness.list_accounts()?),
        AccountsCommand::Link { login, code, redirect_uri, app_id } => {
            let app_secret = env("MESSENGER_APP_SECRET").ok_or_else(|| {
                Failure::refused(ConnectorError::new(
                    "missing-app-secret",
                    "set MESSENGER_APP_SECRET to the Meta app secret",
                ))
            })?;
            let request = LinkRequest {
                login: login_kind(login).map_err(Failure::refused)?,
                code: code.clone(),
                redirect_uri: redirect_uri.clone(),
                app_id: app_id.clone(),
                app_secret,
                now: now_ms,
            };
            to_json(&harness.link_accounts(&request)?)
        }
        AccountsCommand::Plan { accounts } => to_json(&harness.select_accounts(accounts, false)?),
        AccountsCommand::Select { confirm_drop, accounts } => {
            match harness.select_confirmed(accounts, *confirm_drop)? {
                Selection::Applied(change) => to_json(&change),
                Selection::Refused(plan) => return Err(Failure::printed(to_json(&Selection::refusal(&plan)))),
            }
        }
        AccountsCommand::Representative { account, .. } => to_json(&harness.representative_json(account.as_deref())?),
        AccountsCommand::Refresh { account } => to_json(&harness.refresh_json(account, now_ms)?),
    };
    Ok(value)
}
