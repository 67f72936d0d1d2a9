//! Error bodies: `{"error": {"message", "type", "param", "code"}}`, whole or as a
//! mid-stream chunk (which openai-node raises as `APIError`).

use serde_json::{json, Map, Value};

use crate::route::ir::{ErrorKind, ProviderError};

/// The longest message kept from a body that is not the documented JSON.
const MAX_RAW_MESSAGE: usize = 500;

/// The serving provider's error answer. The HTTP status decides the kind, as
/// openai-node does; OpenAI-compatible servers' looser bodies (`{"error": "text"}`,
/// plain text) still give their message.
pub fn decode_error(status: u16, body: &[u8]) -> ProviderError {
    let message = match serde_json::from_slice::<Value>(body) {
        Ok(value) => message_of(&value),
        Err(_) => None,
    };
    let message = message.unwrap_or_else(|| raw_message(status, body));
    ProviderError {
        status,
        kind: ErrorKind::from_status(status),
        message,
    }
}

/// The body openai-node turns into its error for the status sent with it.
pub fn encode_error(error: &ProviderError) -> Vec<u8> {
    json!({ "error": encode_error_object(error) })
        .to_string()
        .into_bytes()
}

/// The `error` object, whole or in a stream chunk.
pub(super) fn encode_error_object(error: &ProviderError) -> Value {
    let (kind, code) = type_and_code(error.kind);
    json!({ "message": error.message, "type": kind, "param": null, "code": code })
}

/// A mid-stream error object (the value of `error` in a chunk): it has no HTTP status,
/// so the kind comes from `type` and `code`.
pub(super) fn decode_stream_error(error: &Value) -> ProviderError {
    let field = |key: &str| error.get(key).and_then(Value::as_str).unwrap_or_default();
    let kind = match (field("type"), field("code")) {
        (_, "invalid_api_key") | ("authentication_error", _) => ErrorKind::Authentication,
        ("permission_error", _) => ErrorKind::PermissionDenied,
        (_, "model_not_found") | ("not_found_error", _) => ErrorKind::NotFound,
        (_, "rate_limit_exceeded") | ("rate_limit_error" | "requests" | "tokens", _) => {
            ErrorKind::RateLimited
        }
        ("insufficient_quota", _) | (_, "insufficient_quota") => ErrorKind::RateLimited,
        (_, "overloaded") | ("overloaded_error", _) => ErrorKind::Overloaded,
        ("invalid_request_error", _) => ErrorKind::InvalidRequest,
        _ => ErrorKind::Server,
    };
    let message = message_of(&json!({ "error": error }))
        .unwrap_or_else(|| "the provider reported an error".into());
    ProviderError {
        status: kind.status(),
        kind,
        message,
    }
}

/// `type` and `code` for a kind, as OpenAI writes them where it has one.
fn type_and_code(kind: ErrorKind) -> (&'static str, Value) {
    match kind {
        ErrorKind::InvalidRequest => ("invalid_request_error", Value::Null),
        ErrorKind::Authentication => ("authentication_error", "invalid_api_key".into()),
        ErrorKind::PermissionDenied => ("permission_error", Value::Null),
        ErrorKind::NotFound => ("not_found_error", Value::Null),
        ErrorKind::RateLimited => ("rate_limit_error", "rate_limit_exceeded".into()),
        ErrorKind::Overloaded => ("server_error", "overloaded".into()),
        ErrorKind::Server => ("server_error", Value::Null),
    }
}

/// `error.message`, `error` as text, or a top-level `message`/`detail`.
fn message_of(value: &Value) -> Option<String> {
    let map: &Map<String, Value> = value.as_object()?;
    match map.get("error") {
        Some(Value::Object(error)) => error
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string),
        Some(Value::String(text)) => Some(text.clone()),
        _ => ["message", "detail"]
            .iter()
            .find_map(|key| map.get(*key).and_then(Value::as_str))
            .map(str::to_string),
    }
}

fn raw_message(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return format!("HTTP {status}");
    }
    text.chars().take(MAX_RAW_MESSAGE).collect()
}
