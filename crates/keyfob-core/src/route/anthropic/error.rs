//! Error bodies: `{"type":"error","error":{"type","message"}}`.

use serde_json::{json, Value};

use super::to_bytes;
use crate::route::ir::{ErrorKind, ProviderError};

/// The most of an unreadable error body kept as the message.
const MAX_RAW_MESSAGE: usize = 1000;

pub fn decode_error(status: u16, body: &[u8]) -> ProviderError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|body| body.get("error"));
    let kind = error
        .and_then(|error| error.get("type"))
        .and_then(Value::as_str)
        .and_then(kind_from_wire)
        .unwrap_or_else(|| ErrorKind::from_status(status));
    let message = match error
        .and_then(|error| error.get("message"))
        .and_then(Value::as_str)
    {
        Some(message) => message.to_string(),
        None => raw_message(body),
    };
    ProviderError {
        status,
        kind,
        message,
    }
}

/// `None` for a type the common form has no kind for (`billing_error`): the status says.
pub(super) fn kind_from_wire(kind: &str) -> Option<ErrorKind> {
    Some(match kind {
        "invalid_request_error" => ErrorKind::InvalidRequest,
        "authentication_error" => ErrorKind::Authentication,
        "permission_error" => ErrorKind::PermissionDenied,
        "not_found_error" => ErrorKind::NotFound,
        "rate_limit_error" => ErrorKind::RateLimited,
        "overloaded_error" => ErrorKind::Overloaded,
        "api_error" | "timeout_error" => ErrorKind::Server,
        _ => return None,
    })
}

fn kind_to_wire(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest => "invalid_request_error",
        ErrorKind::Authentication => "authentication_error",
        ErrorKind::PermissionDenied => "permission_error",
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::RateLimited => "rate_limit_error",
        ErrorKind::Overloaded => "overloaded_error",
        ErrorKind::Server => "api_error",
    }
}

/// The status Anthropic sends with an error of this kind (for a mid-stream error).
pub(super) fn status_of(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::Overloaded => 529,
        other => other.status(),
    }
}

pub fn encode_error(error: &ProviderError) -> Vec<u8> {
    to_bytes(&error_body(error))
}

pub(super) fn error_body(error: &ProviderError) -> Value {
    json!({
        "type": "error",
        "error": { "type": kind_to_wire(error.kind), "message": error.message },
    })
}

fn raw_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(MAX_RAW_MESSAGE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].trim().to_string()
}
