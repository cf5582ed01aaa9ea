//! What the server reads from a request before any component runs: the declared body length, the idempotency key,
//! the signature header and the handshake's query. Pure functions, so the fuzzer drives them with malformed input.

use axum::http::{HeaderMap, header};

/// The body length a request declares, if it declares a readable one.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// The client's `Idempotency-Key`: none, or 1 to 200 visible ASCII characters; anything else is refused.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ()> {
    match headers.get("idempotency-key").map(|key| key.to_str()) {
        None => Ok(None),
        Some(Ok(key)) if !key.is_empty() && key.len() <= 200 => Ok(Some(key.to_owned())),
        Some(_) => Err(()),
    }
}

/// The `X-Hub-Signature-256` header, when it is text.
pub fn signature(headers: &HeaderMap) -> Option<&str> {
    headers.get(messenger_core::signature::HEADER).and_then(|v| v.to_str().ok())
}

/// Everything above on one request's raw headers and query, as the fuzzer feeds them: header names and values that
/// are not valid HTTP are dropped, as hyper would refuse them. True when the signature checks.
pub fn read_request(raw_headers: &[(Vec<u8>, Vec<u8>)], query: &str, body: &[u8], secret: &str) -> bool {
    let mut headers = HeaderMap::new();
    for (name, value) in raw_headers {
        if let (Ok(name), Ok(value)) = (header::HeaderName::from_bytes(name), header::HeaderValue::from_bytes(value)) {
            headers.append(name, value);
        }
    }
    let _ = (declared_length(&headers), idempotency_key(&headers));
    let _ = messenger_core::handshake::from_query(query);
    messenger_core::signature::is_valid(secret.as_bytes(), body, signature(&headers))
}
