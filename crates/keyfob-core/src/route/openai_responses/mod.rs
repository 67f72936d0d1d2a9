//! OpenAI Responses (`POST /v1/responses`): request, answer, SSE stream and errors.
//!
//! Mapped: `model`, `instructions` and leading `system`/`developer` messages (system
//! prompt), `input` as a string or items (`message` with `input_text`/`output_text`/
//! `refusal`/`input_image` parts, `function_call`, `function_call_output`, `reasoning`),
//! function `tools`, `tool_choice`, `parallel_tool_calls`, `max_output_tokens`,
//! `temperature`, `top_p`, `stream`, `text.format`, `reasoning.effort`/`summary`.
//!
//! Dropped (harmless metadata or hints): `store`, `metadata`, `user`,
//! `safety_identifier`, `service_tier`, `prompt_cache_key`, `prompt_cache_retention`,
//! `prompt_cache_options`, `stream_options` (obfuscation padding), `truncation`,
//! `include` values other than logprobs, `text.verbosity: "medium"` (the default), the
//! image `detail` hint, the summary level (`concise`/`detailed` read as "wanted"), tool
//! `strict` (the IR has no place for it: the schema still reaches the model, only
//! constrained decoding is lost; we send `strict: false`, which any schema accepts),
//! output-text `annotations`, item ids of messages and function calls, tool-result
//! `is_error` (Responses has no such flag: the output text carries the error).
//!
//! Refused: `previous_response_id`, `conversation`, `background`, `prompt`,
//! `context_management`, `moderation`, `max_tool_calls`, `top_logprobs` and logprobs in
//! `include`, other `text.verbosity` values, `json_schema` descriptions, reasoning
//! efforts the IR lacks (`none`, `xhigh`, `max`), built-in and custom tools (web and
//! file search, computer use, code interpreter, MCP, image generation, shell …), images
//! by `file_id`, file and audio inputs, item references, system messages after the
//! conversation started, unknown fields.
//!
//! Reasoning items: `encrypted_content` is an [`Opaque`] of this dialect whose value is
//! `"<item id> <encrypted_content>"` (both are needed to send the item back). A reasoning
//! item is one or more `Thinking` parts (one per summary part, the token on the last) or,
//! with no summary, one `RedactedThinking`. A reasoning item without `encrypted_content`
//! points at state stored at OpenAI, which a route cannot vouch for: its summary is read
//! as unsigned `Thinking`, and unsigned thinking is never sent upstream. Requests we
//! write set `store: false` and, when reasoning is asked for, include the encrypted
//! reasoning, so multi-turn reasoning works without server state. A thinking signature
//! minted by another dialect rides on the reasoning item's `id` ([`ir::id_with_token`];
//! `_redacted` on the id's base marks redacted thinking) and tool-call signatures on the
//! `call_id`; the decoders split every id they read with [`ir::split_id`].
//!
//! Streams: the encoder emits what openai-node's `ResponseStream` accumulates (every
//! delta's item and part announced first, `sequence_number` rising from 0, the final
//! `response.completed`/`response.incomplete` repeating the whole response). Text and
//! tool-call arguments stream as they come; a reasoning item is held until it closes,
//! because its id (which may carry a signature) must be final when it is announced. A
//! mid-stream failure is `event: error` with the documented flat fields plus a nested
//! `error` object: openai-node's `Stream` throws an `APIError` on `event: error`, the
//! Python SDK on a `data.error` object; `response.failed` would not raise in either.
//! The IR has no creation time and the core no clock, so `created_at` is 0.

mod error;
mod request_decode;
mod request_encode;
mod response;
mod stream_decode;
mod stream_encode;

use serde_json::{Map, Value};

use super::ir::{self, Opaque, Part, RouteError, Usage};
use super::Dialect;

pub use error::{decode_error, encode_error};
pub use request_decode::decode_request;
pub use request_encode::encode_request;
pub use response::{decode_response, encode_response};
pub use stream_decode::Decoder;
pub use stream_encode::Encoder;

const DIALECT: Dialect = Dialect::OpenAiResponses;
const ENDPOINT: &str = "responses";
/// Ends the base of a minted reasoning-item id whose foreign token is redacted thinking.
const REDACTED: &str = "_redacted";

fn malformed(detail: impl Into<String>) -> RouteError {
    RouteError::malformed(DIALECT, detail)
}

fn parse(body: &[u8]) -> Result<Map<String, Value>, RouteError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(malformed("the body is not a JSON object")),
        Err(error) => Err(malformed(format!("invalid JSON: {error}"))),
    }
}

/// A field that may be absent or `null`.
fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|value| !value.is_null())
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, RouteError> {
    value
        .as_object()
        .ok_or_else(|| malformed(format!("{what} is not an object")))
}

fn array<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>, RouteError> {
    value
        .as_array()
        .ok_or_else(|| malformed(format!("{what} is not an array")))
}

/// An array field, empty when absent.
fn list<'a>(map: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], RouteError> {
    match field(map, key) {
        None => Ok(&[]),
        Some(value) => Ok(array(value, key)?),
    }
}

fn string<'a>(map: &'a Map<String, Value>, key: &str) -> Result<&'a str, RouteError> {
    field(map, key)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(format!("`{key}` is missing or not a string")))
}

fn opt_string<'a>(map: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, RouteError> {
    match field(map, key) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(malformed(format!("`{key}` is not a string"))),
    }
}

fn opt_u64(map: &Map<String, Value>, key: &str) -> Result<Option<u64>, RouteError> {
    match field(map, key) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .map(Some)
            .ok_or_else(|| malformed(format!("`{key}` is not a non-negative integer"))),
    }
}

fn type_of(map: &Map<String, Value>) -> Option<&str> {
    field(map, "type").and_then(Value::as_str)
}

/// The parts one reasoning item stands for (see the module doc).
fn reasoning_parts(item: &Map<String, Value>) -> Result<Vec<Part>, RouteError> {
    let (token, redacted) = reasoning_token(item)?;
    Ok(thinking_parts(summary_texts(item)?, token, redacted))
}

/// A reasoning item's token (ours from `encrypted_content`, or another dialect's on the
/// id) and whether, without a summary, it stands for redacted thinking.
fn reasoning_token(item: &Map<String, Value>) -> Result<(Option<Opaque>, bool), RouteError> {
    let id = opt_string(item, "id")?.unwrap_or_default();
    let encrypted = opt_string(item, "encrypted_content")?.filter(|e| !e.is_empty());
    let (base, foreign) = ir::split_id(id);
    let own = encrypted
        .filter(|_| !id.is_empty())
        .map(|encrypted| Opaque {
            dialect: DIALECT,
            value: format!("{id} {encrypted}"),
        });
    let redacted = own.is_some() || base.ends_with(REDACTED);
    Ok((own.or(foreign), redacted))
}

fn summary_texts(item: &Map<String, Value>) -> Result<Vec<String>, RouteError> {
    let mut texts = Vec::new();
    for part in list(item, "summary")? {
        texts.push(string(object(part, "a summary part")?, "text")?.to_string());
    }
    Ok(texts)
}

/// One reasoning item's summaries and token as parts: the token goes on the last summary,
/// or, with no summary, stands alone (redacted when `redacted`).
fn thinking_parts(texts: Vec<String>, token: Option<Opaque>, redacted: bool) -> Vec<Part> {
    if texts.is_empty() {
        return match token {
            Some(token) if redacted => vec![Part::RedactedThinking(token)],
            Some(token) => vec![Part::Thinking {
                text: String::new(),
                signature: Some(token),
            }],
            None => Vec::new(),
        };
    }
    let last = texts.len() - 1;
    let mut token = token;
    texts
        .into_iter()
        .enumerate()
        .map(|(at, text)| Part::Thinking {
            text,
            signature: if at == last { token.take() } else { None },
        })
        .collect()
}

/// A reasoning item for the app: the id and `encrypted_content` come from our own token;
/// another dialect's token rides on a minted id.
fn reasoning_item(
    output_index: usize,
    summaries: &[String],
    token: Option<&Opaque>,
    redacted: bool,
) -> Map<String, Value> {
    let minted = if redacted {
        format!("rs_{output_index}{REDACTED}")
    } else {
        format!("rs_{output_index}")
    };
    let (id, encrypted) = match token {
        Some(token) if token.dialect == DIALECT => match token.value.split_once(' ') {
            Some((id, encrypted)) => (id.to_string(), Some(encrypted.to_string())),
            None => (token.value.clone(), None),
        },
        Some(token) => (ir::id_with_token(&minted, token), None),
        None => (minted, None),
    };
    let mut item = Map::new();
    item.insert("id".into(), id.into());
    item.insert("type".into(), "reasoning".into());
    item.insert(
        "summary".into(),
        summaries.iter().map(|text| summary_part(text)).collect(),
    );
    if let Some(encrypted) = encrypted {
        item.insert("encrypted_content".into(), encrypted.into());
    }
    item
}

fn summary_part(text: &str) -> Value {
    serde_json::json!({"type": "summary_text", "text": text})
}

/// Our own reasoning token split into item id and encrypted content.
fn own_reasoning(token: &Opaque) -> Option<(&str, &str)> {
    (token.dialect == DIALECT)
        .then(|| token.value.split_once(' '))
        .flatten()
}

fn decode_usage(usage: &Map<String, Value>) -> Result<Usage, RouteError> {
    let detail = |key: &str, inner: &str| -> Result<u64, RouteError> {
        match field(usage, key) {
            None => Ok(0),
            Some(details) => Ok(opt_u64(object(details, key)?, inner)?.unwrap_or(0)),
        }
    };
    Ok(Usage {
        input: opt_u64(usage, "input_tokens")?.unwrap_or(0),
        output: opt_u64(usage, "output_tokens")?.unwrap_or(0),
        cache_read: detail("input_tokens_details", "cached_tokens")?,
        cache_write: 0,
        reasoning: detail("output_tokens_details", "reasoning_tokens")?,
    })
}

/// Responses usage: `input_tokens` includes cached tokens; cache writes have no field
/// (they are part of `input_tokens` already).
fn encode_usage(usage: &Usage) -> Value {
    serde_json::json!({
        "input_tokens": usage.input,
        "input_tokens_details": {"cached_tokens": usage.cache_read},
        "output_tokens": usage.output,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning},
        "total_tokens": usage.input + usage.output,
    })
}
