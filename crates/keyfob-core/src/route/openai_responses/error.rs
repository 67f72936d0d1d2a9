//! Error bodies: `{"error": {"message", "type", "param", "code"}}`, and the same error
//! as a stream's `error` event. openai-node picks the error class from the HTTP status;
//! `type` and `code` follow what OpenAI sends for each kind.

use serde_json::{json, Map, Value};

use super::field;
use crate::route::ir::{ErrorKind, ProviderError};

pub fn decode_error(status: u16, body: &[u8]) -> ProviderError {
    let parsed: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
    let error = parsed
        .as_ref()
        .and_then(|body| field(body, "error"))
        .and_then(Value::as_object);
    let message = match error
        .and_then(|e| field(e, "message"))
        .and_then(Value::as_str)
    {
        Some(message) => message.to_string(),
        None => String::from_utf8_lossy(body).into_owned(),
    };
    ProviderError {
        status,
        kind: ErrorKind::from_status(status),
        message,
    }
}

pub fn encode_error(error: &ProviderError) -> Vec<u8> {
    let body = json!({ "error": error_object(error) });
    body.to_string().into_bytes()
}

/// `{message, type, param, code}` for `error`.
pub(super) fn error_object(error: &ProviderError) -> Value {
    let (kind, code) = names(error.kind);
    json!({"message": error.message, "type": kind, "param": null, "code": code})
}

/// The `type` and `code` OpenAI gives each kind.
pub(super) fn names(kind: ErrorKind) -> (&'static str, &'static str) {
    match kind {
        ErrorKind::InvalidRequest => ("invalid_request_error", "invalid_request"),
        ErrorKind::Authentication => ("invalid_request_error", "invalid_api_key"),
        ErrorKind::PermissionDenied => ("invalid_request_error", "permission_denied"),
        ErrorKind::NotFound => ("invalid_request_error", "not_found"),
        ErrorKind::RateLimited => ("requests", "rate_limit_exceeded"),
        ErrorKind::Overloaded => ("server_error", "server_is_overloaded"),
        ErrorKind::Server => ("server_error", "server_error"),
    }
}

/// A stream error (an `error` event, or the `error` of a failed response), which has a
/// code but no HTTP status: the status is the one the code's kind has.
pub(super) fn from_code(
    code: Option<&str>,
    kind_name: Option<&str>,
    message: &str,
) -> ProviderError {
    let kind = match code {
        Some("invalid_api_key") => ErrorKind::Authentication,
        Some("permission_denied") => ErrorKind::PermissionDenied,
        Some("not_found" | "model_not_found") => ErrorKind::NotFound,
        Some("rate_limit_exceeded" | "insufficient_quota") => ErrorKind::RateLimited,
        Some("server_is_overloaded" | "slow_down") => ErrorKind::Overloaded,
        Some("server_error") => ErrorKind::Server,
        // `invalid_prompt`, the image errors …: the request was at fault.
        Some(_) => ErrorKind::InvalidRequest,
        None if kind_name == Some("invalid_request_error") => ErrorKind::InvalidRequest,
        None => ErrorKind::Server,
    };
    let status = kind.status();
    ProviderError {
        status,
        kind,
        message: message.to_string(),
    }
}
