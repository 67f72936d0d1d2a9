//! `GenerateContentResponse` and error bodies to and from the IR.
//!
//! Read: the first candidate's parts (thought parts as Thinking, `functionCall`s with
//! `call_<responseId>_<n>` ids where Gemini gave none, inline images), `finishReason` (STOP with
//! calls = ToolUse; every safety-like reason = ContentFilter), `promptFeedback.blockReason`
//! (= ContentFilter, no parts), `usageMetadata`, `responseId`, `modelVersion`. Dropped:
//! safety ratings, citations, grounding metadata, `avgLogprobs`, `finishMessage`.
//! A finish that is a failure (MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL,
//! TOO_MANY_TOOL_CALLS, OTHER…) has no IR stop reason: refused, not reported as an end.
//!
//! Errors: `{"error": {"code", "message", "status"}}` (also inside a one-element array,
//! as the non-SSE stream endpoint sends it). `API_KEY_INVALID` (sent as
//! INVALID_ARGUMENT) is an authentication error.

use serde_json::{json, Map, Value};

use super::super::ir::{
    split_id, ChatResponse, ErrorKind, Image, Part, ProviderError, RouteError, StopReason,
};
use super::request::push_part;
use super::{malformed, signature_in, signature_out, stop_in, stop_out, usage_in, usage_out};

pub fn decode_response(body: &[u8]) -> Result<ChatResponse, RouteError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| malformed(format!("response body: {e}")))?;
    let mut calls = 0;
    let mut response = ChatResponse {
        id: text_field(&value, "responseId"),
        model: text_field(&value, "modelVersion"),
        usage: value.get("usageMetadata").map(usage_in).unwrap_or_default(),
        ..ChatResponse::default()
    };
    let candidate = only_candidate(&value)?;
    let Some(candidate) = candidate else {
        if blocked(&value) {
            response.stop = Some(StopReason::ContentFilter);
        }
        return Ok(response);
    };
    for part in candidate_parts(candidate) {
        if let Some(part) = read_part(part, &response.id, &mut calls)? {
            push_part(&mut response.parts, part);
        }
    }
    if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str) {
        response.stop = Some(finish(reason, calls > 0)?);
    }
    Ok(response)
}

fn text_field(value: &Value, name: &str) -> String {
    value
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The one candidate a response may hold (candidateCount > 1 is refused upstream).
pub(super) fn only_candidate(value: &Value) -> Result<Option<&Value>, RouteError> {
    match value
        .get("candidates")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        None | Some([]) => Ok(None),
        Some([one]) if one.get("index").and_then(Value::as_u64).unwrap_or(0) == 0 => Ok(Some(one)),
        Some(_) => Err(RouteError::unsupported("several candidates")),
    }
}

pub(super) fn candidate_parts(candidate: &Value) -> &[Value] {
    candidate
        .pointer("/content/parts")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

pub(super) fn blocked(value: &Value) -> bool {
    value.pointer("/promptFeedback/blockReason").is_some()
}

pub(super) fn finish(reason: &str, called: bool) -> Result<StopReason, RouteError> {
    stop_in(reason, called).ok_or_else(|| RouteError::unsupported(format!("finishReason {reason}")))
}

/// One answer part; `calls` numbers the calls. A call Gemini sent without an id gets
/// `call_<responseId>_<n>`: distinct within the answer and across the conversation's
/// turns (apps key tool results by id), never derived from the function's name.
pub(super) fn read_part(
    part: &Value,
    response_id: &str,
    calls: &mut u32,
) -> Result<Option<Part>, RouteError> {
    let signature = part
        .get("thoughtSignature")
        .and_then(Value::as_str)
        .map(signature_in);
    if let Some(call) = part.get("functionCall") {
        *calls += 1;
        let name = call
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("functionCall without name"))?;
        let arguments = match call.get("args") {
            None | Some(Value::Null) => "{}".to_string(),
            Some(args) => args.to_string(),
        };
        let (id, on_id) = match call.get("id").and_then(Value::as_str) {
            Some(id) => split_id(id),
            None if response_id.is_empty() => (format!("call_{calls}"), None),
            None => (format!("call_{response_id}_{calls}"), None),
        };
        return Ok(Some(Part::ToolCall {
            id,
            name: name.to_string(),
            arguments,
            signature: signature.map(|(token, _)| token).or(on_id),
        }));
    }
    if let Some(text) = part.get("text").and_then(Value::as_str) {
        let thought = part.get("thought").and_then(Value::as_bool) == Some(true);
        return Ok(match (thought, signature) {
            (true, Some((token, true))) => Some(Part::RedactedThinking(token)),
            (true, signature) => Some(Part::Thinking {
                text: text.to_string(),
                signature: signature.map(|(token, _)| token),
            }),
            (false, _) if text.is_empty() => None,
            (false, _) => Some(Part::Text(text.to_string())),
        });
    }
    if let Some(inline) = part.get("inlineData") {
        let media_type = text_field(inline, "mimeType");
        if !media_type.starts_with("image/") {
            return Err(RouteError::unsupported(format!("inlineData {media_type}")));
        }
        let data = text_field(inline, "data");
        return Ok(Some(Part::Image(Image::Base64 { media_type, data })));
    }
    let kind = part.as_object().and_then(|m| {
        m.keys()
            .find(|k| !matches!(k.as_str(), "thought" | "thoughtSignature" | "partMetadata"))
    });
    match kind {
        Some(kind) => Err(RouteError::unsupported(format!("answer part {kind}"))),
        None => Ok(None),
    }
}

pub fn encode_response(response: &ChatResponse) -> Result<Vec<u8>, RouteError> {
    let mut parts = Vec::new();
    for part in &response.parts {
        parts.push(write_part(part)?);
    }
    let mut candidate = Map::new();
    if !parts.is_empty() {
        candidate.insert("content".into(), json!({"role": "model", "parts": parts}));
    }
    if let Some(stop) = &response.stop {
        candidate.insert("finishReason".into(), stop_out(stop).into());
    }
    candidate.insert("index".into(), 0.into());
    let body = json!({
        "candidates": [candidate],
        "usageMetadata": usage_out(&response.usage),
        "modelVersion": response.model,
        "responseId": response.id,
    });
    serde_json::to_vec(&body).map_err(|e| malformed(format!("encoding: {e}")))
}

/// One part for a Gemini app; a foreign signature rides in `thoughtSignature`.
pub(super) fn write_part(part: &Part) -> Result<Value, RouteError> {
    Ok(match part {
        Part::Text(text) => json!({"text": text}),
        Part::Thinking { text, signature } => {
            let mut out = json!({"text": text, "thought": true});
            if let Some(token) = signature {
                out["thoughtSignature"] = signature_out(token, false).into();
            }
            out
        }
        Part::RedactedThinking(token) => json!({
            "text": "", "thought": true, "thoughtSignature": signature_out(token, true)
        }),
        Part::ToolCall {
            id,
            name,
            arguments,
            signature,
        } => {
            let args: Value = if arguments.trim().is_empty() {
                json!({})
            } else {
                serde_json::from_str(arguments)
                    .map_err(|_| RouteError::unsupported("tool call arguments that are not JSON"))?
            };
            if !args.is_object() {
                return Err(RouteError::unsupported(
                    "tool call arguments that are not a JSON object",
                ));
            }
            let mut out = json!({"functionCall": {"id": id, "name": name, "args": args}});
            if let Some(token) = signature {
                out["thoughtSignature"] = signature_out(token, false).into();
            }
            out
        }
        Part::Image(Image::Base64 { media_type, data }) => {
            json!({"inlineData": {"mimeType": media_type, "data": data}})
        }
        Part::Image(Image::Url(_)) => return Err(RouteError::unsupported("image by URL")),
        Part::ToolResult { .. } => return Err(RouteError::unsupported("tool result in an answer")),
    })
}

pub fn decode_error(status: u16, body: &[u8]) -> ProviderError {
    // An error on the SSE endpoint may come framed as an event.
    let text = String::from_utf8_lossy(body);
    let json = text.trim().strip_prefix("data:").unwrap_or(&text);
    let value: Option<Value> = serde_json::from_str(json.trim()).ok();
    let error = value.as_ref().and_then(|v| match v {
        Value::Array(items) => items.first().and_then(|i| i.get("error")),
        other => other.get("error"),
    });
    let Some(error) = error else {
        return ProviderError {
            status,
            kind: ErrorKind::from_status(status),
            message: text.trim().to_string(),
        };
    };
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let key_invalid = error
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|d| d.get("reason").and_then(Value::as_str) == Some("API_KEY_INVALID"));
    let kind = match error.get("status").and_then(Value::as_str) {
        _ if key_invalid => ErrorKind::Authentication,
        Some("INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE") => {
            ErrorKind::InvalidRequest
        }
        Some("UNAUTHENTICATED") => ErrorKind::Authentication,
        Some("PERMISSION_DENIED") => ErrorKind::PermissionDenied,
        Some("NOT_FOUND") => ErrorKind::NotFound,
        Some("RESOURCE_EXHAUSTED") => ErrorKind::RateLimited,
        Some("UNAVAILABLE") => ErrorKind::Overloaded,
        Some("INTERNAL" | "UNKNOWN" | "DEADLINE_EXCEEDED" | "DATA_LOSS") => ErrorKind::Server,
        _ => ErrorKind::from_status(status),
    };
    ProviderError {
        status,
        kind,
        message,
    }
}

/// The gRPC status name a Gemini SDK expects for `kind`.
pub(super) fn status_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest => "INVALID_ARGUMENT",
        ErrorKind::Authentication => "UNAUTHENTICATED",
        ErrorKind::PermissionDenied => "PERMISSION_DENIED",
        ErrorKind::NotFound => "NOT_FOUND",
        ErrorKind::RateLimited => "RESOURCE_EXHAUSTED",
        ErrorKind::Overloaded => "UNAVAILABLE",
        ErrorKind::Server => "INTERNAL",
    }
}

pub(super) fn error_value(error: &ProviderError) -> Value {
    json!({"error": {
        "code": error.status,
        "message": error.message,
        "status": status_name(error.kind),
    }})
}

pub fn encode_error(error: &ProviderError) -> Vec<u8> {
    error_value(error).to_string().into_bytes()
}
