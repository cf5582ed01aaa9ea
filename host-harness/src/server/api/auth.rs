//! Who may call `/api/*`: `Authorization: Bearer <a configured key>` (see `keys`), or 401 with nothing done.

use super::super::answer::unauthorized;
use super::super::app::App;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// Lets a request through only with `Authorization: Bearer <a configured key>`; otherwise 401, with nothing done.
pub(super) async fn require_key(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(caller) = presented.and_then(|key| app.keys.find(key)) else {
        tracing::warn!(path = %request.uri().path(), "an API call without a valid key: 401");
        return unauthorized();
    };
    tracing::info!(key = %caller.name, method = %request.method(), path = %request.uri().path(), "API call");
    request.extensions_mut().insert(caller);
    next.run(request).await
}
