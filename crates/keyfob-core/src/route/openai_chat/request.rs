//! The app's request: a `chat/completions` body to the common form.

use serde_json::{json, Value};

use super::messages::{allow_fields, decode_messages};
use super::{malformed, opt_str, opt_u64, parse, unsupported, ENDPOINT};
use crate::route::ir::{
    ChatRequest, Effort, Reasoning, ResponseFormat, RouteError, ToolChoice, ToolDef,
};

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
