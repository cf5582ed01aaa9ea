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
mod sign_in;
mod signing;
pub(super) mod state;
mod visit;

use super::app::App;
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use std::sync::Arc;

pub use state::ConsoleConfig;

/// The console's routes. Meta's callbacks, the sign-in form and the assets are open; every other route needs a
/// session or an API key. Every answer carries the security headers.
pub(super) fn router(app: Arc<App>) -> Router {
    let personal = Router::new()
        .route("/", get(pages::console))
        .route("/logout", post(sign_in::sign_out))
        .route("/connect/{login}", get(connect::start))
        .route("/connect/select", get(select::form).post(select::save))
        .route("/accounts/{id}/{switch}", post(pages::switched))
        .route_layer(middleware::from_fn_with_state(app.clone(), session::require_person));
    Router::new()
        .route("/login", get(sign_in::sign_in_form).post(sign_in::sign_in))
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
