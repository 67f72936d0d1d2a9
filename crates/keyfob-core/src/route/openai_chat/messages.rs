//! The conversation: Chat `messages` to the common form's system prompt and turns.

use serde_json::{Map, Value};

use super::{malformed, opt_str, unsupported};
use crate::route::ir::{self, ChatRequest, Image, Message, Part, Role, RouteError};

pub(super) fn decode_messages(value: &Value, request: &mut ChatRequest) -> Result<(), RouteError> {
    let Value::Array(list) = value else {
        return Err(malformed("`messages` is not an array"));
    };
    let mut previous_was_tool = false;
    for message in list {
        let Value::Object(message) = message else {
            return Err(malformed("a message is not an object"));
        };
        let role = opt_str(message, "role")?.ok_or_else(|| malformed("a message has no role"))?;
        let is_tool = role == "tool";
        match role {
            "system" | "developer" => {
                allow_fields(message, &["role", "content", "name"])?;
                if !request.messages.is_empty() {
                    return Err(unsupported("a system message after the conversation start"));
                }
                request.system.extend(decode_text_content(message, role)?);
            }
            "user" => {
                allow_fields(message, &["role", "content", "name"])?;
                let parts = decode_user_content(message.get("content"))?;
                request.messages.push(Message {
                    role: Role::User,
                    parts,
                });
            }
            "assistant" => request.messages.push(decode_assistant(message)?),
            "tool" => {
                let result = decode_tool_result(message)?;
                match request.messages.last_mut() {
                    // Consecutive tool messages answer one assistant turn: one user turn.
                    Some(last) if previous_was_tool => last.parts.push(result),
                    _ => request.messages.push(Message {
                        role: Role::User,
                        parts: vec![result],
                    }),
                }
            }
            "function" => return Err(unsupported("legacy function calling")),
            other => return Err(malformed(format!("unknown message role `{other}`"))),
        }
        previous_was_tool = is_tool;
    }
    Ok(())
}

/// Refuses any field the message type does not have.
pub(super) fn allow_fields(map: &Map<String, Value>, allowed: &[&str]) -> Result<(), RouteError> {
    match map.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(unsupported(format!("unknown field `{key}`"))),
        None => Ok(()),
    }
}

/// `content` of a message that takes only text (system, developer, tool).
fn decode_text_content(
    message: &Map<String, Value>,
    role: &str,
) -> Result<Vec<String>, RouteError> {
    match message.get("content") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(vec![text.clone()]),
        Some(Value::Array(parts)) => parts
            .iter()
            .map(|part| match decode_part(part)? {
                Part::Text(text) => Ok(text),
                _ => Err(unsupported(format!("an image in a {role} message"))),
            })
            .collect(),
        Some(_) => Err(malformed(format!("a {role} message's content is not text"))),
    }
}

fn decode_user_content(content: Option<&Value>) -> Result<Vec<Part>, RouteError> {
    match content {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(vec![Part::Text(text.clone())]),
        Some(Value::Array(parts)) => parts.iter().map(decode_part).collect(),
        Some(_) => Err(malformed(
            "a user message's content is neither text nor parts",
        )),
    }
}

/// A content part: text or image; audio and files cannot be routed.
fn decode_part(part: &Value) -> Result<Part, RouteError> {
    let Value::Object(part) = part else {
        return Err(malformed("a content part is not an object"));
    };
    match opt_str(part, "type")? {
        Some("text") => {
            allow_fields(part, &["type", "text", "prompt_cache_breakpoint"])?;
            let text =
                opt_str(part, "text")?.ok_or_else(|| malformed("a text part has no text"))?;
            Ok(Part::Text(text.to_string()))
        }
        Some("image_url") => {
            allow_fields(part, &["type", "image_url", "prompt_cache_breakpoint"])?;
            let Some(Value::Object(image)) = part.get("image_url") else {
                return Err(malformed("an image_url part has no image_url object"));
            };
            allow_fields(image, &["url", "detail"])?;
            let url = opt_str(image, "url")?.ok_or_else(|| malformed("an image has no url"))?;
            Ok(Part::Image(decode_image_url(url)?))
        }
        Some("input_audio") => Err(unsupported("audio input")),
        Some("file") => Err(unsupported("file input")),
        Some(other) => Err(unsupported(format!("`{other}` content part"))),
        None => Err(malformed("a content part has no type")),
    }
}

/// `data:<media type>;base64,<data>` is an inline image; anything else is a URL.
fn decode_image_url(url: &str) -> Result<Image, RouteError> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Ok(Image::Url(url.to_string()));
    };
    let (meta, data) = rest
        .split_once(',')
        .ok_or_else(|| malformed("an image data URL has no comma"))?;
    let media_type = meta
        .strip_suffix(";base64")
        .ok_or_else(|| unsupported("an image data URL that is not base64"))?;
    Ok(Image::Base64 {
        media_type: media_type.to_string(),
        data: data.to_string(),
    })
}

fn decode_assistant(message: &Map<String, Value>) -> Result<Message, RouteError> {
    let (parts, _) = decode_assistant_parts(message, Source::App)?;
    Ok(Message {
        role: Role::Assistant,
        parts,
    })
}

/// Who wrote an assistant message. An app's request is held to the fields this codec
/// knows; a provider's answer may carry newer ones (annotations, logprobs) and is read
/// for what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    App,
    Provider,
}

/// An assistant message's parts, and whether it is a refusal.
pub(super) fn decode_assistant_parts(
    message: &Map<String, Value>,
    source: Source,
) -> Result<(Vec<Part>, bool), RouteError> {
    if source == Source::App {
        allow_fields(
            message,
            &[
                "role",
                "content",
                "name",
                "refusal",
                "tool_calls",
                "reasoning_content",
                "reasoning",
                "audio",
                "function_call",
            ],
        )?;
    }
    if message.get("audio").is_some_and(|audio| !audio.is_null()) {
        return Err(unsupported("audio output"));
    }
    if message
        .get("function_call")
        .is_some_and(|call| !call.is_null())
    {
        return Err(unsupported("legacy function calling"));
    }
    let mut parts = Vec::new();
    // OpenAI-compatible servers' reasoning text (and an app echoing it back).
    for key in ["reasoning_content", "reasoning"] {
        if let Some(text) = opt_str(message, key)?.filter(|text| !text.is_empty()) {
            parts.push(Part::Thinking {
                text: text.to_string(),
                signature: None,
            });
        }
    }
    match message.get("content") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) if text.is_empty() => {}
        Some(Value::String(text)) => parts.push(Part::Text(text.clone())),
        Some(Value::Array(list)) => {
            for part in list {
                parts.push(decode_assistant_part(part)?);
            }
        }
        Some(_) => return Err(malformed("an assistant message's content is not text")),
    }
    let refusal = opt_str(message, "refusal")?.filter(|text| !text.is_empty());
    if let Some(text) = refusal {
        parts.push(Part::Text(text.to_string()));
    }
    match message.get("tool_calls") {
        None | Some(Value::Null) => {}
        Some(Value::Array(calls)) => {
            for call in calls {
                parts.push(decode_tool_call(call, source)?);
            }
        }
        Some(_) => return Err(malformed("`tool_calls` is not an array")),
    }
    Ok((parts, refusal.is_some()))
}

/// An assistant content part: text, or an earlier refusal (kept as text).
fn decode_assistant_part(part: &Value) -> Result<Part, RouteError> {
    let Value::Object(map) = part else {
        return Err(malformed("a content part is not an object"));
    };
    match opt_str(map, "type")? {
        Some("refusal") => {
            allow_fields(map, &["type", "refusal"])?;
            let text = opt_str(map, "refusal")?.unwrap_or_default();
            Ok(Part::Text(text.to_string()))
        }
        Some("text") => decode_part(part),
        Some(other) => Err(unsupported(format!(
            "`{other}` part in an assistant message"
        ))),
        None => Err(malformed("a content part has no type")),
    }
}

fn decode_tool_call(call: &Value, source: Source) -> Result<Part, RouteError> {
    let Value::Object(call) = call else {
        return Err(malformed("a tool call is not an object"));
    };
    match opt_str(call, "type")? {
        Some("function") | None => {}
        Some("custom") => return Err(unsupported("custom tools")),
        Some(other) => return Err(malformed(format!("unknown tool call type `{other}`"))),
    }
    if source == Source::App {
        allow_fields(call, &["id", "type", "function"])?;
    }
    let id = opt_str(call, "id")?.ok_or_else(|| malformed("a tool call has no id"))?;
    let Some(Value::Object(function)) = call.get("function") else {
        return Err(malformed("a tool call has no function"));
    };
    if source == Source::App {
        allow_fields(function, &["name", "arguments"])?;
    }
    let name = opt_str(function, "name")?.ok_or_else(|| malformed("a tool call has no name"))?;
    let arguments = opt_str(function, "arguments")?.unwrap_or_default();
    let (id, signature) = ir::split_id(id);
    Ok(Part::ToolCall {
        id,
        name: name.to_string(),
        arguments: arguments.to_string(),
        signature,
    })
}

fn decode_tool_result(message: &Map<String, Value>) -> Result<Part, RouteError> {
    allow_fields(message, &["role", "content", "tool_call_id"])?;
    let call_id = opt_str(message, "tool_call_id")?
        .ok_or_else(|| malformed("a tool message has no tool_call_id"))?;
    let content = decode_text_content(message, "tool")?
        .into_iter()
        .map(Part::Text)
        .collect();
    Ok(Part::ToolResult {
        call_id: ir::split_id(call_id).0,
        name: None,
        content,
        is_error: false,
    })
}
