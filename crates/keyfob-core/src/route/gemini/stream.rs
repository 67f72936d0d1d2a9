//! `streamGenerateContent?alt=sse`: each `data:` event is a whole
//! `GenerateContentResponse` chunk. Text parts are deltas; a `functionCall` part arrives
//! whole; `usageMetadata` grows chunk by chunk (the last is final) and `finishReason`
//! comes in the last chunk.
//!
//! Decoder: consecutive text (or thought) parts continue one block; a thought part with
//! a signature ends its block; a call is ToolCallStart + one ToolCallDelta with the whole
//! arguments + BlockStop, with `call_<responseId>_<n>` ids where Gemini gave none. The latest usage
//! goes out just before the stop reason. A `data: {"error": …}` event is a provider
//! error. A stream that ends with no `finishReason` was cut short (Gemini's own
//! mid-stream error is a bare JSON object, not an SSE event, which the splitter cannot
//! see): that too ends as an error, never as a silently shorter answer.
//!
//! Encoder: one chunk per text or thought delta, a signature as an empty thought part
//! carrying it, a call as one whole `functionCall` part once its block stops (argument
//! fragments are buffered, at most `MAX_ARGUMENTS` bytes), then a last chunk with the
//! finish reason and usage together. A mid-stream error is written as Gemini writes
//! it, a bare `{"error": {code, message, status}}` with no `data:` prefix: that is what
//! @google/genai turns into an `ApiError` (and google-genai into an `APIError`).

use serde_json::{json, Map, Value};

use super::super::ir::{
    ErrorKind, Opaque, Part, ProviderError, RouteError, StopReason, StreamEvent, Usage,
};
use super::super::{StreamDecoder, StreamEncoder};
use super::response::{
    blocked, candidate_parts, decode_error, error_value, finish, only_candidate, read_part,
    write_part,
};
use super::{malformed, signature_out, stop_out, usage_in, usage_out};
use crate::metering::sse::SseEvent;
use crate::route::ChatRequest;

/// The most argument bytes buffered for one call (the splitter's own event cap).
pub const MAX_ARGUMENTS: usize = crate::metering::sse::DEFAULT_MAX_EVENT_BYTES;

#[derive(Default)]
pub struct Decoder {
    started: bool,
    response_id: String,
    /// The open text or thinking block: (index, is thinking).
    open: Option<(usize, bool)>,
    next_index: usize,
    calls: u32,
    usage: Option<Usage>,
    finished: bool,
    failed: bool,
}

impl StreamDecoder for Decoder {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, RouteError> {
        let data = event.data.trim();
        if self.failed || data.is_empty() {
            return Ok(Vec::new());
        }
        let value: Value =
            serde_json::from_str(data).map_err(|e| malformed(format!("stream chunk: {e}")))?;
        let mut out = Vec::new();
        if let Some(error) = value.get("error") {
            self.failed = true;
            let status = error
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(500);
            out.push(StreamEvent::Error(decode_error(status, data.as_bytes())));
            return Ok(out);
        }
        if !self.started {
            self.started = true;
            let text = |name| value.get(name).and_then(Value::as_str).unwrap_or_default();
            self.response_id = text("responseId").to_string();
            out.push(StreamEvent::Start {
                id: self.response_id.clone(),
                model: text("modelVersion").to_string(),
            });
        }
        if let Some(usage) = value.get("usageMetadata") {
            self.usage = Some(usage_in(usage));
        }
        let candidate = only_candidate(&value)?;
        for part in candidate.map(candidate_parts).unwrap_or_default() {
            if let Some(part) = read_part(part, &self.response_id, &mut self.calls)? {
                self.part(part, &mut out)?;
            }
        }
        let reason = candidate.and_then(|c| c.get("finishReason").and_then(Value::as_str));
        let stop = match reason {
            Some(reason) => Some(finish(reason, self.calls > 0)?),
            None if candidate.is_none() && blocked(&value) => Some(StopReason::ContentFilter),
            None => None,
        };
        if let Some(stop) = stop {
            self.close(&mut out);
            out.extend(self.usage.map(StreamEvent::Usage));
            out.push(StreamEvent::Stop(stop));
            self.finished = true;
        } else if self.finished {
            // Usage that trails the finish still counts.
            out.extend(
                value
                    .get("usageMetadata")
                    .map(|u| StreamEvent::Usage(usage_in(u))),
            );
        }
        Ok(out)
    }

    fn end(&mut self) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        if !self.failed {
            self.close(&mut out);
            if !self.finished {
                out.extend(self.usage.map(StreamEvent::Usage));
                out.push(StreamEvent::Error(ProviderError {
                    status: 500,
                    kind: ErrorKind::Server,
                    message: "the Gemini stream ended before its finishReason".into(),
                }));
            }
            self.failed = true;
        }
        out.push(StreamEvent::End);
        out
    }
}

impl Decoder {
    fn part(&mut self, part: Part, out: &mut Vec<StreamEvent>) -> Result<(), RouteError> {
        match part {
            Part::Text(text) => {
                let index = self.block(false, out);
                out.push(StreamEvent::TextDelta { index, text });
            }
            Part::Thinking { text, signature } => {
                let index = self.block(true, out);
                if !text.is_empty() {
                    out.push(StreamEvent::ThinkingDelta { index, text });
                }
                if let Some(signature) = signature {
                    out.push(StreamEvent::ThinkingSignature { index, signature });
                    self.close(out);
                }
            }
            Part::RedactedThinking(data) => {
                self.close(out);
                let index = self.take_index();
                out.push(StreamEvent::RedactedThinking { index, data });
                out.push(StreamEvent::BlockStop { index });
            }
            Part::ToolCall {
                id,
                name,
                arguments,
                signature,
            } => {
                self.close(out);
                let index = self.take_index();
                out.push(StreamEvent::ToolCallStart {
                    index,
                    id,
                    name,
                    signature,
                });
                out.push(StreamEvent::ToolCallDelta { index, arguments });
                out.push(StreamEvent::BlockStop { index });
            }
            Part::Image(_) | Part::ToolResult { .. } => {
                return Err(RouteError::unsupported("image output in a stream"))
            }
        }
        Ok(())
    }

    /// The open block of this kind, opening it (and closing another) if needed.
    fn block(&mut self, thinking: bool, out: &mut Vec<StreamEvent>) -> usize {
        if let Some((index, open_thinking)) = self.open {
            if open_thinking == thinking {
                return index;
            }
        }
        self.close(out);
        let index = self.take_index();
        out.push(if thinking {
            StreamEvent::ThinkingStart { index }
        } else {
            StreamEvent::TextStart { index }
        });
        self.open = Some((index, thinking));
        index
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((index, _)) = self.open.take() {
            out.push(StreamEvent::BlockStop { index });
        }
    }

    fn take_index(&mut self) -> usize {
        self.next_index += 1;
        self.next_index - 1
    }
}

/// A call whose arguments are still arriving.
struct Call {
    index: usize,
    id: String,
    name: String,
    signature: Option<Opaque>,
    arguments: String,
}

pub struct Encoder {
    id: String,
    model: String,
    usage: Option<Usage>,
    stop: Option<StopReason>,
    call: Option<Call>,
    done: bool,
}

impl Encoder {
    pub fn new(_request: &ChatRequest) -> Self {
        Self {
            id: String::new(),
            model: String::new(),
            usage: None,
            stop: None,
            call: None,
            done: false,
        }
    }

    fn chunk(&self, part: Value) -> Vec<u8> {
        let candidate = json!({"content": {"role": "model", "parts": [part]}, "index": 0});
        self.frame(json!({"candidates": [candidate]}))
    }

    fn frame(&self, mut body: Value) -> Vec<u8> {
        body["modelVersion"] = self.model.clone().into();
        body["responseId"] = self.id.clone().into();
        format!("data: {body}\n\n").into_bytes()
    }

    /// Ends the stream with `error`, as Gemini does: a bare JSON object.
    fn fail(&mut self, error: &ProviderError) -> Vec<u8> {
        self.done = true;
        error_value(error).to_string().into_bytes()
    }

    fn finish(&mut self) -> Vec<u8> {
        self.done = true;
        let mut body = Map::new();
        if let Some(stop) = &self.stop {
            body.insert(
                "candidates".into(),
                json!([{"finishReason": stop_out(stop), "index": 0}]),
            );
        }
        if let Some(usage) = &self.usage {
            body.insert("usageMetadata".into(), usage_out(usage));
        }
        if body.is_empty() {
            return Vec::new();
        }
        self.frame(Value::Object(body))
    }

    fn call_done(&mut self, call: Call) -> Vec<u8> {
        let part = Part::ToolCall {
            id: call.id,
            name: call.name,
            arguments: call.arguments,
            signature: call.signature,
        };
        match write_part(&part) {
            Ok(part) => self.chunk(part),
            Err(error) => self.fail(&ProviderError {
                status: 502,
                kind: ErrorKind::Server,
                message: error.to_string(),
            }),
        }
    }
}

impl StreamEncoder for Encoder {
    fn event(&mut self, event: &StreamEvent) -> Vec<u8> {
        if self.done {
            return Vec::new();
        }
        match event {
            StreamEvent::Start { id, model } => {
                self.id = id.clone();
                self.model = model.clone();
                Vec::new()
            }
            StreamEvent::TextStart { .. } | StreamEvent::ThinkingStart { .. } => Vec::new(),
            StreamEvent::TextDelta { text, .. } if !text.is_empty() => {
                self.chunk(json!({"text": text}))
            }
            StreamEvent::TextDelta { .. } => Vec::new(),
            StreamEvent::ThinkingDelta { text, .. } => {
                self.chunk(json!({"text": text, "thought": true}))
            }
            StreamEvent::ThinkingSignature { signature, .. } => self.chunk(json!({
                "text": "", "thought": true, "thoughtSignature": signature_out(signature, false)
            })),
            StreamEvent::RedactedThinking { data, .. } => self.chunk(json!({
                "text": "", "thought": true, "thoughtSignature": signature_out(data, true)
            })),
            StreamEvent::ToolCallStart {
                index,
                id,
                name,
                signature,
            } => {
                self.call = Some(Call {
                    index: *index,
                    id: id.clone(),
                    name: name.clone(),
                    signature: signature.clone(),
                    arguments: String::new(),
                });
                Vec::new()
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                let Some(call) = self.call.as_mut().filter(|c| c.index == *index) else {
                    return Vec::new();
                };
                if call.arguments.len() + arguments.len() > MAX_ARGUMENTS {
                    return self.fail(&ProviderError {
                        status: 502,
                        kind: ErrorKind::Server,
                        message: "tool call arguments too large to relay".into(),
                    });
                }
                call.arguments.push_str(arguments);
                Vec::new()
            }
            StreamEvent::BlockStop { index } => match self.call.take_if(|c| c.index == *index) {
                Some(call) => self.call_done(call),
                None => Vec::new(),
            },
            StreamEvent::Usage(usage) => {
                self.usage = Some(merge(self.usage.unwrap_or_default(), usage));
                Vec::new()
            }
            StreamEvent::Stop(stop) => {
                self.stop = Some(stop.clone());
                Vec::new()
            }
            StreamEvent::Error(error) => self.fail(error),
            StreamEvent::End => self.finish(),
        }
    }
}

/// A later usage replaces an earlier one field by field where it is non-zero.
fn merge(old: Usage, new: &Usage) -> Usage {
    let pick = |a: u64, b: u64| if b > 0 { b } else { a };
    Usage {
        input: pick(old.input, new.input),
        output: pick(old.output, new.output),
        cache_read: pick(old.cache_read, new.cache_read),
        cache_write: pick(old.cache_write, new.cache_write),
        reasoning: pick(old.reasoning, new.reasoning),
    }
}
