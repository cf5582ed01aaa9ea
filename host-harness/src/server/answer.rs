//! The JSON error answers every part of the server gives: `{"error":{"code","message"}}`, as DESIGN.md's.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub(super) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message.into()}}))).into_response()
}

/// 401 for a request without a valid API key, saying how to authenticate; nothing was done.
pub(super) fn unauthorized() -> Response {
    let mut answer =
        error(StatusCode::UNAUTHORIZED, "unauthorized", "send Authorization: Bearer <an API key of this server>");
    answer.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
    answer
}
