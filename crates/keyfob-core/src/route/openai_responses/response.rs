//! The whole (non-streamed) answer: a Responses `response` object.

use serde_json::{json, Map, Value};

use super::{
    decode_usage, encode_usage, field, list, malformed, object, opt_string, parse, reasoning_item,
    reasoning_parts, string, type_of,
};
use crate::route::ir::{self, ChatResponse, Opaque, Part, RouteError, StopReason, Usage};

pub fn decode_response(body: &[u8]) -> Result<ChatResponse, RouteError> {
    read_response(&parse(body)?)
}

/// A `response` object (also the payload of the stream's `response.completed`).
pub(super) fn read_response(response: &Map<String, Value>) -> Result<ChatResponse, RouteError> {
    let mut parts = Vec::new();
    let output = list(response, "output")?;
    for item in output {
        read_item(object(item, "an output item")?, &mut parts)?;
    }
    let usage = match field(response, "usage") {
        Some(usage) => decode_usage(object(usage, "usage")?)?,
        None => Usage::default(),
    };
    Ok(ChatResponse {
        id: string(response, "id")?.to_string(),
        model: opt_string(response, "model")?
            .unwrap_or_default()
            .to_string(),
        stop: Some(read_stop(response)?),
        parts,
        usage,
    })
}

fn read_item(item: &Map<String, Value>, parts: &mut Vec<Part>) -> Result<(), RouteError> {
    match type_of(item).unwrap_or_default() {
        "message" => {
            let content = list(item, "content")?;
            for part in content {
                let part = object(part, "a content part")?;
                match type_of(part).unwrap_or_default() {
                    "output_text" => parts.push(Part::Text(string(part, "text")?.to_string())),
                    "refusal" => parts.push(Part::Text(string(part, "refusal")?.to_string())),
                    other => return Err(malformed(format!("unknown content part {other}"))),
                }
            }
        }
        "function_call" => {
            let (id, signature) = ir::split_id(string(item, "call_id")?);
            parts.push(Part::ToolCall {
                id,
                name: string(item, "name")?.to_string(),
                arguments: string(item, "arguments")?.to_string(),
                signature,
            });
        }
        "reasoning" => parts.extend(reasoning_parts(item)?),
        other => return Err(RouteError::unsupported(format!("{other} output item"))),
    }
    Ok(())
}

/// The stop reason a finished response states: its status, then what its output holds.
pub(super) fn read_stop(response: &Map<String, Value>) -> Result<StopReason, RouteError> {
    match string(response, "status")? {
        "completed" => {
            let output = field(response, "output").and_then(Value::as_array);
            let items = output.map(|items| items.iter().filter_map(Value::as_object));
            let items: Vec<_> = items.into_iter().flatten().collect();
            if items
                .iter()
                .any(|item| type_of(item) == Some("function_call"))
            {
                return Ok(StopReason::ToolUse);
            }
            let refused = items.iter().any(|item| {
                field(item, "content")
                    .and_then(Value::as_array)
                    .is_some_and(|content| {
                        content
                            .iter()
                            .any(|p| p.get("type").and_then(Value::as_str) == Some("refusal"))
                    })
            });
            Ok(if refused {
                StopReason::Refusal
            } else {
                StopReason::End
            })
        }
        "incomplete" => {
            let reason = field(response, "incomplete_details")
                .and_then(|d| d.get("reason"))
                .and_then(Value::as_str);
            match reason {
                Some("max_output_tokens") => Ok(StopReason::MaxTokens),
                Some("content_filter") => Ok(StopReason::ContentFilter),
                other => Err(malformed(format!("unknown incomplete reason {other:?}"))),
            }
        }
        other => Err(malformed(format!("a response with status {other}"))),
    }
}

pub fn encode_response(response: &ChatResponse) -> Result<Vec<u8>, RouteError> {
    let stop = response.stop.as_ref().unwrap_or(&StopReason::End);
    let output = output_items(&response.parts)?;
    let body = response_object(
        &response.id,
        &response.model,
        Some(stop),
        output,
        Some(&response.usage),
    )?;
    serde_json::to_vec(&body).map_err(|error| malformed(format!("cannot serialize: {error}")))
}

/// The output items for `parts`, with ids minted from their output index.
fn output_items(parts: &[Part]) -> Result<Vec<Value>, RouteError> {
    let mut items = Vec::new();
    let mut summaries: Vec<String> = Vec::new();
    let flush = |summaries: &mut Vec<String>, items: &mut Vec<Value>| {
        if !summaries.is_empty() {
            items.push(reasoning_item(items.len(), summaries, None, false).into());
            summaries.clear();
        }
    };
    for part in parts {
        match part {
            Part::Thinking { text, signature } => {
                summaries.push(text.clone());
                if let Some(token) = signature {
                    items.push(reasoning_item(items.len(), &summaries, Some(token), false).into());
                    summaries.clear();
                }
            }
            Part::RedactedThinking(token) => {
                flush(&mut summaries, &mut items);
                items.push(reasoning_item(items.len(), &[], Some(token), true).into());
            }
            Part::Text(text) => {
                flush(&mut summaries, &mut items);
                items.push(message_item(items.len(), text, "completed"));
            }
            Part::ToolCall {
                id,
                name,
                arguments,
                signature,
            } => {
                flush(&mut summaries, &mut items);
                let call_id = call_id(id, signature.as_ref());
                items.push(call_item(
                    items.len(),
                    &call_id,
                    name,
                    arguments,
                    "completed",
                ));
            }
            Part::Image(_) => return Err(RouteError::unsupported("image in an answer")),
            Part::ToolResult { .. } => {
                return Err(RouteError::unsupported("tool result in an answer"))
            }
        }
    }
    flush(&mut summaries, &mut items);
    Ok(items)
}

/// The call id the app sees: a signature with no place in this dialect rides on it.
pub(super) fn call_id(id: &str, signature: Option<&Opaque>) -> String {
    match signature {
        Some(token) => ir::id_with_token(id, token),
        None => id.to_string(),
    }
}

pub(super) fn message_item(output_index: usize, text: &str, status: &str) -> Value {
    json!({
        "type": "message",
        "id": format!("msg_{output_index}"),
        "status": status,
        "role": "assistant",
        "content": [text_part(text)],
    })
}

pub(super) fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": []})
}

pub(super) fn call_item(
    output_index: usize,
    call_id: &str,
    name: &str,
    arguments: &str,
    status: &str,
) -> Value {
    json!({
        "type": "function_call",
        "id": format!("fc_{output_index}"),
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    })
}

/// A `response` object. `stop` is `None` while in progress. A refusal is said by the
/// answer's text parts being `refusal` parts (added empty when there was no text).
pub(super) fn response_object(
    id: &str,
    model: &str,
    stop: Option<&StopReason>,
    mut output: Vec<Value>,
    usage: Option<&Usage>,
) -> Result<Value, RouteError> {
    let (status, incomplete) = match stop {
        None => ("in_progress", Value::Null),
        Some(StopReason::MaxTokens) => ("incomplete", json!({"reason": "max_output_tokens"})),
        Some(StopReason::ContentFilter) => ("incomplete", json!({"reason": "content_filter"})),
        Some(StopReason::Pause) => return Err(RouteError::unsupported("stop reason pause_turn")),
        // Responses has no stop sequences: an app of this dialect never asked for one.
        Some(StopReason::End | StopReason::ToolUse | StopReason::StopSequence(_)) => {
            ("completed", Value::Null)
        }
        Some(StopReason::Refusal) => {
            as_refusal(&mut output);
            ("completed", Value::Null)
        }
    };
    Ok(json!({
        "id": id,
        "object": "response",
        "created_at": 0,
        "status": status,
        "error": null,
        "incomplete_details": incomplete,
        "instructions": null,
        "metadata": {},
        "model": model,
        "output": output,
        "parallel_tool_calls": true,
        "temperature": null,
        "tool_choice": "auto",
        "tools": [],
        "top_p": null,
        "usage": usage.map(encode_usage),
    }))
}

fn as_refusal(output: &mut Vec<Value>) {
    let mut any = false;
    for item in output.iter_mut() {
        if item.get("type").and_then(Value::as_str) != Some("message") {
            continue;
        }
        let Some(content) = item.get_mut("content").and_then(Value::as_array_mut) else {
            continue;
        };
        for part in content.iter_mut() {
            if let Some(text) = part.get("text").and_then(Value::as_str) {
                *part = json!({"type": "refusal", "refusal": text});
                any = true;
            }
        }
    }
    if !any {
        let mut item = message_item(output.len(), "", "completed");
        item["content"] = json!([{"type": "refusal", "refusal": ""}]);
        output.push(item);
    }
}
