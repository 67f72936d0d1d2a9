//! Anthropic Messages (`POST /v1/messages`), both as the app's dialect and as the
//! provider's. Wire format per the API reference and `@anthropic-ai/sdk`'s types
//! (`resources/messages/messages.ts`, `lib/MessageStream.ts`, `core/streaming.ts`).
//!
//! Mapped: `model`, `max_tokens`, `system` (string or text blocks), `messages` with
//! string or block content (`text`, `image` by base64 or URL, `tool_use`,
//! `tool_result` with string or text/image content and `is_error`, `thinking` with its
//! signature, `redacted_thinking`), custom `tools`, `tool_choice` (`auto`, `any`,
//! `tool`, `none`, `disable_parallel_tool_use`), `temperature`, `top_p`,
//! `stop_sequences`, `stream`, `thinking` (`enabled` with `budget_tokens` and
//! `display`; `disabled` is a budget of 0), `output_config.format` (a JSON schema).
//! Answers: text, thinking, redacted thinking and tool-use blocks, every stop reason
//! (`model_context_window_exceeded` reads as MaxTokens), usage with cache reads,
//! cache writes and `output_tokens_details.thinking_tokens`. Errors by `error.type`.
//!
//! Dropped (harmless): `metadata`, `service_tier`, `user_profile_id`, every
//! `cache_control` (top level, system, blocks, tools), a tool's
//! `eager_input_streaming`, the stream's `ping`s.
//!
//! Refused (`Unsupported`): `top_k`, server/built-in tools (any tool with a `type`
//! other than `custom`) and their result blocks, `strict`/`input_examples`/
//! `defer_loading`/`allowed_callers` on tools, documents, search results, images by
//! file id, citations, programmatic tool callers, `container`, `mcp_servers`,
//! `context_management`, `inference_geo`, adaptive thinking, `output_config.effort`,
//! any other top-level field. Encoding refuses: a reasoning effort with no budget,
//! JSON-object mode, tool names or call ids outside `[A-Za-z0-9_-]{1,128}`, tool-call
//! arguments that are not a JSON object, images inside an answer.
//!
//! Opaque tokens: a thinking signature or redacted-thinking datum that Anthropic
//! minted travels as is; one from another dialect reaching an Anthropic app is written
//! in band as `__kfsig_<tag>_<base64url>` (see [`ir::id_with_token`]) and read back
//! into its own dialect, so Anthropic never receives it: the request encoder sends
//! Anthropic's own tokens only. A tool call's token (Gemini `thoughtSignature`) rides
//! on its `tool_use` id the same way.
//!
//! `max_tokens` is required by the API: with none in the common form the encoder sends
//! 8192, plus the thinking budget when thinking is on (the budget counts against it).

mod content;
mod error;
mod request;
mod response;
mod stream_in;
mod stream_out;

pub use error::{decode_error, encode_error};
pub use request::{decode_request, encode_request};
pub use response::{decode_response, encode_response};
pub use stream_in::Decoder;
pub use stream_out::Encoder;

use serde_json::{json, Map, Value};

use super::ir::{self, Opaque, RouteError, StopReason, Usage};
use super::Dialect;

/// The endpoint of a generation call below the API root.
const ENDPOINT: &str = "messages";

/// `max_tokens` when the app's dialect left it out.
const DEFAULT_MAX_TOKENS: u64 = 8192;

fn malformed(detail: impl Into<String>) -> RouteError {
    RouteError::malformed(Dialect::Anthropic, detail)
}

/// Reads a signature or redacted-thinking datum: one we wrote for a foreign token comes
/// back as that token, anything else is Anthropic's own.
fn opaque_from_wire(value: &str) -> Opaque {
    match ir::split_id(value) {
        (base, Some(token)) if base.is_empty() => token,
        _ => Opaque {
            dialect: Dialect::Anthropic,
            value: value.to_string(),
        },
    }
}

/// Writes a token for an Anthropic app (see [`opaque_from_wire`]).
fn opaque_to_wire(token: &Opaque) -> String {
    match token.dialect {
        Dialect::Anthropic => token.value.clone(),
        _ => ir::id_with_token("", token),
    }
}

/// The `tool_use` id to give an app: Anthropic has no field for a call's token.
fn call_id_to_wire(id: &str, signature: Option<&Opaque>) -> String {
    match signature {
        Some(token) => ir::id_with_token(id, token),
        None => id.to_string(),
    }
}

fn stop_from_wire(reason: &str, sequence: Option<&str>) -> Result<StopReason, RouteError> {
    Ok(match reason {
        "end_turn" => StopReason::End,
        // The context filled up before max_tokens: the answer was cut off all the same.
        "max_tokens" | "model_context_window_exceeded" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence(sequence.map(str::to_string)),
        "tool_use" => StopReason::ToolUse,
        "pause_turn" => StopReason::Pause,
        "refusal" => StopReason::Refusal,
        other => return Err(malformed(format!("stop_reason `{other}`"))),
    })
}

/// `stop_reason` and `stop_sequence`. A content filter is Anthropic's `refusal` (its
/// classifiers stopping the answer), the nearest the dialect has.
fn stop_to_wire(stop: Option<&StopReason>) -> (Value, Value) {
    let reason = match stop {
        None => return (Value::Null, Value::Null),
        Some(StopReason::End) => "end_turn",
        Some(StopReason::MaxTokens) => "max_tokens",
        Some(StopReason::ToolUse) => "tool_use",
        Some(StopReason::StopSequence(sequence)) => {
            return (json!("stop_sequence"), json!(sequence));
        }
        Some(StopReason::Refusal | StopReason::ContentFilter) => "refusal",
        Some(StopReason::Pause) => "pause_turn",
    };
    (json!(reason), Value::Null)
}

/// Anthropic's `input_tokens` excludes the cache reads and writes; the common form's
/// `input` counts them. A count the object leaves out reads as 0 (not said yet).
fn usage_from_wire(usage: &Map<String, Value>) -> Usage {
    let count = |key: &str| usage.get(key).and_then(Value::as_u64).unwrap_or(0);
    let cache_read = count("cache_read_input_tokens");
    let cache_write = count("cache_creation_input_tokens");
    // A message_delta of an older API version says only output_tokens: no input then.
    let input = match usage.get("input_tokens").and_then(Value::as_u64) {
        Some(fresh) => fresh + cache_read + cache_write,
        None => 0,
    };
    let reasoning = usage
        .get("output_tokens_details")
        .and_then(|details| details.get("thinking_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Usage {
        input,
        output: count("output_tokens"),
        cache_read,
        cache_write,
        reasoning,
    }
}

fn usage_to_wire(usage: &Usage) -> Value {
    let fresh = usage
        .input
        .saturating_sub(usage.cache_read)
        .saturating_sub(usage.cache_write);
    let mut wire = json!({
        "input_tokens": fresh,
        "cache_creation_input_tokens": usage.cache_write,
        "cache_read_input_tokens": usage.cache_read,
        "output_tokens": usage.output,
    });
    if usage.reasoning > 0 {
        wire["output_tokens_details"] = json!({ "thinking_tokens": usage.reasoning });
    }
    wire
}

/// Ids and names Anthropic accepts (`^[a-zA-Z0-9_-]{1,128}$`).
fn valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A JSON object's field, `null` read as absent.
fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|value| !value.is_null())
}

fn str_field<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<&'a str, RouteError> {
    field(map, key)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(format!("{what} needs a string `{key}`")))
}

fn as_object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, RouteError> {
    value
        .as_object()
        .ok_or_else(|| malformed(format!("{what} is not an object")))
}

fn parse(body: &[u8]) -> Result<Map<String, Value>, RouteError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(malformed("the body is not a JSON object")),
        Err(error) => Err(malformed(format!("the body is not JSON: {error}"))),
    }
}

fn to_bytes(value: &Value) -> Vec<u8> {
    // Serializing a Value cannot fail (its keys are strings).
    serde_json::to_vec(value).unwrap_or_default()
}
