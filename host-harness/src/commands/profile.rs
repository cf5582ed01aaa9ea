//! `messenger-harness profile`: an account's ice breakers and persistent menu, read, set or deleted through the
//! component (Meta's Messenger Profile API).

use super::{Cli, Failure, harness, read_capped, to_json};
use crate::harness::CallError;
use clap::{Subcommand, ValueEnum};
use messenger_core::messenger_profile::{ProfileField, parse_setting};
use messenger_core::outbound::Invalid;
use serde_json::{Value, json};

#[derive(Subcommand)]
pub(super) enum ProfileCommand {
    /// Shows the account's setting as Meta has it (an empty list when none is set).
    Get {
        /// The Instagram account id.
        #[arg(long)]
        account: String,
        field: Field,
    },
    /// Replaces the account's setting with SETTING, checked first: every problem at once.
    Set {
        /// The Instagram account id.
        #[arg(long)]
        account: String,
        field: Field,
        /// The setting's JSON (a file path, or `-` for stdin): ice breakers `[{"locale","questions":[{"question",
        /// "payload"}]}]`, the menu `[{"locale","items":[{"type":"postback"|"web-url","title","payload"|"url"}]}]`.
        setting: String,
    },
    /// Removes the account's setting.
    Delete {
        /// The Instagram account id.
        #[arg(long)]
        account: String,
        field: Field,
    },
}

/// Which setting.
#[derive(Clone, Copy, ValueEnum)]
pub(super) enum Field {
    IceBreakers,
    PersistentMenu,
}

impl From<Field> for ProfileField {
    fn from(field: Field) -> Self {
        match field {
            Field::IceBreakers => Self::IceBreakers,
            Field::PersistentMenu => Self::PersistentMenu,
        }
    }
}

pub(super) fn run(cli: &Cli, command: &ProfileCommand) -> Result<String, Failure> {
    let now = crate::clock::now_ms();
    let harness = harness(cli)?;
    let (account, answer) = match command {
        ProfileCommand::Get { account, field } => {
            (account, to_value(&harness.profile_setting(account, (*field).into(), now)?))
        }
        ProfileCommand::Set { account, field, setting } => {
            let setting = parse_setting((*field).into(), &read_capped(setting, 1 << 20)?).map_err(Failure::refused)?;
            match harness.set_profile_setting(account, &setting, now) {
                Ok(()) => (account, to_value(&setting)),
                Err(CallError::Invalid(errors)) => return Err(Failure::printed(to_json(&Invalid::new(&errors)))),
                Err(other) => return Err(other.into()),
            }
        }
        ProfileCommand::Delete { account, field } => {
            harness.delete_profile_setting(account, (*field).into(), now)?;
            (account, json!({"deleted": ProfileField::from(*field)}))
        }
    };
    // `{"ok":true,"account-id":...}` and the setting (`"ice-breakers": [...]`), or what was deleted.
    let mut output = json!({"ok": true, "account-id": account});
    output.as_object_mut().expect("an object").extend(answer.as_object().cloned().unwrap_or_default());
    Ok(to_json(&output))
}

fn to_value(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("settings serialize")
}
