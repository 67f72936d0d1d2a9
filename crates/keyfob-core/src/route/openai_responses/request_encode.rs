//! Writing the IR as a `POST /v1/responses` body for OpenAI.

use serde_json::{json, Map, Value};

use super::{malformed, own_reasoning, summary_part, ENDPOINT};
use crate::route::ir::{
    ChatRequest, Effort, Image, Message, Part, Reasoning, ResponseFormat, Role, RouteError,
    ToolChoice, ToolDef,
};
use crate::route::Encoded;

/// OpenAI's limit on function names.
const MAX_TOOL_NAME: usize = 64;

pub fn encode_request(request: &ChatRequest) -> Result<Encoded, RouteError> {
    if !request.stop.is_empty() {
        return Err(RouteError::unsupported("stop sequences"));
    }
    let mut body = Map::new();
    body.insert("model".into(), request.model.clone().into());
    let mut input = Vec::new();
    match request.system.as_slice() {
        [] => {}
        [only] => {
            body.insert("instructions".into(), only.clone().into());
        }
        many => input.extend(
            many.iter()
                .map(|text| json!({"type": "message", "role": "system", "content": text})),
        ),
    }
    for message in &request.messages {
        write_message(message, &mut input)?;
    }
    body.insert("input".into(), input.into());
    if !request.tools.is_empty() {
        let tools = request
            .tools
            .iter()
            .map(write_tool)
            .collect::<Result<Vec<_>, _>>()?;
        body.insert("tools".into(), tools.into());
    }
    if let Some(choice) = &request.tool_choice {
        body.insert("tool_choice".into(), write_tool_choice(choice));
    }
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            body.insert(key.into(), value);
        }
    };
    put(
        "parallel_tool_calls",
        request.parallel_tool_calls.map(Value::from),
    );
    put(
        "max_output_tokens",
        request.max_output_tokens.map(Value::from),
    );
    put("temperature", request.temperature.map(Value::from));
    put("top_p", request.top_p.map(Value::from));
    put("text", request.response_format.as_ref().map(write_format));
    put(
        "reasoning",
        request
            .reasoning
            .as_ref()
            .map(write_reasoning)
            .transpose()?,
    );
    if request.reasoning.is_some() {
        // Without server state, reasoning goes back to OpenAI only encrypted.
        put("include", Some(json!(["reasoning.encrypted_content"])));
    }
    put("store", Some(false.into()));
    if request.stream {
        put("stream", Some(true.into()));
    }
    let body = serde_json::to_vec(&Value::Object(body))
        .map_err(|error| malformed(format!("cannot serialize: {error}")))?;
    Ok(Encoded {
        endpoint: ENDPOINT.into(),
        body,
    })
}

fn write_message(message: &Message, input: &mut Vec<Value>) -> Result<(), RouteError> {
    // User text and images gather into one message item until a tool result splits it.
    let mut content: Vec<Value> = Vec::new();
    let mut summaries: Vec<String> = Vec::new();
    for part in &message.parts {
        match (message.role, part) {
            (Role::User, Part::Text(text)) => {
                content.push(json!({"type": "input_text", "text": text}))
            }
            (Role::User, Part::Image(image)) => content.push(write_image(image)),
            (
                Role::User,
                Part::ToolResult {
                    call_id,
                    content: result,
                    ..
                },
            ) => {
                flush_user(&mut content, input);
                input.push(json!({
                    "type": "function_call_output",
                    "call_id": call_id,
                    "output": write_output(result)?,
                }));
            }
            (Role::Assistant, Part::Text(text)) => {
                summaries.clear();
                input.push(json!({"type": "message", "role": "assistant", "content": text}));
            }
            (
                Role::Assistant,
                Part::ToolCall {
                    id,
                    name,
                    arguments,
                    ..
                },
            ) => {
                // A signature of another provider is never sent to OpenAI.
                summaries.clear();
                input.push(json!({
                    "type": "function_call",
                    "call_id": id,
                    "name": name,
                    "arguments": arguments,
                }));
            }
            (Role::Assistant, Part::Thinking { text, signature }) => {
                summaries.push(text.clone());
                if let Some((id, encrypted)) = signature.as_ref().and_then(own_reasoning) {
                    input.push(reasoning_input(id, &summaries, encrypted));
                    summaries.clear();
                }
            }
            (Role::Assistant, Part::RedactedThinking(token)) => {
                summaries.clear();
                if let Some((id, encrypted)) = own_reasoning(token) {
                    input.push(reasoning_input(id, &[], encrypted));
                }
            }
            (Role::Assistant, Part::Image(_)) => {
                return Err(RouteError::unsupported("image in an assistant message"))
            }
            (Role::Assistant, Part::ToolResult { .. }) => {
                return Err(RouteError::unsupported(
                    "tool result in an assistant message",
                ))
            }
            (Role::User, Part::ToolCall { .. }) => {
                return Err(RouteError::unsupported("tool call in a user message"))
            }
            // Thinking in a user turn has no meaning to send.
            (Role::User, Part::Thinking { .. } | Part::RedactedThinking(_)) => {}
        }
    }
    flush_user(&mut content, input);
    Ok(())
}

fn flush_user(content: &mut Vec<Value>, input: &mut Vec<Value>) {
    if !content.is_empty() {
        let content = std::mem::take(content);
        input.push(json!({"type": "message", "role": "user", "content": content}));
    }
}

fn reasoning_input(id: &str, summaries: &[String], encrypted: &str) -> Value {
    json!({
        "type": "reasoning",
        "id": id,
        "summary": summaries.iter().map(|text| summary_part(text)).collect::<Vec<_>>(),
        "encrypted_content": encrypted,
    })
}

fn write_image(image: &Image) -> Value {
    let url = match image {
        Image::Url(url) => url.clone(),
        Image::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
    };
    json!({"type": "input_image", "image_url": url, "detail": "auto"})
}

/// A tool result: plain text as a string, anything else as a list of parts.
fn write_output(content: &[Part]) -> Result<Value, RouteError> {
    if let [Part::Text(text)] = content {
        return Ok(text.clone().into());
    }
    content
        .iter()
        .map(|part| match part {
            Part::Text(text) => Ok(json!({"type": "input_text", "text": text})),
            Part::Image(image) => Ok(write_image(image)),
            _ => Err(RouteError::unsupported(
                "a tool result holding more than text and images",
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::from)
}

fn write_tool(tool: &ToolDef) -> Result<Value, RouteError> {
    check_tool_name(&tool.name)?;
    let mut out = json!({
        "type": "function",
        "name": tool.name,
        "parameters": tool.parameters,
        "strict": false,
    });
    if let (Some(description), Some(map)) = (&tool.description, out.as_object_mut()) {
        map.insert("description".into(), description.clone().into());
    }
    Ok(out)
}

fn check_tool_name(name: &str) -> Result<(), RouteError> {
    if name.chars().count() > MAX_TOOL_NAME {
        return Err(RouteError::unsupported("tool name over 64 characters"));
    }
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(RouteError::unsupported("tool name outside [A-Za-z0-9_-]"));
    }
    Ok(())
}

fn write_tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => "auto".into(),
        ToolChoice::None => "none".into(),
        ToolChoice::Required => "required".into(),
        ToolChoice::Named(name) => json!({"type": "function", "name": name}),
    }
}

fn write_format(format: &ResponseFormat) -> Value {
    let format = match format {
        ResponseFormat::Text => json!({"type": "text"}),
        ResponseFormat::JsonObject => json!({"type": "json_object"}),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => json!({"type": "json_schema", "name": name, "schema": schema, "strict": strict}),
    };
    json!({ "format": format })
}

fn write_reasoning(reasoning: &Reasoning) -> Result<Value, RouteError> {
    if reasoning.budget_tokens.is_some() {
        return Err(RouteError::unsupported("reasoning budget_tokens"));
    }
    let mut out = Map::new();
    if let Some(effort) = reasoning.effort {
        let effort = match effort {
            Effort::Minimal => "minimal",
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
        };
        out.insert("effort".into(), effort.into());
    }
    if reasoning.include_thoughts {
        out.insert("summary".into(), "auto".into());
    }
    Ok(Value::Object(out))
}
