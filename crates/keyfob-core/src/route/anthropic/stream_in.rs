//! Reads Anthropic's SSE stream into the common stream. Block indices are Anthropic's
//! own (0, 1, … in order of `content_block_start`), which is what the common form asks.

use serde_json::{Map, Value};

use super::error::{kind_from_wire, status_of};
use super::{
    as_object, field, malformed, opaque_from_wire, stop_from_wire, str_field, usage_from_wire,
};
use crate::metering::sse::SseEvent;
use crate::route::ir::{self, ErrorKind, ProviderError, RouteError, StreamEvent, Usage};
use crate::route::StreamDecoder;

#[derive(Debug, Default)]
pub struct Decoder {
    started: bool,
    /// `message_stop` arrived, or an `error` ended the stream.
    finished: bool,
}

impl StreamDecoder for Decoder {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, RouteError> {
        if self.finished || event.data.trim().is_empty() {
            return Ok(Vec::new());
        }
        let data: Value = serde_json::from_str(&event.data)
            .map_err(|error| malformed(format!("a stream event is not JSON: {error}")))?;
        let data = as_object(&data, "a stream event")?;
        // The data's `type` is authoritative; the SSE `event:` name repeats it.
        match str_field(data, "type", "a stream event")? {
            "message_start" => self.message_start(data),
            "content_block_start" => content_block_start(data),
            "content_block_delta" => content_block_delta(data),
            "content_block_stop" => Ok(vec![StreamEvent::BlockStop {
                index: index(data)?,
            }]),
            "message_delta" => message_delta(data),
            "message_stop" => {
                self.finished = true;
                Ok(Vec::new())
            }
            "error" => {
                self.finished = true;
                Ok(vec![StreamEvent::Error(error_event(data))])
            }
            // `ping`, and event types added later (the API reference asks to skip them).
            _ => Ok(Vec::new()),
        }
    }

    fn end(&mut self) -> Vec<StreamEvent> {
        if self.finished {
            return vec![StreamEvent::End];
        }
        // Cut off before message_stop: the app must not take a partial answer as whole.
        self.finished = true;
        vec![
            StreamEvent::Error(ProviderError {
                status: 502,
                kind: ErrorKind::Server,
                message: "the provider's stream ended before its last event".to_string(),
            }),
            StreamEvent::End,
        ]
    }
}

impl Decoder {
    fn message_start(&mut self, data: &Map<String, Value>) -> Result<Vec<StreamEvent>, RouteError> {
        if self.started {
            return Err(malformed("a second message_start"));
        }
        self.started = true;
        let message = as_object(
            field(data, "message").ok_or_else(|| malformed("message_start needs `message`"))?,
            "a message_start message",
        )?;
        let mut out = vec![StreamEvent::Start {
            id: str_field(message, "id", "a message_start message")?.to_string(),
            model: str_field(message, "model", "a message_start message")?.to_string(),
        }];
        if let Some(usage) = field(message, "usage") {
            let usage = usage_from_wire(as_object(usage, "`usage`")?);
            if usage != Usage::default() {
                out.push(StreamEvent::Usage(usage));
            }
        }
        Ok(out)
    }
}

fn index(data: &Map<String, Value>) -> Result<usize, RouteError> {
    field(data, "index")
        .and_then(Value::as_u64)
        .and_then(|index| usize::try_from(index).ok())
        .ok_or_else(|| malformed("a block event needs an `index`"))
}

fn content_block_start(data: &Map<String, Value>) -> Result<Vec<StreamEvent>, RouteError> {
    let index = index(data)?;
    let block = as_object(
        field(data, "content_block")
            .ok_or_else(|| malformed("content_block_start needs a block"))?,
        "a content block",
    )?;
    let mut out = Vec::new();
    match str_field(block, "type", "a content block")? {
        "text" => {
            out.push(StreamEvent::TextStart { index });
            let text = str_field(block, "text", "a text block")?;
            if !text.is_empty() {
                out.push(StreamEvent::TextDelta {
                    index,
                    text: text.to_string(),
                });
            }
        }
        "thinking" => {
            out.push(StreamEvent::ThinkingStart { index });
            if let Some(text) = field(block, "thinking").and_then(Value::as_str) {
                if !text.is_empty() {
                    out.push(StreamEvent::ThinkingDelta {
                        index,
                        text: text.to_string(),
                    });
                }
            }
        }
        "redacted_thinking" => out.push(StreamEvent::RedactedThinking {
            index,
            data: opaque_from_wire(str_field(block, "data", "a redacted_thinking block")?),
        }),
        "tool_use" => {
            let (id, signature) = ir::split_id(str_field(block, "id", "a tool_use block")?);
            out.push(StreamEvent::ToolCallStart {
                index,
                id,
                name: str_field(block, "name", "a tool_use block")?.to_string(),
                signature,
            });
            // The input starts as `{}` and arrives in input_json_delta fragments.
            if let Some(input) = field(block, "input") {
                if input.as_object().is_some_and(|input| !input.is_empty()) {
                    out.push(StreamEvent::ToolCallDelta {
                        index,
                        arguments: input.to_string(),
                    });
                }
            }
        }
        _ => return Err(RouteError::unsupported("server tool use")),
    }
    Ok(out)
}

fn content_block_delta(data: &Map<String, Value>) -> Result<Vec<StreamEvent>, RouteError> {
    let index = index(data)?;
    let delta = as_object(
        field(data, "delta").ok_or_else(|| malformed("content_block_delta needs a `delta`"))?,
        "a delta",
    )?;
    let event = match str_field(delta, "type", "a delta")? {
        "text_delta" => StreamEvent::TextDelta {
            index,
            text: str_field(delta, "text", "a text_delta")?.to_string(),
        },
        "input_json_delta" => {
            let fragment = str_field(delta, "partial_json", "an input_json_delta")?;
            if fragment.is_empty() {
                return Ok(Vec::new());
            }
            StreamEvent::ToolCallDelta {
                index,
                arguments: fragment.to_string(),
            }
        }
        "thinking_delta" => StreamEvent::ThinkingDelta {
            index,
            text: str_field(delta, "thinking", "a thinking_delta")?.to_string(),
        },
        "signature_delta" => StreamEvent::ThinkingSignature {
            index,
            signature: opaque_from_wire(str_field(delta, "signature", "a signature_delta")?),
        },
        "citations_delta" => return Err(RouteError::unsupported("citations")),
        other => return Err(malformed(format!("delta `{other}`"))),
    };
    Ok(vec![event])
}

/// The final usage and the stop reason, which Anthropic says together.
fn message_delta(data: &Map<String, Value>) -> Result<Vec<StreamEvent>, RouteError> {
    let mut out = Vec::new();
    if let Some(usage) = field(data, "usage") {
        out.push(StreamEvent::Usage(usage_from_wire(as_object(
            usage, "`usage`",
        )?)));
    }
    if let Some(delta) = field(data, "delta") {
        let delta = as_object(delta, "a message_delta delta")?;
        if let Some(reason) = field(delta, "stop_reason") {
            let reason = reason
                .as_str()
                .ok_or_else(|| malformed("`stop_reason` is not a string"))?;
            let sequence = field(delta, "stop_sequence").and_then(Value::as_str);
            out.push(StreamEvent::Stop(stop_from_wire(reason, sequence)?));
        }
    }
    Ok(out)
}

fn error_event(data: &Map<String, Value>) -> ProviderError {
    let error = field(data, "error");
    let kind = error
        .and_then(|error| error.get("type"))
        .and_then(Value::as_str)
        .and_then(kind_from_wire)
        .unwrap_or(ErrorKind::Server);
    ProviderError {
        status: status_of(kind),
        kind,
        message: error
            .and_then(|error| error.get("message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }
}
