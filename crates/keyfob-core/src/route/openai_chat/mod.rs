//! OpenAI Chat Completions (`chat/completions`), also spoken by Groq, Mistral, DeepSeek,
//! OpenRouter and local servers. Wire format: the OpenAI API reference and openai-node's
//! `resources/chat/completions` types; the stream as openai-node's `Stream` and
//! `ChatCompletionStream` read it.
//!
//! Mapped: `system`/`developer` messages (before the first other message) to the system
//! prompt; `user` text and `image_url` parts (`data:` URLs as base64, others as URLs);
//! `assistant` text, `refusal` and `tool_calls`; `tool` messages as tool results in a
//! user turn; function `tools`, `tool_choice`, `parallel_tool_calls`; `max_tokens` or
//! `max_completion_tokens` (upstream always `max_completion_tokens`); `temperature`,
//! `top_p`, `stop`, `stream`, `stream_options.include_usage`; `response_format`;
//! `reasoning_effort` minimal…high. Reasoning text from OpenAI-compatible servers
//! (`reasoning_content`, `reasoning`) is read as thinking, and thinking is written to
//! apps as `reasoning_content` (openai-node passes unknown delta fields through).
//! Usage: `prompt_tokens` includes `cached_tokens` (and `cache_write_tokens`), as the
//! common form's `input` does; `completion_tokens` includes `reasoning_tokens`.
//!
//! Dropped (harmless to the answer): `user`, `safety_identifier`, `metadata`, `store`,
//! `service_tier`, `seed` (best-effort determinism only), the prompt-cache hints
//! (`prompt_cache_key`, `prompt_cache_retention`, `prompt_cache_options`, parts'
//! `prompt_cache_breakpoint`), `stream_options.include_obfuscation`, messages' `name`,
//! an image's `detail` (a resolution/cost hint), annotations on answers; toward an
//! upstream Chat provider: thinking, redacted thinking, other dialects' signatures,
//! a tool result's `is_error` (Chat has no such flag: the result text says it), and
//! `reasoning.include_thoughts` (Chat returns no reasoning summaries).
//!
//! Refused ([`RouteError::Unsupported`]): `n` > 1, `logprobs`, `top_logprobs`,
//! `logit_bias`, non-zero penalties, `audio` and audio `modalities`, `prediction`,
//! legacy `functions`/`function_call`, `web_search_options`, `moderation`,
//! `verbosity`, custom tools, `strict` function tools, `allowed_tools` choices,
//! `input_audio` and `file` parts, a system message mid-conversation, a schema
//! `description`, efforts `none`/`xhigh`/`max`, unknown fields; when encoding: images in
//! assistant turns or tool results, tool names OpenAI rejects, a thinking budget without
//! an effort, `pause_turn`, image output.
//!
//! The answer's `created` is 0: the common form carries no timestamp and the core reads
//! no clock. A refusal answered whole goes in `refusal` with finish `stop`; streamed, its
//! text goes as content and the finish is `content_filter` (the text has already been
//! sent as content by the time the stop reason is known).

mod encoder;
mod error;
mod messages;
mod request;
mod response;
mod stream;
mod upstream;

pub use encoder::Encoder;
pub use error::{decode_error, encode_error};
pub use request::decode_request;
pub use response::{decode_response, encode_response};
pub use stream::Decoder;
pub use upstream::encode_request;

use serde_json::{Map, Value};

use super::ir::{RouteError, StopReason, Usage};
use super::Dialect;

/// The endpoint below the API root.
const ENDPOINT: &str = "chat/completions";

fn malformed(detail: impl Into<String>) -> RouteError {
    RouteError::malformed(Dialect::OpenAiChat, detail)
}

fn unsupported(feature: impl Into<String>) -> RouteError {
    RouteError::unsupported(feature)
}

fn parse(body: &[u8]) -> Result<Map<String, Value>, RouteError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(malformed("the body is not a JSON object")),
        Err(error) => Err(malformed(format!("invalid JSON: {error}"))),
    }
}

/// A field that must be a string (or absent/null).
fn opt_str<'a>(map: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, RouteError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(malformed(format!("`{key}` is not a string"))),
    }
}

fn opt_u64(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, RouteError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_u64()
            .map(Some)
            .ok_or_else(|| malformed(format!("`{key}` is not a non-negative integer"))),
    }
}

/// Usage as Chat Completions writes it.
fn decode_usage(value: &Value) -> Result<Usage, RouteError> {
    let Value::Object(map) = value else {
        return Err(malformed("`usage` is not an object"));
    };
    let detail = |outer: &str, inner: &str| -> Result<u64, RouteError> {
        match map.get(outer) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Object(details)) => Ok(opt_u64(details, inner)?.unwrap_or(0)),
            Some(_) => Err(malformed(format!("`usage.{outer}` is not an object"))),
        }
    };
    Ok(Usage {
        input: opt_u64(map, "prompt_tokens")?.unwrap_or(0),
        output: opt_u64(map, "completion_tokens")?.unwrap_or(0),
        // DeepSeek says `prompt_cache_hit_tokens` (also part of `prompt_tokens`).
        cache_read: match detail("prompt_tokens_details", "cached_tokens")? {
            0 => opt_u64(map, "prompt_cache_hit_tokens")?.unwrap_or(0),
            cached => cached,
        },
        cache_write: detail("prompt_tokens_details", "cache_write_tokens")?,
        reasoning: detail("completion_tokens_details", "reasoning_tokens")?,
    })
}

fn encode_usage(usage: &Usage) -> Value {
    let mut prompt_details = Map::new();
    prompt_details.insert("cached_tokens".into(), usage.cache_read.into());
    if usage.cache_write > 0 {
        prompt_details.insert("cache_write_tokens".into(), usage.cache_write.into());
    }
    serde_json::json!({
        "prompt_tokens": usage.input,
        "completion_tokens": usage.output,
        "total_tokens": usage.input + usage.output,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": { "reasoning_tokens": usage.reasoning },
    })
}

/// `finish_reason`; `refused` says the answer came as a refusal. Chat cannot tell a
/// stop sequence from a natural end, so `stop` is [`StopReason::End`].
fn decode_finish(reason: &str, refused: bool) -> Result<StopReason, RouteError> {
    match reason {
        "stop" if refused => Ok(StopReason::Refusal),
        "stop" => Ok(StopReason::End),
        "length" => Ok(StopReason::MaxTokens),
        "tool_calls" => Ok(StopReason::ToolUse),
        "content_filter" => Ok(StopReason::ContentFilter),
        "function_call" => Err(unsupported("legacy function calling")),
        other => Err(malformed(format!("unknown finish_reason `{other}`"))),
    }
}

/// The `finish_reason` for `stop`. A streamed refusal's text has gone out as content,
/// so only `content_filter` still tells the app it was refused.
fn encode_finish(stop: Option<&StopReason>, streamed: bool) -> Result<&'static str, RouteError> {
    match stop {
        None | Some(StopReason::End) | Some(StopReason::StopSequence(_)) => Ok("stop"),
        Some(StopReason::Refusal) if streamed => Ok("content_filter"),
        Some(StopReason::Refusal) => Ok("stop"),
        Some(StopReason::MaxTokens) => Ok("length"),
        Some(StopReason::ToolUse) => Ok("tool_calls"),
        Some(StopReason::ContentFilter) => Ok("content_filter"),
        Some(StopReason::Pause) => Err(unsupported("pause_turn")),
    }
}
