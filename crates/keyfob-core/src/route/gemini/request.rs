//! A `GenerateContentRequest` read into the IR (the module doc lists what is mapped,
//! dropped and refused).

use serde_json::Value;

use super::super::ir::{split_id, ChatRequest, Image, Message, Opaque, Part, Role, RouteError};
use super::{config, malformed, signature_in, Fields};

pub fn decode_request(endpoint: &str, body: &[u8]) -> Result<ChatRequest, RouteError> {
    let (model, stream) = parse_endpoint(endpoint)?;
    let value: Value =
        serde_json::from_slice(body).map_err(|e| malformed(format!("request body: {e}")))?;
    let mut top = Fields::new(&value, "request")?;
    let mut request = ChatRequest {
        model: model.to_string(),
        stream,
        ..ChatRequest::default()
    };
    if let Some(named) = top.str("model")? {
        if named.strip_prefix("models/").unwrap_or(named) != model {
            return Err(malformed("body model differs from the endpoint's"));
        }
    }
    top.refuse("cachedContent", "cachedContent")?;
    top.drop("safetySettings")?;
    top.drop("serviceTier")?;
    if let Some(system) = top.get("systemInstruction")? {
        request.system = system_texts(system)?;
    }
    let contents = top
        .get("contents")?
        .ok_or_else(|| malformed("no contents"))?;
    request.messages = Contents::default().read(contents)?;
    for tool in top.array("tools")? {
        config::read_tool(tool, &mut request.tools)?;
    }
    if let Some(config) = top.get("toolConfig")? {
        request.tool_choice = config::read_tool_config(config, &request.tools)?;
    }
    if let Some(config) = top.get("generationConfig")? {
        config::read_generation_config(config, &mut request)?;
    }
    top.done()?;
    Ok(request)
}

/// `models/{model}:generateContent` or `models/{model}:streamGenerateContent?alt=sse`.
fn parse_endpoint(endpoint: &str) -> Result<(&str, bool), RouteError> {
    let (path, query) = match endpoint.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (endpoint, None),
    };
    let rest = path
        .strip_prefix("models/")
        .ok_or_else(|| RouteError::unsupported(format!("endpoint {endpoint}")))?;
    let (model, method) = rest
        .rsplit_once(':')
        .ok_or_else(|| RouteError::unsupported(format!("endpoint {endpoint}")))?;
    if model.is_empty() || model.contains('/') {
        return Err(malformed(format!("model in endpoint {endpoint}")));
    }
    match (method, query) {
        ("generateContent", None) => Ok((model, false)),
        ("streamGenerateContent", Some("alt=sse")) => Ok((model, true)),
        ("streamGenerateContent", _) => Err(RouteError::unsupported(
            "streamGenerateContent without alt=sse",
        )),
        _ => Err(RouteError::unsupported(format!("endpoint {endpoint}"))),
    }
}

fn system_texts(system: &Value) -> Result<Vec<String>, RouteError> {
    let mut content = Fields::new(system, "systemInstruction")?;
    content.drop("role")?;
    let mut texts = Vec::new();
    for part in content.array("parts")? {
        let mut fields = Fields::new(part, "systemInstruction.parts")?;
        let text = fields
            .str("text")?
            .ok_or_else(|| RouteError::unsupported("non-text systemInstruction"))?;
        fields.drop("thoughtSignature")?;
        fields.done()?;
        texts.push(text.to_string());
    }
    content.done()?;
    Ok(texts)
}

/// Reads `contents`, giving call ids to calls that have none and matching results to
/// their calls.
#[derive(Default)]
struct Contents {
    /// Calls seen so far: (id, name, answered).
    calls: Vec<(String, String, bool)>,
    /// Ids the app wrote, which generated ones must not repeat.
    taken: Vec<String>,
    next: u32,
}

impl Contents {
    fn read(mut self, contents: &Value) -> Result<Vec<Message>, RouteError> {
        let contents = contents
            .as_array()
            .ok_or_else(|| malformed("contents is not an array"))?;
        self.taken = contents
            .iter()
            .flat_map(|c| {
                c.get("parts")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            })
            .filter_map(|p| p.get("functionCall").or_else(|| p.get("function_call")))
            .filter_map(|c| c.get("id").and_then(Value::as_str))
            .map(|id| split_id(id).0)
            .collect();
        let mut messages: Vec<Message> = Vec::new();
        for content in contents {
            let mut fields = Fields::new(content, "contents")?;
            let role = match fields.str("role")? {
                None | Some("user") => Role::User,
                Some("model") => Role::Assistant,
                Some(other) => return Err(malformed(format!("role {other}"))),
            };
            let mut parts = Vec::new();
            for part in fields.array("parts")? {
                if let Some(part) = self.part(part)? {
                    parts.push(part);
                }
            }
            fields.done()?;
            match messages.last_mut() {
                Some(last) if last.role == role => {
                    for part in parts {
                        push_part(&mut last.parts, part);
                    }
                }
                _ => {
                    let mut joined = Vec::new();
                    for part in parts {
                        push_part(&mut joined, part);
                    }
                    messages.push(Message {
                        role,
                        parts: joined,
                    });
                }
            }
        }
        Ok(messages)
    }

    fn part(&mut self, part: &Value) -> Result<Option<Part>, RouteError> {
        let mut fields = Fields::new(part, "parts")?;
        fields.refuse("executableCode", "executableCode")?;
        fields.refuse("codeExecutionResult", "codeExecutionResult")?;
        fields.refuse("videoMetadata", "videoMetadata")?;
        fields.refuse("toolCall", "server-side tool invocation")?;
        fields.refuse("toolResponse", "server-side tool invocation")?;
        fields.drop("mediaResolution")?;
        fields.drop("partMetadata")?;
        let thought = fields.bool("thought")?.unwrap_or(false);
        let signature = fields.str("thoughtSignature")?.map(signature_in);
        let text = fields.str("text")?;
        let inline = fields.get("inlineData")?;
        let file = fields.get("fileData")?;
        let call = fields.get("functionCall")?;
        let result = fields.get("functionResponse")?;
        let data = [text.is_some(), inline.is_some(), file.is_some()];
        let kinds = data.iter().filter(|b| **b).count()
            + usize::from(call.is_some())
            + usize::from(result.is_some());
        if kinds == 0 && signature.is_some() {
            // A part holding only a signature (Gemini sends them at a stream's end).
            fields.done()?;
            return Ok(None);
        }
        if kinds != 1 {
            return Err(malformed("a part must hold exactly one kind of data"));
        }
        let out = if let Some(text) = text {
            match (thought, signature) {
                (true, Some((token, true))) => Some(Part::RedactedThinking(token)),
                (true, signature) => Some(Part::Thinking {
                    text: text.to_string(),
                    signature: signature.map(|(token, _)| token),
                }),
                // A signature on visible text is optional for Gemini: dropped, and a
                // part that held only it goes too.
                (false, Some(_)) if text.is_empty() => None,
                (false, _) => Some(Part::Text(text.to_string())),
            }
        } else if let Some(inline) = inline {
            Some(Part::Image(inline_image(inline)?))
        } else if let Some(file) = file {
            Some(Part::Image(file_image(file)?))
        } else if let Some(call) = call {
            Some(self.call(call, signature.map(|(token, _)| token))?)
        } else if let Some(result) = result {
            Some(self.result(result)?)
        } else {
            None
        };
        fields.done()?;
        Ok(out)
    }

    fn call(&mut self, call: &Value, signature: Option<Opaque>) -> Result<Part, RouteError> {
        let mut fields = Fields::new(call, "functionCall")?;
        fields.refuse("partialArgs", "functionCall.partialArgs")?;
        fields.refuse("willContinue", "functionCall.willContinue")?;
        let name = fields
            .str("name")?
            .ok_or_else(|| malformed("functionCall without name"))?;
        let arguments = match fields.get("args")? {
            None => "{}".to_string(),
            Some(args @ Value::Object(_)) => args.to_string(),
            Some(_) => return Err(malformed("functionCall.args is not an object")),
        };
        let (id, on_id) = match fields.str("id")? {
            Some(id) => split_id(id),
            None => (self.fresh_id(), None),
        };
        fields.done()?;
        self.calls.push((id.clone(), name.to_string(), false));
        Ok(Part::ToolCall {
            id,
            name: name.to_string(),
            arguments,
            signature: signature.or(on_id),
        })
    }

    fn fresh_id(&mut self) -> String {
        loop {
            self.next += 1;
            let id = format!("call_{}", self.next);
            if !self.taken.contains(&id) && !self.calls.iter().any(|c| c.0 == id) {
                return id;
            }
        }
    }

    fn result(&mut self, result: &Value) -> Result<Part, RouteError> {
        let mut fields = Fields::new(result, "functionResponse")?;
        fields.refuse("willContinue", "functionResponse.willContinue")?;
        fields.refuse("scheduling", "functionResponse.scheduling")?;
        let name = fields
            .str("name")?
            .ok_or_else(|| malformed("functionResponse without name"))?;
        let call_id = match fields.str("id")? {
            Some(id) => {
                let id = split_id(id).0;
                if let Some(call) = self.calls.iter_mut().find(|c| c.0 == id) {
                    call.2 = true;
                }
                id
            }
            None => {
                let call = self
                    .calls
                    .iter_mut()
                    .find(|c| !c.2 && c.1 == name)
                    .ok_or_else(|| {
                        RouteError::unsupported("functionResponse without a matching functionCall")
                    })?;
                call.2 = true;
                call.0.clone()
            }
        };
        let (mut content, is_error) = match fields.get("response")? {
            None => (Vec::new(), false),
            Some(response) => unwrap_response(response)?,
        };
        for part in fields.array("parts")? {
            let mut inner = Fields::new(part, "functionResponse.parts")?;
            let image = match (inner.get("inlineData")?, inner.get("fileData")?) {
                (Some(inline), None) => inline_image(inline)?,
                (None, Some(file)) => file_image(file)?,
                _ => return Err(malformed("functionResponse part")),
            };
            inner.done()?;
            content.push(Part::Image(image));
        }
        fields.done()?;
        Ok(Part::ToolResult {
            call_id,
            name: Some(name.to_string()),
            content,
            is_error,
        })
    }
}

/// Joins a thought part to the thought before it until one carries a signature (the
/// SDK's chat keeps each streamed piece as its own part).
pub(super) fn push_part(parts: &mut Vec<Part>, part: Part) {
    if let (
        Some(Part::Thinking {
            text,
            signature: None,
        }),
        Part::Thinking {
            text: more,
            signature: closing,
        },
    ) = (parts.last_mut(), &part)
    {
        text.push_str(more);
        if let Some(Part::Thinking { signature, .. }) = parts.last_mut() {
            *signature = closing.clone();
        }
        return;
    }
    parts.push(part);
}

/// A response holding only `output`, `result` or `error` is that value (text as is,
/// anything else as its JSON text; `error` marks a failure); any other response is kept
/// whole as its JSON text.
fn unwrap_response(response: &Value) -> Result<(Vec<Part>, bool), RouteError> {
    let map = response
        .as_object()
        .ok_or_else(|| malformed("functionResponse.response is not an object"))?;
    let mut entries = map.iter();
    if let (Some((key, value)), None) = (entries.next(), entries.next()) {
        if matches!(key.as_str(), "output" | "result" | "error") {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            return Ok((vec![Part::Text(text)], key == "error"));
        }
    }
    Ok((vec![Part::Text(response.to_string())], false))
}

fn inline_image(inline: &Value) -> Result<Image, RouteError> {
    let mut fields = Fields::new(inline, "inlineData")?;
    let media_type = fields.str("mimeType")?.unwrap_or_default();
    let data = fields.str("data")?.unwrap_or_default();
    fields.drop("displayName")?;
    fields.done()?;
    if !media_type.starts_with("image/") {
        return Err(RouteError::unsupported(format!("inlineData {media_type}")));
    }
    Ok(Image::Base64 {
        media_type: media_type.to_string(),
        data: data.to_string(),
    })
}

fn file_image(file: &Value) -> Result<Image, RouteError> {
    let mut fields = Fields::new(file, "fileData")?;
    let media_type = fields.str("mimeType")?.unwrap_or_default();
    let uri = fields
        .str("fileUri")?
        .ok_or_else(|| malformed("fileData without fileUri"))?;
    fields.drop("displayName")?;
    fields.done()?;
    if !media_type.starts_with("image/") {
        return Err(RouteError::unsupported(format!("fileData {media_type}")));
    }
    // Files API and Cloud Storage URIs only open with Google credentials.
    if !uri.starts_with("https://") || uri.starts_with("https://generativelanguage.googleapis.com")
    {
        return Err(RouteError::unsupported("Gemini file URI"));
    }
    Ok(Image::Url(uri.to_string()))
}
