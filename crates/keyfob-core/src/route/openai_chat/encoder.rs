//! The stream the app reads: common events as `data: {chat.completion.chunk}` lines.

use serde_json::{json, Map, Value};

use super::error::encode_error_object;
use super::response::{app_call_id, response_id};
use super::{encode_finish, encode_usage};
use crate::route::ir::{self, ChatRequest, ProviderError, StreamEvent, Usage};
use crate::route::StreamEncoder;

/// Writes the common stream as the chunks openai-node's `Stream` and
/// `ChatCompletionStream` accept: the role first, `finish_reason` in a chunk of its own,
/// the usage chunk (`choices: []`) only if the app asked for it, then `[DONE]`.
pub struct Encoder {
    include_usage: bool,
    id: String,
    model: String,
    role_sent: bool,
    /// Block index to the tool call's `index` on the wire.
    tool_calls: Vec<(usize, usize)>,
    usage: Usage,
    usage_seen: bool,
    /// An error or the end was written: nothing may follow.
    done: bool,
}

impl Encoder {
    /// `request` is the app's request: its `stream_options.include_usage` decides the
    /// usage chunk.
    pub fn new(request: &ChatRequest) -> Self {
        Self {
            include_usage: request.stream_usage,
            id: String::new(),
            model: String::new(),
            role_sent: false,
            tool_calls: Vec::new(),
            usage: Usage::default(),
            usage_seen: false,
            done: false,
        }
    }

    fn chunk(&mut self, mut delta: Map<String, Value>, finish: Option<&str>) -> Vec<u8> {
        if !self.role_sent {
            self.role_sent = true;
            delta.insert("role".into(), "assistant".into());
        }
        let chunk = json!({
            "id": response_id(&self.id),
            "object": "chat.completion.chunk",
            "created": 0,
            "model": self.model,
            "choices": [{
                "index": 0,
                "delta": delta,
                "logprobs": null,
                "finish_reason": finish,
            }],
        });
        frame(&chunk)
    }

    fn error(&mut self, error: &ProviderError) -> Vec<u8> {
        self.done = true;
        frame(&json!({ "error": encode_error_object(error) }))
    }

    fn merge_usage(&mut self, usage: &Usage) {
        let keep = |old: &mut u64, new: u64| {
            if new != 0 {
                *old = new;
            }
        };
        keep(&mut self.usage.input, usage.input);
        keep(&mut self.usage.output, usage.output);
        keep(&mut self.usage.cache_read, usage.cache_read);
        keep(&mut self.usage.cache_write, usage.cache_write);
        keep(&mut self.usage.reasoning, usage.reasoning);
        self.usage_seen = true;
    }
}

impl StreamEncoder for Encoder {
    fn event(&mut self, event: &StreamEvent) -> Vec<u8> {
        if self.done {
            return Vec::new();
        }
        let text_delta = |key: &str, text: &str| {
            let mut delta = Map::new();
            delta.insert(key.into(), text.into());
            delta
        };
        match event {
            StreamEvent::Start { id, model } => {
                self.id = id.clone();
                self.model = model.clone();
                self.chunk(text_delta("content", ""), None)
            }
            StreamEvent::TextDelta { text, .. } => self.chunk(text_delta("content", text), None),
            StreamEvent::ThinkingDelta { text, .. } => {
                self.chunk(text_delta("reasoning_content", text), None)
            }
            StreamEvent::ToolCallStart {
                index,
                id,
                name,
                signature,
            } => {
                let wire = self.tool_calls.len();
                self.tool_calls.push((*index, wire));
                let call = json!({
                    "index": wire,
                    "id": app_call_id(id, signature.as_ref()),
                    "type": "function",
                    "function": { "name": name, "arguments": "" },
                });
                self.chunk(tool_delta(call), None)
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                let Some(&(_, wire)) = self.tool_calls.iter().find(|(block, _)| block == index)
                else {
                    return Vec::new();
                };
                let call = json!({ "index": wire, "function": { "arguments": arguments } });
                self.chunk(tool_delta(call), None)
            }
            StreamEvent::Usage(usage) => {
                self.merge_usage(usage);
                Vec::new()
            }
            StreamEvent::Stop(reason) => match encode_finish(Some(reason), true) {
                Ok(finish) => self.chunk(Map::new(), Some(finish)),
                Err(unroutable) => self.error(&ProviderError {
                    status: 502,
                    kind: ir::ErrorKind::Server,
                    message: unroutable.to_string(),
                }),
            },
            StreamEvent::Error(error) => self.error(error),
            StreamEvent::End => {
                self.done = true;
                let mut out = Vec::new();
                if self.include_usage && self.usage_seen {
                    out.extend(frame(&json!({
                        "id": response_id(&self.id),
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": self.model,
                        "choices": [],
                        "usage": encode_usage(&self.usage),
                    })));
                }
                out.extend_from_slice(b"data: [DONE]\n\n");
                out
            }
            // Chat has no block boundaries, and no place for signatures or redacted
            // reasoning (only their own dialect may read them).
            StreamEvent::TextStart { .. }
            | StreamEvent::ThinkingStart { .. }
            | StreamEvent::ThinkingSignature { .. }
            | StreamEvent::RedactedThinking { .. }
            | StreamEvent::BlockStop { .. } => Vec::new(),
        }
    }
}

fn tool_delta(call: Value) -> Map<String, Value> {
    let mut delta = Map::new();
    delta.insert("tool_calls".into(), vec![call].into());
    delta
}

fn frame(chunk: &Value) -> Vec<u8> {
    format!("data: {chunk}\n\n").into_bytes()
}
