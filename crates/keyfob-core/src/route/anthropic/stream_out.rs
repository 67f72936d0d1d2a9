//! Writes the common stream as Anthropic SSE, in the order `@anthropic-ai/sdk`'s
//! `MessageStream` accumulates: `message_start` first, then blocks one at a time
//! (each `content_block_start`, deltas, `content_block_stop`, indices 0, 1, … in order
//! of start: the SDK finds a block by its position), then `message_delta` with the stop
//! reason and the final usage, then `message_stop`.
//!
//! `message_start` waits for the first usage or content, so it can carry the input
//! count when the source says it early (Anthropic, Gemini); `message_delta` waits for
//! the stream's end, so usage that a source sends after its stop reason (OpenAI) is in
//! it. A source that interleaves blocks gets each block stopped when the next starts; a
//! late fragment still goes to its own index, where the SDK's accumulator puts it.

use serde_json::{json, Value};

use super::error::error_body;
use super::{call_id_to_wire, opaque_to_wire, stop_to_wire, to_bytes, usage_to_wire};
use crate::route::ir::{ChatRequest, ErrorKind, ProviderError, StopReason, StreamEvent, Usage};
use crate::route::StreamEncoder;

/// The id `message_start` carries when the source named none.
const FALLBACK_ID: &str = "msg_keyfob";

pub struct Encoder {
    id: String,
    model: String,
    /// `message_start` was written.
    started: bool,
    usage: Usage,
    stop: Option<StopReason>,
    /// Wire index of each common-form block, by the common-form index.
    wire: Vec<Option<usize>>,
    next_wire: usize,
    /// The common-form index of the block now open on the wire.
    open: Option<usize>,
    /// `message_stop` or an `error` was written: nothing more goes out.
    finished: bool,
}

impl Encoder {
    pub fn new(request: &ChatRequest) -> Self {
        Self {
            id: FALLBACK_ID.to_string(),
            model: request.model.clone(),
            started: false,
            usage: Usage::default(),
            stop: None,
            wire: Vec::new(),
            next_wire: 0,
            open: None,
            finished: false,
        }
    }
}

impl StreamEncoder for Encoder {
    fn event(&mut self, event: &StreamEvent) -> Vec<u8> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        match event {
            StreamEvent::Start { id, model } => {
                if !self.started {
                    if !id.is_empty() {
                        self.id = id.clone();
                    }
                    if !model.is_empty() {
                        self.model = model.clone();
                    }
                }
            }
            StreamEvent::Usage(usage) => {
                merge(&mut self.usage, usage);
                if usage.input > 0 {
                    self.start(&mut out);
                }
            }
            StreamEvent::TextStart { index } => {
                self.open_block(*index, json!({ "type": "text", "text": "" }), &mut out);
            }
            StreamEvent::TextDelta { index, text } => {
                self.delta(
                    *index,
                    json!({ "type": "text_delta", "text": text }),
                    &mut out,
                );
            }
            StreamEvent::ThinkingStart { index } => {
                let block = json!({ "type": "thinking", "thinking": "", "signature": "" });
                self.open_block(*index, block, &mut out);
            }
            StreamEvent::ThinkingDelta { index, text } => {
                let delta = json!({ "type": "thinking_delta", "thinking": text });
                self.delta(*index, delta, &mut out);
            }
            StreamEvent::ThinkingSignature { index, signature } => {
                let delta =
                    json!({ "type": "signature_delta", "signature": opaque_to_wire(signature) });
                self.delta(*index, delta, &mut out);
            }
            StreamEvent::RedactedThinking { index, data } => {
                let block = json!({ "type": "redacted_thinking", "data": opaque_to_wire(data) });
                self.open_block(*index, block, &mut out);
            }
            StreamEvent::ToolCallStart {
                index,
                id,
                name,
                signature,
            } => {
                let block = json!({
                    "type": "tool_use",
                    "id": call_id_to_wire(id, signature.as_ref()),
                    "name": name,
                    "input": {},
                });
                self.open_block(*index, block, &mut out);
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                let delta = json!({ "type": "input_json_delta", "partial_json": arguments });
                self.delta(*index, delta, &mut out);
            }
            StreamEvent::BlockStop { index } => {
                if self.open == Some(*index) {
                    self.close_open(&mut out);
                }
            }
            StreamEvent::Stop(stop) => self.stop = Some(stop.clone()),
            StreamEvent::Error(error) => self.fail(error, &mut out),
            StreamEvent::End => self.finish(&mut out),
        }
        out
    }
}

impl Encoder {
    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let message = json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": usage_to_wire(&self.usage),
        });
        write(
            out,
            "message_start",
            &json!({ "type": "message_start", "message": message }),
        );
    }

    fn open_block(&mut self, index: usize, block: Value, out: &mut Vec<u8>) {
        self.start(out);
        self.close_open(out);
        let wire = self.next_wire;
        self.next_wire += 1;
        if self.wire.len() <= index {
            self.wire.resize(index + 1, None);
        }
        self.wire[index] = Some(wire);
        self.open = Some(index);
        let event = json!({ "type": "content_block_start", "index": wire, "content_block": block });
        write(out, "content_block_start", &event);
    }

    fn delta(&mut self, index: usize, delta: Value, out: &mut Vec<u8>) {
        let wire = match self.wire.get(index).copied().flatten() {
            Some(wire) => wire,
            None => {
                // A fragment for a block that never started: start the block it implies.
                let block = match delta["type"].as_str() {
                    Some("thinking_delta" | "signature_delta") => {
                        json!({ "type": "thinking", "thinking": "", "signature": "" })
                    }
                    Some("input_json_delta") => {
                        let error = ProviderError {
                            status: 502,
                            kind: ErrorKind::Server,
                            message: "a tool call's arguments came before the call".to_string(),
                        };
                        return self.fail(&error, out);
                    }
                    _ => json!({ "type": "text", "text": "" }),
                };
                self.open_block(index, block, out);
                self.next_wire - 1
            }
        };
        let event = json!({ "type": "content_block_delta", "index": wire, "delta": delta });
        write(out, "content_block_delta", &event);
    }

    fn close_open(&mut self, out: &mut Vec<u8>) {
        if let Some(index) = self.open.take() {
            if let Some(wire) = self.wire.get(index).copied().flatten() {
                let event = json!({ "type": "content_block_stop", "index": wire });
                write(out, "content_block_stop", &event);
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        let Some(stop) = self.stop.take() else {
            // Ended with no stop reason: the answer may be cut, so the SDK must raise.
            let error = ProviderError {
                status: 502,
                kind: ErrorKind::Server,
                message: "the provider's stream ended without a stop reason".to_string(),
            };
            return self.fail(&error, out);
        };
        self.start(out);
        self.close_open(out);
        let (stop_reason, stop_sequence) = stop_to_wire(Some(&stop));
        let event = json!({
            "type": "message_delta",
            "delta": { "stop_reason": stop_reason, "stop_sequence": stop_sequence },
            "usage": usage_to_wire(&self.usage),
        });
        write(out, "message_delta", &event);
        write(out, "message_stop", &json!({ "type": "message_stop" }));
        self.finished = true;
    }

    /// `event: error`, which the SDK's stream raises as an `APIError` of that type.
    fn fail(&mut self, error: &ProviderError, out: &mut Vec<u8>) {
        write(out, "error", &error_body(error));
        self.finished = true;
    }
}

/// A later count replaces an earlier one where it is non-zero (see `StreamEvent::Usage`).
fn merge(into: &mut Usage, later: &Usage) {
    let pick = |old: u64, new: u64| if new > 0 { new } else { old };
    into.input = pick(into.input, later.input);
    into.output = pick(into.output, later.output);
    into.cache_read = pick(into.cache_read, later.cache_read);
    into.cache_write = pick(into.cache_write, later.cache_write);
    into.reasoning = pick(into.reasoning, later.reasoning);
}

fn write(out: &mut Vec<u8>, name: &str, data: &Value) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend(to_bytes(data));
    out.extend_from_slice(b"\n\n");
}
