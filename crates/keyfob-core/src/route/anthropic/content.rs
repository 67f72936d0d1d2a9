//! Content blocks, both ways: the parts of a message or an answer.

use serde_json::{json, Map, Value};

use super::{
    as_object, call_id_to_wire, field, malformed, opaque_from_wire, opaque_to_wire, str_field,
    valid_name,
};
use crate::route::ir::{self, Image, Opaque, Part, RouteError};
use crate::route::Dialect;

/// Who the blocks are written for: the provider gets Anthropic's own tokens only, an
/// app gets every token (foreign ones in band).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Audience {
    Provider,
    App,
}

/// A message's `content`: a string or an array of blocks.
pub(super) fn parts_from_wire(content: &Value) -> Result<Vec<Part>, RouteError> {
    match content {
        Value::String(text) => Ok(vec![Part::Text(text.clone())]),
        Value::Array(blocks) => blocks.iter().map(part_from_wire).collect(),
        _ => Err(malformed("content is neither a string nor an array")),
    }
}

/// One block of a request message or of an answer.
pub(super) fn part_from_wire(block: &Value) -> Result<Part, RouteError> {
    let block = as_object(block, "a content block")?;
    let kind = str_field(block, "type", "a content block")?;
    match kind {
        "text" => text_from_wire(block),
        "image" => Ok(Part::Image(image_from_wire(block)?)),
        "tool_use" => {
            if let Some(caller) = field(block, "caller") {
                if caller.get("type").and_then(Value::as_str) != Some("direct") {
                    return Err(RouteError::unsupported("programmatic tool calling"));
                }
            }
            let (id, signature) = ir::split_id(str_field(block, "id", "a tool_use block")?);
            let input = field(block, "input").cloned().unwrap_or_else(|| json!({}));
            Ok(Part::ToolCall {
                id,
                name: str_field(block, "name", "a tool_use block")?.to_string(),
                arguments: input.to_string(),
                signature,
            })
        }
        "tool_result" => tool_result_from_wire(block),
        "thinking" => {
            let signature = str_field(block, "signature", "a thinking block")?;
            Ok(Part::Thinking {
                text: str_field(block, "thinking", "a thinking block")?.to_string(),
                signature: (!signature.is_empty()).then(|| opaque_from_wire(signature)),
            })
        }
        "redacted_thinking" => Ok(Part::RedactedThinking(opaque_from_wire(str_field(
            block,
            "data",
            "a redacted_thinking block",
        )?))),
        "document" => Err(RouteError::unsupported("document")),
        "search_result" => Err(RouteError::unsupported("search result")),
        "container_upload" => Err(RouteError::unsupported("container upload")),
        server if server.starts_with("server_tool_use") || server.ends_with("_tool_result") => {
            Err(RouteError::unsupported("server tool use"))
        }
        other => Err(RouteError::unsupported(format!("content block `{other}`"))),
    }
}

fn text_from_wire(block: &Map<String, Value>) -> Result<Part, RouteError> {
    if field(block, "citations").is_some_and(|c| c.as_array().is_none_or(|c| !c.is_empty())) {
        return Err(RouteError::unsupported("citations"));
    }
    Ok(Part::Text(
        str_field(block, "text", "a text block")?.to_string(),
    ))
}

fn image_from_wire(block: &Map<String, Value>) -> Result<Image, RouteError> {
    let source = as_object(
        field(block, "source").ok_or_else(|| malformed("an image block needs a `source`"))?,
        "an image source",
    )?;
    match str_field(source, "type", "an image source")? {
        "base64" => Ok(Image::Base64 {
            media_type: str_field(source, "media_type", "a base64 image")?.to_string(),
            data: str_field(source, "data", "a base64 image")?.to_string(),
        }),
        "url" => Ok(Image::Url(
            str_field(source, "url", "a URL image")?.to_string(),
        )),
        "file" => Err(RouteError::unsupported("image by file id")),
        other => Err(malformed(format!("image source `{other}`"))),
    }
}

fn tool_result_from_wire(block: &Map<String, Value>) -> Result<Part, RouteError> {
    // The app echoes the id we gave it; a token riding on it belongs to the call.
    let (call_id, _) = ir::split_id(str_field(block, "tool_use_id", "a tool_result block")?);
    let content = match field(block, "content") {
        None => Vec::new(),
        Some(content) => parts_from_wire(content)?,
    };
    if content
        .iter()
        .any(|part| !matches!(part, Part::Text(_) | Part::Image(_)))
    {
        return Err(malformed("a tool_result holds only text and images"));
    }
    let is_error = match field(block, "is_error") {
        None => false,
        Some(value) => value
            .as_bool()
            .ok_or_else(|| malformed("`is_error` is not a boolean"))?,
    };
    Ok(Part::ToolResult {
        call_id,
        name: None,
        content,
        is_error,
    })
}

/// A part as a block, or `None` for reasoning the audience may not receive (another
/// dialect's, or an unsigned summary: Anthropic takes back only signed thinking).
pub(super) fn part_to_wire(part: &Part, audience: Audience) -> Result<Option<Value>, RouteError> {
    Ok(Some(match part {
        Part::Text(text) => json!({ "type": "text", "text": text }),
        Part::Image(image) => image_to_wire(image),
        Part::ToolCall {
            id,
            name,
            arguments,
            signature,
        } => {
            let id = match audience {
                // Another dialect's token (Gemini thoughtSignature) stays with its dialect.
                Audience::Provider => id.clone(),
                Audience::App => call_id_to_wire(id, signature.as_ref()),
            };
            if !valid_name(&id) {
                return Err(RouteError::unsupported(
                    "tool call id with characters Anthropic refuses",
                ));
            }
            json!({
                "type": "tool_use",
                "id": id,
                "name": name,
                "input": arguments_to_input(arguments)?,
            })
        }
        Part::ToolResult {
            call_id,
            content,
            is_error,
            ..
        } => {
            if audience == Audience::App {
                return Err(RouteError::unsupported("tool result in an answer"));
            }
            if !valid_name(call_id) {
                return Err(RouteError::unsupported(
                    "tool call id with characters Anthropic refuses",
                ));
            }
            let mut block = json!({ "type": "tool_result", "tool_use_id": call_id });
            match content.as_slice() {
                [] => {}
                [Part::Text(text)] => block["content"] = json!(text),
                parts => {
                    let mut blocks = Vec::new();
                    for part in parts {
                        match part {
                            Part::Text(_) | Part::Image(_) => {
                                blocks.extend(part_to_wire(part, audience)?);
                            }
                            _ => return Err(malformed("a tool result holds only text and images")),
                        }
                    }
                    block["content"] = Value::Array(blocks);
                }
            }
            if *is_error {
                block["is_error"] = json!(true);
            }
            block
        }
        Part::Thinking { text, signature } => match (audience, signature) {
            (Audience::App, signature) => json!({
                "type": "thinking",
                "thinking": text,
                "signature": signature.as_ref().map(opaque_to_wire).unwrap_or_default(),
            }),
            (Audience::Provider, Some(token)) if own(token) => json!({
                "type": "thinking",
                "thinking": text,
                "signature": token.value,
            }),
            (Audience::Provider, _) => return Ok(None),
        },
        Part::RedactedThinking(token) => match audience {
            Audience::App => json!({ "type": "redacted_thinking", "data": opaque_to_wire(token) }),
            Audience::Provider if own(token) => {
                json!({ "type": "redacted_thinking", "data": token.value })
            }
            Audience::Provider => return Ok(None),
        },
    }))
}

fn own(token: &Opaque) -> bool {
    token.dialect == Dialect::Anthropic
}

fn image_to_wire(image: &Image) -> Value {
    let source = match image {
        Image::Base64 { media_type, data } => {
            json!({ "type": "base64", "media_type": media_type, "data": data })
        }
        Image::Url(url) => json!({ "type": "url", "url": url }),
    };
    json!({ "type": "image", "source": source })
}

/// A call's arguments JSON text as the `input` object (empty text: no arguments).
pub(super) fn arguments_to_input(arguments: &str) -> Result<Value, RouteError> {
    if arguments.trim().is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_str(arguments) {
        Ok(input @ Value::Object(_)) => Ok(input),
        _ => Err(RouteError::unsupported(
            "tool call arguments that are not a JSON object",
        )),
    }
}
