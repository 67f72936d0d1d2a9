//! The request's tools, tool choice and generation settings (see the module doc for what
//! is mapped, dropped and refused).

use serde_json::{json, Value};

use super::super::ir::{
    ChatRequest, Effort, Reasoning, ResponseFormat, RouteError, ToolChoice, ToolDef,
};
use super::{malformed, schema, Fields};

pub(super) fn read_tool(tool: &Value, tools: &mut Vec<ToolDef>) -> Result<(), RouteError> {
    let mut fields = Fields::new(tool, "tools")?;
    for builtin in [
        "googleSearch",
        "googleSearchRetrieval",
        "codeExecution",
        "urlContext",
        "retrieval",
        "fileSearch",
        "googleMaps",
        "computerUse",
        "enterpriseWebSearch",
        "mcpServers",
    ] {
        fields.refuse(builtin, builtin)?;
    }
    for declaration in fields.array("functionDeclarations")? {
        let mut decl = Fields::new(declaration, "functionDeclarations")?;
        decl.refuse("response", "function response schema")?;
        decl.refuse("responseJsonSchema", "function response schema")?;
        decl.refuse("behavior", "function behavior")?;
        let name = decl
            .str("name")?
            .ok_or_else(|| malformed("function declaration without name"))?;
        let description = decl.str("description")?.map(str::to_string);
        let parameters = match (decl.get("parameters")?, decl.get("parametersJsonSchema")?) {
            (Some(_), Some(_)) => {
                return Err(malformed("both parameters and parametersJsonSchema"))
            }
            (Some(gemini), None) => schema::from_gemini(gemini),
            (None, Some(json)) => json.clone(),
            (None, None) => json!({"type": "object", "properties": {}}),
        };
        decl.done()?;
        tools.push(ToolDef {
            name: name.to_string(),
            description,
            parameters,
        });
    }
    fields.done()
}

pub(super) fn read_tool_config(
    config: &Value,
    tools: &[ToolDef],
) -> Result<Option<ToolChoice>, RouteError> {
    let mut fields = Fields::new(config, "toolConfig")?;
    fields.refuse("retrievalConfig", "toolConfig.retrievalConfig")?;
    fields.refuse(
        "includeServerSideToolInvocations",
        "server-side tool invocation",
    )?;
    let choice = match fields.get("functionCallingConfig")? {
        None => None,
        Some(calling) => {
            let mut calling = Fields::new(calling, "functionCallingConfig")?;
            calling.refuse("streamFunctionCallArguments", "streamFunctionCallArguments")?;
            let mode = calling.str("mode")?.unwrap_or("AUTO");
            let mut names = Vec::new();
            for name in calling.array("allowedFunctionNames")? {
                let name = name
                    .as_str()
                    .ok_or_else(|| malformed("allowedFunctionNames"))?;
                names.push(name);
            }
            calling.done()?;
            let every = tools.iter().all(|t| names.contains(&t.name.as_str()));
            Some(
                match (mode.to_ascii_uppercase().as_str(), names.as_slice()) {
                    ("AUTO" | "MODE_UNSPECIFIED", []) => ToolChoice::Auto,
                    ("NONE", []) => ToolChoice::None,
                    ("ANY", []) => ToolChoice::Required,
                    ("ANY", [one]) => ToolChoice::Named(one.to_string()),
                    ("ANY", _) if every => ToolChoice::Required,
                    ("ANY", _) => {
                        return Err(RouteError::unsupported(
                            "allowedFunctionNames with several names",
                        ))
                    }
                    ("VALIDATED", _) => {
                        return Err(RouteError::unsupported(
                            "functionCallingConfig mode VALIDATED",
                        ))
                    }
                    ("AUTO" | "NONE" | "MODE_UNSPECIFIED", _) => {
                        return Err(malformed("allowedFunctionNames need mode ANY"))
                    }
                    (other, _) => {
                        return Err(malformed(format!("functionCallingConfig mode {other}")))
                    }
                },
            )
        }
    };
    fields.done()?;
    Ok(choice)
}

pub(super) fn read_generation_config(
    config: &Value,
    request: &mut ChatRequest,
) -> Result<(), RouteError> {
    let mut fields = Fields::new(config, "generationConfig")?;
    for (field, feature) in [
        ("topK", "topK"),
        ("seed", "seed"),
        ("presencePenalty", "presencePenalty"),
        ("frequencyPenalty", "frequencyPenalty"),
        ("logprobs", "logprobs"),
        ("speechConfig", "audio output"),
        ("imageConfig", "image output"),
        ("enableEnhancedCivicAnswers", "enableEnhancedCivicAnswers"),
        ("enableAffectiveDialog", "enableAffectiveDialog"),
        ("responseFormat", "generationConfig.responseFormat"),
    ] {
        fields.refuse(field, feature)?;
    }
    fields.drop("mediaResolution")?;
    if fields.bool("responseLogprobs")? == Some(true) {
        return Err(RouteError::unsupported("logprobs"));
    }
    if let Some(count) = fields.i64("candidateCount")? {
        if count != 1 {
            return Err(RouteError::unsupported("candidateCount"));
        }
    }
    for modality in fields.array("responseModalities")? {
        if !modality
            .as_str()
            .is_some_and(|m| m.eq_ignore_ascii_case("TEXT"))
        {
            return Err(RouteError::unsupported(
                "responseModalities other than TEXT",
            ));
        }
    }
    if let Some(max) = fields.i64("maxOutputTokens")? {
        request.max_output_tokens =
            Some(u64::try_from(max).map_err(|_| malformed("maxOutputTokens"))?);
    }
    request.temperature = fields.f64("temperature")?;
    request.top_p = fields.f64("topP")?;
    for stop in fields.array("stopSequences")? {
        let stop = stop.as_str().ok_or_else(|| malformed("stopSequences"))?;
        request.stop.push(stop.to_string());
    }
    let mime = fields.str("responseMimeType")?;
    let schema = match (
        fields.get("responseSchema")?,
        fields.get("responseJsonSchema")?,
    ) {
        (Some(_), Some(_)) => return Err(malformed("both responseSchema and responseJsonSchema")),
        (Some(gemini), None) => Some(schema::from_gemini(gemini)),
        (None, json) => json.cloned(),
    };
    request.response_format = match (mime, schema) {
        (None, None) => None,
        (Some("text/plain"), None) => Some(ResponseFormat::Text),
        (Some("application/json"), None) => Some(ResponseFormat::JsonObject),
        (Some("application/json"), Some(schema)) => Some(ResponseFormat::JsonSchema {
            name: "response".into(),
            schema,
            strict: true,
        }),
        (_, Some(_)) => return Err(malformed("a response schema needs application/json")),
        (Some(other), None) => {
            return Err(RouteError::unsupported(format!("responseMimeType {other}")))
        }
    };
    if let Some(thinking) = fields.get("thinkingConfig")? {
        request.reasoning = read_thinking(thinking)?;
    }
    fields.done()
}

fn read_thinking(thinking: &Value) -> Result<Option<Reasoning>, RouteError> {
    let mut fields = Fields::new(thinking, "thinkingConfig")?;
    let include_thoughts = fields.bool("includeThoughts")?.unwrap_or(false);
    let budget = fields.i64("thinkingBudget")?;
    let level = fields.str("thinkingLevel")?;
    fields.done()?;
    let effort = match level.map(str::to_ascii_uppercase).as_deref() {
        None | Some("THINKING_LEVEL_UNSPECIFIED") => None,
        Some("MINIMAL") => Some(Effort::Minimal),
        Some("LOW") => Some(Effort::Low),
        Some("MEDIUM") => Some(Effort::Medium),
        Some("HIGH") => Some(Effort::High),
        Some(other) => return Err(malformed(format!("thinkingLevel {other}"))),
    };
    if effort.is_some() && budget.is_some() {
        return Err(malformed("both thinkingLevel and thinkingBudget"));
    }
    let budget_tokens = match budget {
        // Thinking off: the app asked for no reasoning.
        Some(0) => return Ok(None),
        Some(-1) | None => None,
        Some(b) if b > 0 => Some(b as u64),
        Some(_) => return Err(malformed("thinkingBudget")),
    };
    Ok(Some(Reasoning {
        effort,
        budget_tokens,
        include_thoughts,
    }))
}
