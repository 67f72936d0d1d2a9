//! The whole (non-streamed) answer, both ways.

use serde_json::{json, Value};

use super::content::{part_from_wire, part_to_wire, Audience};
use super::{
    as_object, field, malformed, parse, stop_from_wire, stop_to_wire, str_field, to_bytes,
    usage_from_wire, usage_to_wire,
};
use crate::route::ir::{ChatResponse, Part, RouteError};

pub fn decode_response(body: &[u8]) -> Result<ChatResponse, RouteError> {
    let body = parse(body)?;
    if str_field(&body, "type", "the answer")? != "message" {
        return Err(malformed("the answer is not a message"));
    }
    let parts = field(&body, "content")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("the answer needs `content`"))?
        .iter()
        .map(part_from_wire)
        .collect::<Result<Vec<_>, _>>()?;
    if parts
        .iter()
        .any(|part| matches!(part, Part::Image(_) | Part::ToolResult { .. }))
    {
        return Err(malformed("an answer holds no images or tool results"));
    }
    let stop = match field(&body, "stop_reason") {
        None => None,
        Some(reason) => Some(stop_from_wire(
            reason
                .as_str()
                .ok_or_else(|| malformed("`stop_reason` is not a string"))?,
            field(&body, "stop_sequence").and_then(Value::as_str),
        )?),
    };
    let usage = match field(&body, "usage") {
        Some(usage) => usage_from_wire(as_object(usage, "`usage`")?),
        None => Default::default(),
    };
    Ok(ChatResponse {
        id: str_field(&body, "id", "the answer")?.to_string(),
        model: str_field(&body, "model", "the answer")?.to_string(),
        parts,
        stop,
        usage,
    })
}

pub fn encode_response(response: &ChatResponse) -> Result<Vec<u8>, RouteError> {
    let mut content = Vec::new();
    for part in &response.parts {
        if matches!(part, Part::Image(_)) {
            return Err(RouteError::unsupported("image output"));
        }
        content.extend(part_to_wire(part, Audience::App)?);
    }
    let (stop_reason, stop_sequence) = stop_to_wire(response.stop.as_ref());
    Ok(to_bytes(&json!({
        "id": response.id,
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage_to_wire(&response.usage),
    })))
}
