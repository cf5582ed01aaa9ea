//! The console and linking from a browser: a person signs in with an API key, links Instagram accounts through
//! Meta's login dialogs (`connect`), selects which to keep (`select`), and watches their state (`pages`); Meta's
//! deauthorize and data deletion callbacks (`meta_callbacks`). Server-rendered HTML and plain forms, no script:
//! every answer forbids script, framing and caching (`render`).

mod connect;
mod form;
mod meta_callbacks;
mod pages;
mod records;
mod render;
mod select;
mod session;
mod signing;
mod visit;

use super::app::App;
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use messenger_core::expiry::LoginKind;
use render::Pages;
use signing::Signer;
use std::sync::Arc;

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
pub(super) struct Console {
    signer: Signer,
    pages: Pages,
    public_url: Option<String>,
    dialog_url: Option<String>,
    app_id: Option<String>,
    instagram_app_id: Option<String>,
    login_config_id: Option<String>,
    /// How long a link attempt may take, in milliseconds.
    attempt_ms: u64,
    /// Cookies carry `Secure` when the public URL is https.
    secure_cookies: bool,
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
            attempt_ms: config.attempt_lifetime.map_or(connect::ATTEMPT_MS, |d| d.as_millis() as u64),
        }
    }

    /// The `client_id` and redirect URI of a login, when linking is set up.
    fn client(&self, login: LoginKind) -> Option<(String, String)> {
        let client_id = match login {
            LoginKind::Facebook => self.app_id.clone()?,
            LoginKind::Instagram => self.instagram_app_id.clone()?,
        };
        Some((client_id, format!("{}/connect/callback", self.public_url.as_deref()?)))
    }
}

/// The console's routes. Meta's callbacks, the sign-in form and the assets are open; every other route needs a
/// session or an API key. Every answer carries the security headers.
pub(super) fn router(app: Arc<App>) -> Router {
    let personal = Router::new()
        .route("/", get(pages::console))
        .route("/logout", post(session::sign_out))
        .route("/connect/{login}", get(connect::start))
        .route("/connect/select", get(select::form).post(select::save))
        .route("/accounts/{id}/{switch}", post(pages::switched))
        .route_layer(middleware::from_fn_with_state(app.clone(), session::require_person));
    Router::new()
        .route("/login", get(session::sign_in_form).post(session::sign_in))
        .route("/connect/callback", get(connect::callback))
        .route("/meta/deauthorize", post(meta_callbacks::deauthorize))
        .route("/meta/data-deletion", post(meta_callbacks::data_deletion))
        .route("/meta/data-deletion/{code}", get(meta_callbacks::deletion_status))
        .route("/static/{name}", get(pages::asset))
        .merge(personal)
        .layer(middleware::from_fn(secure_headers))
        .with_state(app)
}

/// Adds the security headers to every console answer.
async fn secure_headers(request: Request, next: Next) -> Response {
    render::secure(next.run(request).await)
}

/// `<sep>channel=<name>` for links that stay on a channel other than the default; nothing for the default.
fn channel_param(scoped: &super::api::Scoped, app: &App, sep: &str) -> String {
    let channel = scoped.namespace.channel();
    if scoped.namespace == *app.harness.namespace() { String::new() } else { format!("{sep}channel={channel}") }
}
