//! Reading a `POST /v1/responses` body into the IR.

use serde_json::{Map, Value};

use super::{
    array, field, malformed, object, opt_string, opt_u64, parse, reasoning_parts, string, type_of,
    ENDPOINT,
};
use crate::route::ir::{
    self, ChatRequest, Effort, Image, Message, Part, Reasoning, ResponseFormat, Role, RouteError,
    ToolChoice, ToolDef,
};

/// Top-level fields that are mapped.
const MAPPED: &[&str] = &[
    "model",
    "instructions",
    "input",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "max_output_tokens",
    "temperature",
    "top_p",
    "stream",
    "text",
    "reasoning",
    "include",
];
/// Top-level fields dropped as harmless metadata or hints (see the module doc).
const DROPPED: &[&str] = &[
    "store",
    "metadata",
    "user",
    "safety_identifier",
    "service_tier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "prompt_cache_options",
    "stream_options",
    "truncation",
];
/// Top-level fields that need server state or features no other provider has.
const REFUSED: &[&str] = &[
    "previous_response_id",
    "conversation",
    "background",
    "prompt",
    "context_management",
    "moderation",
    "max_tool_calls",
    "top_logprobs",
];

pub fn decode_request(endpoint: &str, body: &[u8]) -> Result<ChatRequest, RouteError> {
    if endpoint != ENDPOINT {
        return Err(RouteError::unsupported(format!("endpoint {endpoint}")));
    }
    let body = parse(body)?;
    for (key, value) in &body {
        let known = MAPPED.contains(&key.as_str()) || DROPPED.contains(&key.as_str());
        if REFUSED.contains(&key.as_str()) {
            if !value.is_null() {
                return Err(RouteError::unsupported(key.as_str()));
            }
        } else if !known {
            return Err(RouteError::unsupported(format!("unknown field {key}")));
        }
    }
    let mut request = ChatRequest {
        model: string(&body, "model")?.to_string(),
        max_output_tokens: opt_u64(&body, "max_output_tokens")?,
        temperature: opt_f64(&body, "temperature")?,
        top_p: opt_f64(&body, "top_p")?,
        stream: opt_bool(&body, "stream")?.unwrap_or(false),
        parallel_tool_calls: opt_bool(&body, "parallel_tool_calls")?,
        ..ChatRequest::default()
    };
    if let Some(instructions) = opt_string(&body, "instructions")? {
        request.system.push(instructions.to_string());
    }
    if let Some(input) = field(&body, "input") {
        read_input(input, &mut request)?;
    }
    if let Some(tools) = field(&body, "tools") {
        for tool in array(tools, "tools")? {
            request.tools.push(read_tool(object(tool, "a tool")?)?);
        }
    }
    if let Some(choice) = field(&body, "tool_choice") {
        request.tool_choice = Some(read_tool_choice(choice)?);
    }
    if let Some(text) = field(&body, "text") {
        request.response_format = read_text(object(text, "text")?)?;
    }
    if let Some(reasoning) = field(&body, "reasoning") {
        request.reasoning = Some(read_reasoning(object(reasoning, "reasoning")?)?);
    }
    if let Some(include) = field(&body, "include") {
        for value in array(include, "include")? {
            if value.as_str() == Some("message.output_text.logprobs") {
                return Err(RouteError::unsupported("logprobs"));
            }
        }
    }
    Ok(request)
}

fn opt_f64(map: &Map<String, Value>, key: &str) -> Result<Option<f64>, RouteError> {
    match field(map, key) {
        None => Ok(None),
        Some(value) => value
            .as_f64()
            .map(Some)
            .ok_or_else(|| malformed(format!("`{key}` is not a number"))),
    }
}

fn opt_bool(map: &Map<String, Value>, key: &str) -> Result<Option<bool>, RouteError> {
    match field(map, key) {
        None => Ok(None),
        Some(value) => value
            .as_bool()
            .map(Some)
            .ok_or_else(|| malformed(format!("`{key}` is not a boolean"))),
    }
}

fn read_input(input: &Value, request: &mut ChatRequest) -> Result<(), RouteError> {
    if let Some(text) = input.as_str() {
        push(&mut request.messages, Role::User, Part::Text(text.into()));
        return Ok(());
    }
    for item in array(input, "input")? {
        let item = object(item, "an input item")?;
        match type_of(item).unwrap_or("message") {
            "message" => read_message(item, request)?,
            "function_call" => {
                let (id, signature) = ir::split_id(string(item, "call_id")?);
                let call = Part::ToolCall {
                    id,
                    name: string(item, "name")?.to_string(),
                    arguments: string(item, "arguments")?.to_string(),
                    signature,
                };
                push(&mut request.messages, Role::Assistant, call);
            }
            "function_call_output" => {
                let (call_id, _) = ir::split_id(string(item, "call_id")?);
                let output =
                    field(item, "output").ok_or_else(|| malformed("`output` is missing"))?;
                let result = Part::ToolResult {
                    call_id,
                    name: None,
                    content: read_content(output)?,
                    is_error: false,
                };
                push(&mut request.messages, Role::User, result);
            }
            "reasoning" => {
                for part in reasoning_parts(item)? {
                    push(&mut request.messages, Role::Assistant, part);
                }
            }
            "item_reference" => return Err(RouteError::unsupported("item_reference")),
            other => return Err(RouteError::unsupported(format!("{other} input item"))),
        }
    }
    Ok(())
}

/// Adds a part to the last message when it has the same role (an assistant turn is
/// reasoning, text and calls; a user turn is text and tool results).
fn push(messages: &mut Vec<Message>, role: Role, part: Part) {
    match messages.last_mut() {
        Some(last) if last.role == role => last.parts.push(part),
        _ => messages.push(Message {
            role,
            parts: vec![part],
        }),
    }
}

fn read_message(item: &Map<String, Value>, request: &mut ChatRequest) -> Result<(), RouteError> {
    let role = string(item, "role")?;
    let content = field(item, "content").ok_or_else(|| malformed("`content` is missing"))?;
    let parts = read_content(content)?;
    let role = match role {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "system" | "developer" => {
            // The IR keeps the system prompt apart: only a leading one keeps its place.
            if !request.messages.is_empty() {
                return Err(RouteError::unsupported(
                    "system message after the conversation started",
                ));
            }
            for part in parts {
                match part {
                    Part::Text(text) => request.system.push(text),
                    _ => return Err(RouteError::unsupported("image in a system message")),
                }
            }
            return Ok(());
        }
        other => return Err(malformed(format!("unknown role {other}"))),
    };
    if role == Role::Assistant && parts.iter().any(|p| matches!(p, Part::Image(_))) {
        return Err(RouteError::unsupported("image in an assistant message"));
    }
    for part in parts {
        push(&mut request.messages, role, part);
    }
    Ok(())
}

fn read_content(content: &Value) -> Result<Vec<Part>, RouteError> {
    if let Some(text) = content.as_str() {
        return Ok(vec![Part::Text(text.into())]);
    }
    let mut parts = Vec::new();
    for part in array(content, "content")? {
        let part = object(part, "a content part")?;
        parts.push(match type_of(part).unwrap_or_default() {
            "input_text" | "output_text" => Part::Text(string(part, "text")?.to_string()),
            "refusal" => Part::Text(string(part, "refusal")?.to_string()),
            "input_image" => Part::Image(read_image(part)?),
            "input_file" => return Err(RouteError::unsupported("file input")),
            "input_audio" => return Err(RouteError::unsupported("audio input")),
            other => return Err(RouteError::unsupported(format!("{other} content"))),
        });
    }
    Ok(parts)
}

fn read_image(part: &Map<String, Value>) -> Result<Image, RouteError> {
    if field(part, "file_id").is_some() {
        return Err(RouteError::unsupported("image by file_id"));
    }
    let url = string(part, "image_url")?;
    let Some(rest) = url.strip_prefix("data:") else {
        return Ok(Image::Url(url.to_string()));
    };
    match rest.split_once(";base64,") {
        Some((media_type, data)) => Ok(Image::Base64 {
            media_type: media_type.to_string(),
            data: data.to_string(),
        }),
        None => Err(malformed("an image data URL that is not base64")),
    }
}

fn read_tool(tool: &Map<String, Value>) -> Result<ToolDef, RouteError> {
    match type_of(tool).unwrap_or_default() {
        "function" => Ok(ToolDef {
            name: string(tool, "name")?.to_string(),
            description: opt_string(tool, "description")?.map(str::to_string),
            parameters: field(tool, "parameters").cloned().unwrap_or(Value::Null),
        }),
        other => Err(RouteError::unsupported(format!("{other} tool"))),
    }
}

fn read_tool_choice(choice: &Value) -> Result<ToolChoice, RouteError> {
    if let Some(mode) = choice.as_str() {
        return match mode {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            other => Err(malformed(format!("unknown tool_choice {other}"))),
        };
    }
    let choice = object(choice, "tool_choice")?;
    match type_of(choice).unwrap_or_default() {
        "function" => Ok(ToolChoice::Named(string(choice, "name")?.to_string())),
        other => Err(RouteError::unsupported(format!("tool_choice {other}"))),
    }
}

fn read_text(text: &Map<String, Value>) -> Result<Option<ResponseFormat>, RouteError> {
    if let Some(verbosity) = opt_string(text, "verbosity")? {
        if verbosity != "medium" {
            return Err(RouteError::unsupported("text.verbosity"));
        }
    }
    let Some(format) = field(text, "format") else {
        return Ok(None);
    };
    let format = object(format, "text.format")?;
    match type_of(format).unwrap_or_default() {
        "text" => Ok(Some(ResponseFormat::Text)),
        "json_object" => Ok(Some(ResponseFormat::JsonObject)),
        "json_schema" => {
            if field(format, "description").is_some() {
                return Err(RouteError::unsupported("json_schema description"));
            }
            Ok(Some(ResponseFormat::JsonSchema {
                name: string(format, "name")?.to_string(),
                schema: field(format, "schema")
                    .cloned()
                    .ok_or_else(|| malformed("`schema` is missing"))?,
                strict: opt_bool(format, "strict")?.unwrap_or(false),
            }))
        }
        other => Err(malformed(format!("unknown text.format {other}"))),
    }
}

fn read_reasoning(reasoning: &Map<String, Value>) -> Result<Reasoning, RouteError> {
    let effort = match opt_string(reasoning, "effort")? {
        None => None,
        Some("minimal") => Some(Effort::Minimal),
        Some("low") => Some(Effort::Low),
        Some("medium") => Some(Effort::Medium),
        Some("high") => Some(Effort::High),
        Some(other) => return Err(RouteError::unsupported(format!("reasoning effort {other}"))),
    };
    let summary = opt_string(reasoning, "summary")?.or(opt_string(reasoning, "generate_summary")?);
    Ok(Reasoning {
        effort,
        budget_tokens: None,
        include_thoughts: summary.is_some(),
    })
}
