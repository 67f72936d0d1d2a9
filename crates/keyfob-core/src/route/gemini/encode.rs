//! The IR as a `GenerateContentRequest` for Gemini.
//!
//! Tool schemas go through [`schema::to_gemini`] (an argument-less object schema is left
//! out: Gemini refuses an OBJECT with no properties); a tool result's function name
//! comes from the IR, else from the earlier call with its id, else it is refused; a
//! text result is `{"output": text}` (`{"error": text}` when it failed), the keys the
//! FunctionResponse reference names; images in results go in `functionResponse.parts`.
//! Only Gemini's own signatures are sent (a call's `thoughtSignature`, a thought part
//! with its signature); other thinking is left out, and a call without a Gemini
//! signature goes without one (Gemini 3 may then refuse the turn; no signature is ever
//! made up). Effort becomes `thinkingLevel`, or for Gemini 1.x/2.x models (which have
//! no levels) a budget: 1024 (minimal, low), 8192 (medium), 24576 (high), the budgets
//! Google's OpenAI-compatible endpoint uses for low/medium/high.
//! A JSON-schema answer format is sent as `responseJsonSchema` (JSON Schema as is).
//! `parallel_tool_calls: false` and images by URL (other than `data:`) are refused:
//! Gemini can express neither.

use serde_json::{json, Map, Value};

use super::super::ir::{
    ChatRequest, Effort, Image, Message, Opaque, Part, Reasoning, ResponseFormat, Role, RouteError,
    ToolChoice, ToolDef,
};
use super::super::{Dialect, Encoded};
use super::{malformed, schema};

/// Gemini function names: letters, digits, `_ . : -`, at most 64, not starting with a digit.
const MAX_NAME: usize = 64;

pub fn encode_request(request: &ChatRequest) -> Result<Encoded, RouteError> {
    let model = request
        .model
        .strip_prefix("models/")
        .unwrap_or(&request.model);
    if model.is_empty() || model.contains(['/', ':', '?', '#']) {
        return Err(RouteError::unsupported(format!("model name {model}")));
    }
    let endpoint = if request.stream {
        format!("models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("models/{model}:generateContent")
    };
    let mut body = Map::new();
    let mut contents = Vec::new();
    for message in &request.messages {
        let parts = encode_parts(message, &request.messages)?;
        if parts.is_empty() {
            continue;
        }
        let role = match message.role {
            Role::User => "user",
            Role::Assistant => "model",
        };
        contents.push(json!({"role": role, "parts": parts}));
    }
    body.insert("contents".into(), Value::Array(contents));
    if !request.system.is_empty() {
        let parts: Vec<Value> = request.system.iter().map(|s| json!({"text": s})).collect();
        body.insert("systemInstruction".into(), json!({"parts": parts}));
    }
    if !request.tools.is_empty() {
        if request.parallel_tool_calls == Some(false) {
            return Err(RouteError::unsupported("parallel_tool_calls false"));
        }
        let mut declarations = Vec::new();
        for tool in &request.tools {
            declarations.push(encode_tool(tool)?);
        }
        body.insert(
            "tools".into(),
            json!([{"functionDeclarations": declarations}]),
        );
    }
    if let Some(choice) = &request.tool_choice {
        let calling = match choice {
            ToolChoice::Auto => json!({"mode": "AUTO"}),
            ToolChoice::None => json!({"mode": "NONE"}),
            ToolChoice::Required => json!({"mode": "ANY"}),
            ToolChoice::Named(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        };
        body.insert(
            "toolConfig".into(),
            json!({"functionCallingConfig": calling}),
        );
    }
    let config = generation_config(request, model)?;
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    let body = serde_json::to_vec(&Value::Object(body))
        .map_err(|e| malformed(format!("encoding: {e}")))?;
    Ok(Encoded { endpoint, body })
}

fn encode_parts(message: &Message, history: &[Message]) -> Result<Vec<Value>, RouteError> {
    let mut parts = Vec::new();
    for part in &message.parts {
        match part {
            Part::Text(text) => parts.push(json!({"text": text})),
            Part::Image(image) => parts.push(encode_image(image)?),
            Part::ToolCall {
                id,
                name,
                arguments,
                signature,
            } => {
                let mut out = json!({"functionCall": {
                    "id": id, "name": name, "args": arguments_object(arguments)?
                }});
                if let Some(token) = signature.as_ref().filter(|t| is_gemini(t)) {
                    out["thoughtSignature"] = Value::from(token.value.clone());
                }
                parts.push(out);
            }
            Part::ToolResult {
                call_id,
                name,
                content,
                is_error,
            } => {
                let name = match name {
                    Some(name) => name.clone(),
                    None => call_name(history, call_id).ok_or_else(|| {
                        RouteError::unsupported("tool result without its function name")
                    })?,
                };
                let mut texts = Vec::new();
                let mut images = Vec::new();
                for inner in content {
                    match inner {
                        Part::Text(text) => texts.push(text.as_str()),
                        Part::Image(image) => images.push(encode_image(image)?),
                        _ => return Err(RouteError::unsupported("tool result content")),
                    }
                }
                let key = if *is_error { "error" } else { "output" };
                let mut response = json!({
                    "id": call_id, "name": name, "response": {key: texts.join("\n")}
                });
                if !images.is_empty() {
                    response["parts"] = Value::Array(images);
                }
                parts.push(json!({"functionResponse": response}));
            }
            Part::Thinking {
                text,
                signature: Some(token),
            } if is_gemini(token) => parts.push(json!({
                "text": text, "thought": true, "thoughtSignature": token.value
            })),
            // Unsigned or another provider's reasoning: Gemini cannot use it.
            Part::Thinking { .. } | Part::RedactedThinking(_) => {}
        }
    }
    Ok(parts)
}

fn is_gemini(token: &Opaque) -> bool {
    token.dialect == Dialect::Gemini
}

fn arguments_object(arguments: &str) -> Result<Value, RouteError> {
    if arguments.trim().is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_str(arguments) {
        Ok(args @ Value::Object(_)) => Ok(args),
        _ => Err(RouteError::unsupported(
            "tool call arguments that are not a JSON object",
        )),
    }
}

/// The function an earlier call with `call_id` named (OpenAI results carry no name).
fn call_name(history: &[Message], call_id: &str) -> Option<String> {
    history.iter().flat_map(|m| &m.parts).find_map(|p| match p {
        Part::ToolCall { id, name, .. } if id == call_id => Some(name.clone()),
        _ => None,
    })
}

fn encode_image(image: &Image) -> Result<Value, RouteError> {
    let (media_type, data) = match image {
        Image::Base64 { media_type, data } => (media_type.as_str(), data.as_str()),
        Image::Url(url) => {
            let rest = url
                .strip_prefix("data:")
                .ok_or_else(|| RouteError::unsupported("image by URL"))?;
            rest.split_once(";base64,")
                .ok_or_else(|| RouteError::unsupported("image by URL"))?
        }
    };
    Ok(json!({"inlineData": {"mimeType": media_type, "data": data}}))
}

fn encode_tool(tool: &ToolDef) -> Result<Value, RouteError> {
    let name = &tool.name;
    let valid = name.len() <= MAX_NAME
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'));
    if !valid {
        return Err(RouteError::unsupported(format!(
            "tool name {name} for Gemini"
        )));
    }
    let mut out = json!({"name": name});
    if let Some(description) = &tool.description {
        out["description"] = Value::from(description.clone());
    }
    let empty = tool.parameters.as_object().is_some_and(Map::is_empty);
    let no_arguments = empty
        || tool.parameters.get("type").and_then(Value::as_str) == Some("object")
            && tool
                .parameters
                .get("properties")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty);
    if !no_arguments {
        out["parameters"] = schema::to_gemini(&tool.parameters)?;
    }
    Ok(out)
}

fn generation_config(request: &ChatRequest, model: &str) -> Result<Map<String, Value>, RouteError> {
    let mut config = Map::new();
    if let Some(max) = request.max_output_tokens {
        config.insert("maxOutputTokens".into(), max.into());
    }
    if let Some(t) = request.temperature {
        config.insert("temperature".into(), t.into());
    }
    if let Some(p) = request.top_p {
        config.insert("topP".into(), p.into());
    }
    if !request.stop.is_empty() {
        config.insert("stopSequences".into(), json!(request.stop));
    }
    match &request.response_format {
        None => {}
        Some(ResponseFormat::Text) => {
            config.insert("responseMimeType".into(), "text/plain".into());
        }
        Some(ResponseFormat::JsonObject) => {
            config.insert("responseMimeType".into(), "application/json".into());
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            config.insert("responseMimeType".into(), "application/json".into());
            config.insert("responseJsonSchema".into(), schema.clone());
        }
    }
    if let Some(reasoning) = &request.reasoning {
        config.insert("thinkingConfig".into(), thinking_config(reasoning, model)?);
    }
    Ok(config)
}

fn thinking_config(reasoning: &Reasoning, model: &str) -> Result<Value, RouteError> {
    let mut out = json!({"includeThoughts": reasoning.include_thoughts});
    let legacy = model.starts_with("gemini-2") || model.starts_with("gemini-1");
    match (reasoning.effort, reasoning.budget_tokens) {
        (Some(_), Some(_)) => {
            return Err(RouteError::unsupported(
                "thinking budget together with effort",
            ))
        }
        (None, Some(budget)) => out["thinkingBudget"] = budget.into(),
        (Some(effort), None) if legacy => {
            let budget = match effort {
                Effort::Minimal | Effort::Low => 1024,
                Effort::Medium => 8192,
                Effort::High => 24576,
            };
            out["thinkingBudget"] = budget.into();
        }
        (Some(effort), None) => {
            let level = match effort {
                Effort::Minimal => "MINIMAL",
                Effort::Low => "LOW",
                Effort::Medium => "MEDIUM",
                Effort::High => "HIGH",
            };
            out["thinkingLevel"] = level.into();
        }
        (None, None) => {}
    }
    Ok(out)
}
