//! The request: `chat/completions` body to the common form and back.

use serde_json::{json, Map, Value};

use super::{malformed, opt_str, opt_u64, parse, unsupported, ENDPOINT};
use crate::route::ir::{
    self, ChatRequest, Effort, Image, Message, Part, Reasoning, ResponseFormat, Role, RouteError,
    ToolChoice, ToolDef,
};
use crate::route::Encoded;

/// Top-level fields that do not change the answer (see the module doc).
const DROPPED: &[&str] = &[
    "user",
    "safety_identifier",
    "metadata",
    "store",
    "service_tier",
    "seed",
    "prompt_cache_key",
    "prompt_cache_retention",
    "prompt_cache_options",
];

/// The app's request. `endpoint` must be `chat/completions`.
pub fn decode_request(endpoint: &str, body: &[u8]) -> Result<ChatRequest, RouteError> {
    if endpoint != ENDPOINT {
        return Err(malformed(format!(
            "endpoint `{endpoint}` is not `{ENDPOINT}`"
        )));
    }
    let map = parse(body)?;
    let mut request = ChatRequest::default();
    let (mut max_tokens, mut max_completion_tokens) = (None, None);
    for (key, value) in &map {
        match key.as_str() {
            "model" => request.model = opt_str(&map, key)?.unwrap_or_default().to_string(),
            "messages" => decode_messages(value, &mut request)?,
            "tools" => request.tools = decode_tools(value)?,
            "tool_choice" => request.tool_choice = decode_tool_choice(value)?,
            "parallel_tool_calls" => request.parallel_tool_calls = opt_bool(value, key)?,
            "max_tokens" => max_tokens = opt_u64(&map, key)?,
            "max_completion_tokens" => max_completion_tokens = opt_u64(&map, key)?,
            "temperature" => request.temperature = opt_f64(value, key)?,
            "top_p" => request.top_p = opt_f64(value, key)?,
            "stop" => request.stop = decode_stop(value)?,
            "stream" => request.stream = opt_bool(value, key)?.unwrap_or(false),
            "stream_options" => request.stream_usage = decode_stream_options(value)?,
            "response_format" => request.response_format = decode_response_format(value)?,
            "reasoning_effort" => request.reasoning = decode_effort(value)?,
            "n" if !matches!(value, Value::Null) && value.as_u64() != Some(1) => {
                return Err(unsupported("n > 1"))
            }
            "logprobs" if value.as_bool() == Some(true) => return Err(unsupported("logprobs")),
            "top_logprobs" if !value.is_null() => return Err(unsupported("logprobs")),
            "logit_bias" if value.as_object().is_some_and(|bias| !bias.is_empty()) => {
                return Err(unsupported("logit_bias"))
            }
            "frequency_penalty" | "presence_penalty"
                if !value.is_null() && value.as_f64() != Some(0.0) =>
            {
                return Err(unsupported(key.as_str()))
            }
            "audio" if !value.is_null() => return Err(unsupported("audio output")),
            "modalities" if modalities_include_audio(value) => {
                return Err(unsupported("audio output"))
            }
            "prediction" if !value.is_null() => return Err(unsupported("predicted outputs")),
            "functions" | "function_call" => return Err(unsupported("legacy function calling")),
            "web_search_options" => return Err(unsupported("web search")),
            "moderation" if !value.is_null() => return Err(unsupported("moderation")),
            "verbosity" if !value.is_null() => return Err(unsupported("verbosity")),
            "n" | "logprobs" | "top_logprobs" | "logit_bias" | "frequency_penalty"
            | "presence_penalty" | "audio" | "modalities" | "prediction" | "moderation"
            | "verbosity" => {}
            key if DROPPED.contains(&key) => {}
            other => return Err(unsupported(format!("unknown field `{other}`"))),
        }
    }
    if request.model.is_empty() {
        return Err(malformed("`model` is missing"));
    }
    // Both are accepted; `max_tokens` is the deprecated spelling.
    request.max_output_tokens = max_completion_tokens.or(max_tokens);
    Ok(request)
}

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

fn decode_messages(value: &Value, request: &mut ChatRequest) -> Result<(), RouteError> {
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
fn allow_fields(map: &Map<String, Value>, allowed: &[&str]) -> Result<(), RouteError> {
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
    // OpenAI-compatible servers' reasoning text, as an app echoes it back.
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
    if let Some(refusal) = opt_str(message, "refusal")?.filter(|text| !text.is_empty()) {
        parts.push(Part::Text(refusal.to_string()));
    }
    match message.get("tool_calls") {
        None | Some(Value::Null) => {}
        Some(Value::Array(calls)) => {
            for call in calls {
                parts.push(decode_tool_call(call)?);
            }
        }
        Some(_) => return Err(malformed("`tool_calls` is not an array")),
    }
    Ok(Message {
        role: Role::Assistant,
        parts,
    })
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

fn decode_tool_call(call: &Value) -> Result<Part, RouteError> {
    let Value::Object(call) = call else {
        return Err(malformed("a tool call is not an object"));
    };
    match opt_str(call, "type")? {
        Some("function") | None => {}
        Some("custom") => return Err(unsupported("custom tools")),
        Some(other) => return Err(malformed(format!("unknown tool call type `{other}`"))),
    }
    allow_fields(call, &["id", "type", "function"])?;
    let id = opt_str(call, "id")?.ok_or_else(|| malformed("a tool call has no id"))?;
    let Some(Value::Object(function)) = call.get("function") else {
        return Err(malformed("a tool call has no function"));
    };
    allow_fields(function, &["name", "arguments"])?;
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

fn decode_tools(value: &Value) -> Result<Vec<ToolDef>, RouteError> {
    let list = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(list) => list,
        _ => return Err(malformed("`tools` is not an array")),
    };
    list.iter().map(decode_tool).collect()
}

fn decode_tool(tool: &Value) -> Result<ToolDef, RouteError> {
    let Value::Object(tool) = tool else {
        return Err(malformed("a tool is not an object"));
    };
    match opt_str(tool, "type")? {
        Some("function") => {}
        Some("custom") => return Err(unsupported("custom tools")),
        Some(other) => return Err(unsupported(format!("`{other}` tools"))),
        None => return Err(malformed("a tool has no type")),
    }
    allow_fields(tool, &["type", "function"])?;
    let Some(Value::Object(function)) = tool.get("function") else {
        return Err(malformed("a function tool has no function"));
    };
    allow_fields(function, &["name", "description", "parameters", "strict"])?;
    if function.get("strict").and_then(Value::as_bool) == Some(true) {
        return Err(unsupported("strict function tools"));
    }
    let name = opt_str(function, "name")?.ok_or_else(|| malformed("a tool has no name"))?;
    let parameters = match function.get("parameters") {
        None | Some(Value::Null) => json!({ "type": "object", "properties": {} }),
        Some(schema @ Value::Object(_)) => schema.clone(),
        Some(_) => return Err(malformed("a tool's parameters are not an object")),
    };
    Ok(ToolDef {
        name: name.to_string(),
        description: opt_str(function, "description")?.map(str::to_string),
        parameters,
    })
}

fn decode_tool_choice(value: &Value) -> Result<Option<ToolChoice>, RouteError> {
    match value {
        Value::Null => Ok(None),
        Value::String(mode) => match mode.as_str() {
            "auto" => Ok(Some(ToolChoice::Auto)),
            "none" => Ok(Some(ToolChoice::None)),
            "required" => Ok(Some(ToolChoice::Required)),
            other => Err(malformed(format!("unknown tool_choice `{other}`"))),
        },
        Value::Object(choice) => match opt_str(choice, "type")? {
            Some("function") => {
                let name = choice
                    .get("function")
                    .and_then(|function| function.get("name"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| malformed("a named tool_choice has no function name"))?;
                Ok(Some(ToolChoice::Named(name.to_string())))
            }
            Some("allowed_tools") => Err(unsupported("tool_choice allowed_tools")),
            Some("custom") => Err(unsupported("custom tools")),
            _ => Err(malformed("unknown tool_choice object")),
        },
        _ => Err(malformed("`tool_choice` is neither a string nor an object")),
    }
}

fn decode_stop(value: &Value) -> Result<Vec<String>, RouteError> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(stop) => Ok(vec![stop.clone()]),
        Value::Array(list) => list
            .iter()
            .map(|stop| {
                stop.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| malformed("a stop sequence is not a string"))
            })
            .collect(),
        _ => Err(malformed("`stop` is neither a string nor an array")),
    }
}

/// `stream_options.include_usage`.
fn decode_stream_options(value: &Value) -> Result<bool, RouteError> {
    match value {
        Value::Null => Ok(false),
        Value::Object(options) => {
            allow_fields(options, &["include_usage", "include_obfuscation"])?;
            let usage = options.get("include_usage").unwrap_or(&Value::Null);
            Ok(opt_bool(usage, "include_usage")?.unwrap_or(false))
        }
        _ => Err(malformed("`stream_options` is not an object")),
    }
}

fn decode_response_format(value: &Value) -> Result<Option<ResponseFormat>, RouteError> {
    let format = match value {
        Value::Null => return Ok(None),
        Value::Object(format) => format,
        _ => return Err(malformed("`response_format` is not an object")),
    };
    match opt_str(format, "type")? {
        Some("text") => Ok(Some(ResponseFormat::Text)),
        Some("json_object") => Ok(Some(ResponseFormat::JsonObject)),
        Some("json_schema") => {
            let Some(Value::Object(spec)) = format.get("json_schema") else {
                return Err(malformed("a json_schema format has no json_schema object"));
            };
            allow_fields(spec, &["name", "schema", "strict", "description"])?;
            if opt_str(spec, "description")?.is_some() {
                return Err(unsupported("json_schema description"));
            }
            let name =
                opt_str(spec, "name")?.ok_or_else(|| malformed("a json_schema has no name"))?;
            let strict = spec.get("strict").unwrap_or(&Value::Null);
            Ok(Some(ResponseFormat::JsonSchema {
                name: name.to_string(),
                schema: spec.get("schema").cloned().unwrap_or_else(|| json!({})),
                strict: opt_bool(strict, "strict")?.unwrap_or(false),
            }))
        }
        Some(other) => Err(unsupported(format!("response_format `{other}`"))),
        None => Err(malformed("`response_format` has no type")),
    }
}

fn decode_effort(value: &Value) -> Result<Option<Reasoning>, RouteError> {
    let effort = match value {
        Value::Null => return Ok(None),
        Value::String(effort) => effort.as_str(),
        _ => return Err(malformed("`reasoning_effort` is not a string")),
    };
    let effort = match effort {
        "minimal" => Effort::Minimal,
        "low" => Effort::Low,
        "medium" => Effort::Medium,
        "high" => Effort::High,
        other => return Err(unsupported(format!("reasoning_effort `{other}`"))),
    };
    Ok(Some(Reasoning {
        effort: Some(effort),
        ..Reasoning::default()
    }))
}

fn modalities_include_audio(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|list| list.iter().any(|m| m.as_str() == Some("audio")))
}

fn opt_bool(value: &Value, key: &str) -> Result<Option<bool>, RouteError> {
    match value {
        Value::Null => Ok(None),
        Value::Bool(flag) => Ok(Some(*flag)),
        _ => Err(malformed(format!("`{key}` is not a boolean"))),
    }
}

fn opt_f64(value: &Value, key: &str) -> Result<Option<f64>, RouteError> {
    match value {
        Value::Null => Ok(None),
        value => value
            .as_f64()
            .map(Some)
            .ok_or_else(|| malformed(format!("`{key}` is not a number"))),
    }
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
