//! The whole answer: a `chat.completion` object to the common form and back.

use serde_json::{json, Map, Value};

use super::messages::{decode_assistant_parts, Source};
use super::{
    decode_finish, decode_usage, encode_finish, encode_usage, malformed, opt_str, parse,
    unsupported,
};
use crate::route::ir::{self, ChatResponse, Part, RouteError, StopReason, Usage};

/// The serving provider's `chat.completion`.
pub fn decode_response(body: &[u8]) -> Result<ChatResponse, RouteError> {
    let map = parse(body)?;
    let choice = match map.get("choices") {
        Some(Value::Array(choices)) if choices.len() > 1 => return Err(unsupported("n > 1")),
        Some(Value::Array(choices)) => choices
            .first()
            .and_then(Value::as_object)
            .ok_or_else(|| malformed("the answer has no choice"))?,
        _ => return Err(malformed("`choices` is not an array")),
    };
    let Some(Value::Object(message)) = choice.get("message") else {
        return Err(malformed("the choice has no message"));
    };
    let (parts, refused) = decode_assistant_parts(message, Source::Provider)?;
    let stop = opt_str(choice, "finish_reason")?
        .map(|reason| decode_finish(reason, refused))
        .transpose()?;
    let usage = match map.get("usage") {
        None | Some(Value::Null) => Usage::default(),
        Some(usage) => decode_usage(usage)?,
    };
    Ok(ChatResponse {
        id: opt_str(&map, "id")?.unwrap_or_default().to_string(),
        model: opt_str(&map, "model")?.unwrap_or_default().to_string(),
        parts,
        stop,
        usage,
    })
}

/// The answer as openai-node's `ChatCompletion`.
pub fn encode_response(response: &ChatResponse) -> Result<Vec<u8>, RouteError> {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    for part in &response.parts {
        match part {
            Part::Text(chunk) => text.push_str(chunk),
            Part::Thinking { text: chunk, .. } => reasoning.push_str(chunk),
            // Only its own dialect can read it, and Chat has no place for it.
            Part::RedactedThinking(_) => {}
            Part::ToolCall {
                id,
                name,
                arguments,
                signature,
            } => calls.push(json!({
                "id": app_call_id(id, signature.as_ref()),
                "type": "function",
                "function": { "name": name, "arguments": arguments },
            })),
            Part::Image(_) => return Err(unsupported("image output")),
            Part::ToolResult { .. } => return Err(unsupported("a tool result in an answer")),
        }
    }
    let refused = response.stop == Some(StopReason::Refusal);
    let (content, refusal) = match (text.is_empty(), refused) {
        (false, true) => (Value::Null, Value::String(text)),
        (false, false) => (Value::String(text), Value::Null),
        (true, _) if !calls.is_empty() => (Value::Null, Value::Null),
        (true, _) => (Value::String(String::new()), Value::Null),
    };
    let mut message = Map::new();
    message.insert("role".into(), "assistant".into());
    message.insert("content".into(), content);
    message.insert("refusal".into(), refusal);
    if !reasoning.is_empty() {
        message.insert("reasoning_content".into(), reasoning.into());
    }
    if !calls.is_empty() {
        message.insert("tool_calls".into(), calls.into());
    }
    let body = json!({
        "id": response_id(&response.id),
        "object": "chat.completion",
        "created": 0,
        "model": response.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": encode_finish(response.stop.as_ref(), false)?,
        }],
        "usage": encode_usage(&response.usage),
    });
    serde_json::to_vec(&body)
        .map_err(|error| malformed(format!("cannot write the answer: {error}")))
}

/// The tool-call id to give the app: a provider token Chat has no field for rides on it.
pub(super) fn app_call_id(id: &str, signature: Option<&ir::Opaque>) -> String {
    match signature {
        Some(token) => ir::id_with_token(id, token),
        None => id.to_string(),
    }
}

/// openai-node needs an id; an upstream that gave none gets a fixed one.
pub(super) fn response_id(id: &str) -> &str {
    if id.is_empty() {
        "chatcmpl-keyfob"
    } else {
        id
    }
}
