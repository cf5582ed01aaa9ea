//! The console's state, kept in the server's `App`: its configuration, its signer and its pages. Apart from the
//! routes (`mod.rs`) so that `App` can hold it without the console's handlers, which read `App`, being imported back.

use super::render::Pages;
use super::signing::{self, Signer};
use messenger_core::expiry::LoginKind;

/// How long a link attempt may take, from the redirect to Meta to the callback, unless configured.
const ATTEMPT_MS: u64 = 10 * 60_000;

/// What linking from a browser needs to know, from the environment or the config file.
#[derive(Debug, Clone, Default)]
pub struct ConsoleConfig {
    /// The Meta app id (`MESSENGER_APP_ID`): Facebook Login's `client_id`.
    pub app_id: Option<String>,
    /// The Instagram app id, Instagram Login's `client_id` (`MESSENGER_INSTAGRAM_APP_ID`); the Meta app id when
    /// not given.
    pub instagram_app_id: Option<String>,
    /// Where Meta and browsers reach this server (`MESSENGER_PUBLIC_URL`, e.g. `https://connector.example.com`):
    /// the redirect URI is `<public>/connect/callback`.
    pub public_url: Option<String>,
    /// Replaces Meta's login dialog hosts (`--dialog-url`; tests run a fake dialog on loopback).
    pub dialog_url: Option<String>,
    /// A Facebook Login for Business configuration id, sent instead of the scopes when given.
    pub login_config_id: Option<String>,
    /// How long a link attempt may take, from the redirect to Meta's dialog to the callback (10 minutes unless
    /// said; tests shorten it).
    pub attempt_lifetime: Option<std::time::Duration>,
}

/// The console's state: its configuration, its signer and its pages.
pub(crate) struct Console {
    pub(super) signer: Signer,
    pub(super) pages: Pages,
    pub(super) public_url: Option<String>,
    pub(super) dialog_url: Option<String>,
    pub(super) app_id: Option<String>,
    pub(super) instagram_app_id: Option<String>,
    pub(super) login_config_id: Option<String>,
    /// How long a link attempt may take, in milliseconds.
    pub(super) attempt_ms: u64,
    /// Cookies carry `Secure` when the public URL is https.
    pub(super) secure_cookies: bool,
}

impl Console {
    /// The console of a server with `config`; its secret is derived from the app secret (so every node of a
    /// deployment signs alike), or random when there is none.
    pub fn new(config: &ConsoleConfig, app_secret: Option<&str>) -> Self {
        let public_url = config.public_url.as_ref().map(|url| url.trim_end_matches('/').to_owned());
        Self {
            signer: Signer::new(&signing::console_secret(app_secret)),
            pages: Pages::new(),
            secure_cookies: public_url.as_deref().is_some_and(|url| url.starts_with("https://")),
            public_url,
            dialog_url: config.dialog_url.clone(),
            app_id: config.app_id.clone(),
            instagram_app_id: config.instagram_app_id.clone().or_else(|| config.app_id.clone()),
            login_config_id: config.login_config_id.clone(),
            attempt_ms: config.attempt_lifetime.map_or(ATTEMPT_MS, |d| d.as_millis() as u64),
        }
    }

    /// The `client_id` and redirect URI of a login, when linking is set up.
    pub(super) fn client(&self, login: LoginKind) -> Option<(String, String)> {
        let client_id = match login {
            LoginKind::Facebook => self.app_id.clone()?,
            LoginKind::Instagram => self.instagram_app_id.clone()?,
        };
        Some((client_id, format!("{}/connect/callback", self.public_url.as_deref()?)))
    }
}
