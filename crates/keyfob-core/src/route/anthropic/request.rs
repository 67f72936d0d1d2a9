//! The request body, both ways.

use serde_json::{json, Map, Value};

use super::content::{part_to_wire, parts_from_wire, Audience};
use super::{
    as_object, field, malformed, parse, str_field, to_bytes, valid_name, DEFAULT_MAX_TOKENS,
    ENDPOINT,
};
use crate::route::ir::{
    ChatRequest, Message, Reasoning, ResponseFormat, Role, RouteError, ToolChoice, ToolDef,
};
use crate::route::Encoded;

/// Top-level fields read into the common form.
const MAPPED: &[&str] = &[
    "model",
    "max_tokens",
    "system",
    "messages",
    "tools",
    "tool_choice",
    "temperature",
    "top_p",
    "stop_sequences",
    "stream",
    "thinking",
    "output_config",
];

/// Top-level fields that change nothing about the answer.
const DROPPED: &[&str] = &[
    "metadata",
    "service_tier",
    "user_profile_id",
    "cache_control",
];

/// The name a JSON schema from `output_config.format` goes by (Anthropic names none).
const SCHEMA_NAME: &str = "response";

pub fn decode_request(endpoint: &str, body: &[u8]) -> Result<ChatRequest, RouteError> {
    if endpoint != ENDPOINT {
        return Err(RouteError::unsupported(format!("endpoint `{endpoint}`")));
    }
    let body = parse(body)?;
    for (key, value) in &body {
        if !MAPPED.contains(&key.as_str()) && !DROPPED.contains(&key.as_str()) {
            // `top_k: null` is no top_k; any other field may change the answer.
            if !value.is_null() {
                return Err(RouteError::unsupported(key.clone()));
            }
        }
    }
    let max_tokens = field(&body, "max_tokens")
        .and_then(Value::as_u64)
        .ok_or_else(|| malformed("`max_tokens` is required"))?;
    let messages = field(&body, "messages")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("`messages` is required"))?;
    let (tool_choice, parallel_tool_calls) = match field(&body, "tool_choice") {
        Some(choice) => tool_choice_from_wire(choice)?,
        None => (None, None),
    };
    let stream = match field(&body, "stream") {
        Some(stream) => stream
            .as_bool()
            .ok_or_else(|| malformed("`stream` is not a boolean"))?,
        None => false,
    };
    Ok(ChatRequest {
        model: str_field(&body, "model", "the request")?.to_string(),
        system: match field(&body, "system") {
            Some(system) => system_from_wire(system)?,
            None => Vec::new(),
        },
        messages: messages
            .iter()
            .map(message_from_wire)
            .collect::<Result<_, _>>()?,
        tools: match field(&body, "tools") {
            Some(Value::Array(tools)) => {
                tools.iter().map(tool_from_wire).collect::<Result<_, _>>()?
            }
            Some(_) => return Err(malformed("`tools` is not an array")),
            None => Vec::new(),
        },
        tool_choice,
        parallel_tool_calls,
        max_output_tokens: Some(max_tokens),
        temperature: number(&body, "temperature")?,
        top_p: number(&body, "top_p")?,
        stop: match field(&body, "stop_sequences") {
            Some(stop) => serde_json::from_value(stop.clone())
                .map_err(|_| malformed("`stop_sequences` is not an array of strings"))?,
            None => Vec::new(),
        },
        stream,
        // An Anthropic stream always ends with its usage: the app expects it.
        stream_usage: stream,
        response_format: match field(&body, "output_config") {
            Some(config) => output_config_from_wire(config)?,
            None => None,
        },
        reasoning: match field(&body, "thinking") {
            Some(thinking) => Some(thinking_from_wire(thinking)?),
            None => None,
        },
    })
}

fn number(body: &Map<String, Value>, key: &str) -> Result<Option<f64>, RouteError> {
    match field(body, key) {
        None => Ok(None),
        Some(value) => value
            .as_f64()
            .map(Some)
            .ok_or_else(|| malformed(format!("`{key}` is not a number"))),
    }
}

fn system_from_wire(system: &Value) -> Result<Vec<String>, RouteError> {
    match system {
        Value::String(text) => Ok(vec![text.clone()]),
        Value::Array(blocks) => blocks
            .iter()
            .map(|block| {
                let block = as_object(block, "a system block")?;
                if str_field(block, "type", "a system block")? != "text" {
                    return Err(malformed("system blocks are text blocks"));
                }
                if field(block, "citations").is_some() {
                    return Err(RouteError::unsupported("citations"));
                }
                Ok(str_field(block, "text", "a system block")?.to_string())
            })
            .collect(),
        _ => Err(malformed("`system` is neither a string nor an array")),
    }
}

fn message_from_wire(message: &Value) -> Result<Message, RouteError> {
    let message = as_object(message, "a message")?;
    let role = match str_field(message, "role", "a message")? {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        other => return Err(malformed(format!("role `{other}`"))),
    };
    let content =
        field(message, "content").ok_or_else(|| malformed("a message needs `content`"))?;
    Ok(Message {
        role,
        parts: parts_from_wire(content)?,
    })
}

fn tool_from_wire(tool: &Value) -> Result<ToolDef, RouteError> {
    let tool = as_object(tool, "a tool")?;
    match field(tool, "type").and_then(Value::as_str) {
        None | Some("custom") => {}
        Some(other) => return Err(RouteError::unsupported(format!("server tool `{other}`"))),
    }
    for (key, value) in tool {
        match key.as_str() {
            "type"
            | "name"
            | "description"
            | "input_schema"
            | "cache_control"
            | "eager_input_streaming" => {}
            // Defaults that change nothing.
            "strict" | "defer_loading" if value.is_null() || value == &json!(false) => {}
            "allowed_callers" if value.is_null() || value == &json!(["direct"]) => {}
            "input_examples" if value.is_null() || value == &json!([]) => {}
            other => return Err(RouteError::unsupported(format!("tool `{other}`"))),
        }
    }
    let description = match field(tool, "description") {
        Some(description) => Some(
            description
                .as_str()
                .ok_or_else(|| malformed("a tool's `description` is not a string"))?
                .to_string(),
        ),
        None => None,
    };
    Ok(ToolDef {
        name: str_field(tool, "name", "a tool")?.to_string(),
        description,
        parameters: field(tool, "input_schema")
            .cloned()
            .ok_or_else(|| malformed("a tool needs `input_schema`"))?,
    })
}

fn tool_choice_from_wire(choice: &Value) -> Result<(Option<ToolChoice>, Option<bool>), RouteError> {
    let choice = as_object(choice, "`tool_choice`")?;
    let tool_choice = match str_field(choice, "type", "`tool_choice`")? {
        "auto" => ToolChoice::Auto,
        "any" => ToolChoice::Required,
        "none" => ToolChoice::None,
        "tool" => ToolChoice::Named(str_field(choice, "name", "`tool_choice`")?.to_string()),
        other => return Err(malformed(format!("tool_choice `{other}`"))),
    };
    let parallel = match field(choice, "disable_parallel_tool_use") {
        None => None,
        Some(disable) => Some(
            !disable
                .as_bool()
                .ok_or_else(|| malformed("`disable_parallel_tool_use` is not a boolean"))?,
        ),
    };
    Ok((Some(tool_choice), parallel))
}

/// `enabled` keeps its budget; `disabled` is a budget of 0 (Gemini's "no thinking").
fn thinking_from_wire(thinking: &Value) -> Result<Reasoning, RouteError> {
    let thinking = as_object(thinking, "`thinking`")?;
    match str_field(thinking, "type", "`thinking`")? {
        "enabled" => Ok(Reasoning {
            effort: None,
            budget_tokens: Some(
                field(thinking, "budget_tokens")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| malformed("enabled thinking needs `budget_tokens`"))?,
            ),
            include_thoughts: field(thinking, "display").and_then(Value::as_str) != Some("omitted"),
        }),
        "disabled" => Ok(Reasoning {
            effort: None,
            budget_tokens: Some(0),
            include_thoughts: false,
        }),
        "adaptive" => Err(RouteError::unsupported("adaptive thinking")),
        other => Err(malformed(format!("thinking `{other}`"))),
    }
}

fn output_config_from_wire(config: &Value) -> Result<Option<ResponseFormat>, RouteError> {
    let config = as_object(config, "`output_config`")?;
    let mut format = None;
    for (key, value) in config {
        match key.as_str() {
            _ if value.is_null() => {}
            "format" => {
                let value = as_object(value, "`output_config.format`")?;
                if str_field(value, "type", "`output_config.format`")? != "json_schema" {
                    return Err(malformed("`output_config.format` is a json_schema"));
                }
                format = Some(ResponseFormat::JsonSchema {
                    name: SCHEMA_NAME.to_string(),
                    schema: field(value, "schema")
                        .cloned()
                        .ok_or_else(|| malformed("`output_config.format` needs a `schema`"))?,
                    strict: true,
                });
            }
            other => return Err(RouteError::unsupported(format!("output_config.{other}"))),
        }
    }
    Ok(format)
}

pub fn encode_request(request: &ChatRequest) -> Result<Encoded, RouteError> {
    let budget = request
        .reasoning
        .as_ref()
        .and_then(|reasoning| reasoning.budget_tokens)
        .unwrap_or(0);
    let mut body = json!({
        "model": request.model,
        "max_tokens": request.max_output_tokens.unwrap_or(DEFAULT_MAX_TOKENS + budget),
    });
    match request.system.as_slice() {
        [] => {}
        [one] => body["system"] = json!(one),
        many => {
            body["system"] = many
                .iter()
                .map(|text| json!({ "type": "text", "text": text }))
                .collect();
        }
    }
    let mut messages = Vec::new();
    for message in &request.messages {
        let mut blocks = Vec::new();
        for part in &message.parts {
            blocks.extend(part_to_wire(part, Audience::Provider)?);
        }
        // A turn that held only another dialect's reasoning has nothing left to send.
        if blocks.is_empty() && !message.parts.is_empty() {
            continue;
        }
        let role = match message.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        messages.push(json!({ "role": role, "content": blocks }));
    }
    body["messages"] = Value::Array(messages);
    if !request.tools.is_empty() {
        body["tools"] = request
            .tools
            .iter()
            .map(tool_to_wire)
            .collect::<Result<_, _>>()?;
        if let Some(choice) = tool_choice_to_wire(request)? {
            body["tool_choice"] = choice;
        }
    }
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature);
    }
    if let Some(top_p) = request.top_p {
        body["top_p"] = json!(top_p);
    }
    if !request.stop.is_empty() {
        body["stop_sequences"] = json!(request.stop);
    }
    if request.stream {
        body["stream"] = json!(true);
    }
    if let Some(reasoning) = &request.reasoning {
        if let Some(thinking) = thinking_to_wire(reasoning)? {
            body["thinking"] = thinking;
        }
    }
    match &request.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => {
            return Err(RouteError::unsupported("JSON object mode"));
        }
        // Anthropic's structured output is always strict: a non-strict schema is met too.
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            body["output_config"] =
                json!({ "format": { "type": "json_schema", "schema": schema } });
        }
    }
    Ok(Encoded {
        endpoint: ENDPOINT.to_string(),
        body: to_bytes(&body),
    })
}

fn tool_to_wire(tool: &ToolDef) -> Result<Value, RouteError> {
    if !valid_name(&tool.name) {
        return Err(RouteError::unsupported(
            "tool name with characters Anthropic refuses",
        ));
    }
    // Anthropic requires an object schema; a tool without parameters takes none.
    let schema = match &tool.parameters {
        Value::Null => json!({ "type": "object", "properties": {} }),
        schema => schema.clone(),
    };
    let mut wire = json!({ "name": tool.name, "input_schema": schema });
    if let Some(description) = &tool.description {
        wire["description"] = json!(description);
    }
    Ok(wire)
}

fn tool_choice_to_wire(request: &ChatRequest) -> Result<Option<Value>, RouteError> {
    let mut choice = match &request.tool_choice {
        None if request.parallel_tool_calls.is_none() => return Ok(None),
        None | Some(ToolChoice::Auto) => json!({ "type": "auto" }),
        Some(ToolChoice::Required) => json!({ "type": "any" }),
        Some(ToolChoice::Named(name)) => json!({ "type": "tool", "name": name }),
        // `none` takes no disable_parallel_tool_use: no call, nothing to limit.
        Some(ToolChoice::None) => return Ok(Some(json!({ "type": "none" }))),
    };
    if let Some(parallel) = request.parallel_tool_calls {
        choice["disable_parallel_tool_use"] = json!(!parallel);
    }
    Ok(Some(choice))
}

fn thinking_to_wire(reasoning: &Reasoning) -> Result<Option<Value>, RouteError> {
    match reasoning.budget_tokens {
        Some(0) => Ok(Some(json!({ "type": "disabled" }))),
        Some(budget) => {
            let mut thinking = json!({ "type": "enabled", "budget_tokens": budget });
            if !reasoning.include_thoughts {
                thinking["display"] = json!("omitted");
            }
            Ok(Some(thinking))
        }
        // An effort has no faithful budget in tokens.
        None if reasoning.effort.is_some() => Err(RouteError::unsupported("reasoning effort")),
        None => Ok(None),
    }
}
