//! The request for an upstream Chat Completions provider, from the common form.

use serde_json::{json, Map, Value};

use super::{malformed, unsupported, ENDPOINT};
use crate::route::ir::{
    ChatRequest, Effort, Image, Part, ResponseFormat, Role, RouteError, ToolChoice, ToolDef,
};
use crate::route::Encoded;

/// The request for an upstream Chat Completions provider. A streamed request always asks
/// for the usage chunk: the wallet meters from it, whatever the app asked.
pub fn encode_request(request: &ChatRequest) -> Result<Encoded, RouteError> {
    let mut body = Map::new();
    body.insert("model".into(), request.model.clone().into());
    body.insert("messages".into(), encode_messages(request)?);
    if !request.tools.is_empty() {
        let tools = request
            .tools
            .iter()
            .map(encode_tool)
            .collect::<Result<Vec<_>, _>>()?;
        body.insert("tools".into(), tools.into());
    }
    if let Some(choice) = &request.tool_choice {
        body.insert("tool_choice".into(), encode_tool_choice(choice)?);
    }
    if let Some(parallel) = request.parallel_tool_calls {
        body.insert("parallel_tool_calls".into(), parallel.into());
    }
    if let Some(max) = request.max_output_tokens {
        body.insert("max_completion_tokens".into(), max.into());
    }
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), temperature.into());
    }
    if let Some(top_p) = request.top_p {
        body.insert("top_p".into(), top_p.into());
    }
    if !request.stop.is_empty() {
        body.insert("stop".into(), request.stop.clone().into());
    }
    if request.stream {
        body.insert("stream".into(), true.into());
        body.insert("stream_options".into(), json!({ "include_usage": true }));
    }
    if let Some(format) = &request.response_format {
        body.insert("response_format".into(), encode_response_format(format));
    }
    if let Some(reasoning) = &request.reasoning {
        match (reasoning.effort, reasoning.budget_tokens) {
            (Some(effort), _) => {
                body.insert("reasoning_effort".into(), effort_name(effort).into());
            }
            (None, Some(_)) => return Err(unsupported("thinking budget_tokens")),
            (None, None) => {}
        }
    }
    let body = serde_json::to_vec(&Value::Object(body))
        .map_err(|error| malformed(format!("cannot write the request: {error}")))?;
    Ok(Encoded {
        endpoint: ENDPOINT.into(),
        body,
    })
}

fn encode_messages(request: &ChatRequest) -> Result<Value, RouteError> {
    let mut out: Vec<Value> = request
        .system
        .iter()
        .map(|text| json!({ "role": "system", "content": text }))
        .collect();
    for message in &request.messages {
        match message.role {
            Role::User => encode_user(&message.parts, &mut out)?,
            Role::Assistant => out.push(encode_assistant(&message.parts)?),
        }
    }
    Ok(out.into())
}

/// A user turn: its tool results first (Chat wants them right after the assistant's
/// calls), then the rest as one user message.
fn encode_user(parts: &[Part], out: &mut Vec<Value>) -> Result<(), RouteError> {
    let mut content = Vec::new();
    for part in parts {
        match part {
            Part::ToolResult {
                call_id,
                content: result,
                ..
            } => out.push(json!({
                "role": "tool",
                "tool_call_id": call_id,
                "content": encode_tool_result(result)?,
            })),
            Part::Text(text) => content.push(json!({ "type": "text", "text": text })),
            Part::Image(image) => content.push(encode_image(image)),
            Part::ToolCall { .. } => return Err(unsupported("a tool call in a user turn")),
            Part::Thinking { .. } | Part::RedactedThinking(_) => {}
        }
    }
    let has_results = parts.iter().any(|p| matches!(p, Part::ToolResult { .. }));
    let content = match content.is_empty() {
        true if has_results => return Ok(()),
        true => "".into(),
        false => text_or_parts(content),
    };
    out.push(json!({ "role": "user", "content": content }));
    Ok(())
}

/// One text part is written as a plain string, as apps usually write it.
fn text_or_parts(mut content: Vec<Value>) -> Value {
    if content.len() == 1 && content[0]["type"] == "text" {
        return content.swap_remove(0)["text"].take();
    }
    content.into()
}

fn encode_tool_result(content: &[Part]) -> Result<Value, RouteError> {
    let mut texts = Vec::new();
    for part in content {
        match part {
            Part::Text(text) => texts.push(json!({ "type": "text", "text": text })),
            _ => return Err(unsupported("a non-text tool result")),
        }
    }
    if texts.is_empty() {
        return Ok("".into());
    }
    Ok(text_or_parts(texts))
}

fn encode_image(image: &Image) -> Value {
    let url = match image {
        Image::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        Image::Url(url) => url.clone(),
    };
    json!({ "type": "image_url", "image_url": { "url": url } })
}

fn encode_assistant(parts: &[Part]) -> Result<Value, RouteError> {
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for part in parts {
        match part {
            Part::Text(text) => texts.push(json!({ "type": "text", "text": text })),
            Part::ToolCall {
                id,
                name,
                arguments,
                ..
            } => calls.push(json!({
                "id": id,
                "type": "function",
                "function": { "name": name, "arguments": arguments },
            })),
            // Another dialect's reasoning cannot be replayed to an OpenAI model.
            Part::Thinking { .. } | Part::RedactedThinking(_) => {}
            Part::Image(_) => return Err(unsupported("an image in an assistant turn")),
            Part::ToolResult { .. } => {
                return Err(unsupported("a tool result in an assistant turn"))
            }
        }
    }
    let content = match (texts.is_empty(), calls.is_empty()) {
        (true, false) => Value::Null,
        (true, true) => "".into(),
        (false, _) => text_or_parts(texts),
    };
    let mut message = json!({ "role": "assistant", "content": content });
    if !calls.is_empty() {
        message["tool_calls"] = calls.into();
    }
    Ok(message)
}

fn encode_tool(tool: &ToolDef) -> Result<Value, RouteError> {
    check_tool_name(&tool.name)?;
    let mut function = json!({ "name": tool.name, "parameters": tool.parameters });
    if let Some(description) = &tool.description {
        function["description"] = description.clone().into();
    }
    Ok(json!({ "type": "function", "function": function }))
}

/// OpenAI takes function names of 1 to 64 characters from `[A-Za-z0-9_-]`.
fn check_tool_name(name: &str) -> Result<(), RouteError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if name.len() > 64 {
        return Err(unsupported("a tool name over 64 characters"));
    }
    if name.is_empty() || !name.chars().all(allowed) {
        return Err(unsupported("a tool name outside [A-Za-z0-9_-]"));
    }
    Ok(())
}

fn encode_tool_choice(choice: &ToolChoice) -> Result<Value, RouteError> {
    Ok(match choice {
        ToolChoice::Auto => "auto".into(),
        ToolChoice::None => "none".into(),
        ToolChoice::Required => "required".into(),
        ToolChoice::Named(name) => {
            check_tool_name(name)?;
            json!({ "type": "function", "function": { "name": name } })
        }
    })
}

fn encode_response_format(format: &ResponseFormat) -> Value {
    match format {
        ResponseFormat::Text => json!({ "type": "text" }),
        ResponseFormat::JsonObject => json!({ "type": "json_object" }),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => json!({
            "type": "json_schema",
            "json_schema": { "name": name, "schema": schema, "strict": strict },
        }),
    }
}

fn effort_name(effort: Effort) -> &'static str {
    match effort {
        Effort::Minimal => "minimal",
        Effort::Low => "low",
        Effort::Medium => "medium",
        Effort::High => "high",
    }
}
