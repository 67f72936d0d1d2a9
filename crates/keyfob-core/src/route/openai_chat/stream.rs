//! The provider's stream: `data: {chat.completion.chunk}` lines ending in `data: [DONE]`.
//!
//! Chat says the finish reason in one chunk and the usage in a later one (choices
//! empty), so the decoder holds the stop until usage has come (or the stream ends):
//! the common stream then says usage before the stop, as dialects that say both
//! together need. Tool calls are numbered by `index` among tool calls only.

use serde_json::{Map, Value};

use super::error::decode_stream_error;
use super::{decode_finish, decode_usage, malformed, unsupported};
use crate::metering::sse::SseEvent;
use crate::route::ir::{self, ProviderError, RouteError, StopReason, StreamEvent};
use crate::route::StreamDecoder;

/// The block being streamed.
#[derive(Default)]
enum Open {
    #[default]
    None,
    Text(usize),
    Thinking(usize),
    /// A tool call: its `index` on the wire, its block index, its id.
    Tool {
        wire: u64,
        index: usize,
        id: String,
    },
}

/// Reads a provider's Chat Completions stream.
#[derive(Default)]
pub struct Decoder {
    started: bool,
    next_index: usize,
    open: Open,
    /// Wire indices of the tool calls already seen.
    tools: Vec<u64>,
    /// The answer came as `refusal` deltas.
    refused: bool,
    held_stop: Option<StopReason>,
    /// `[DONE]` or an error arrived: nothing after it counts.
    finished: bool,
}

impl StreamDecoder for Decoder {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, RouteError> {
        let mut out = Vec::new();
        if self.finished {
            return Ok(out);
        }
        let data = event.data.trim();
        if data == "[DONE]" {
            self.finished = true;
            self.close(&mut out);
            out.extend(self.held_stop.take().map(StreamEvent::Stop));
            return Ok(out);
        }
        let chunk: Value = serde_json::from_str(data)
            .map_err(|error| malformed(format!("a stream chunk is not JSON: {error}")))?;
        let Value::Object(chunk) = chunk else {
            return Err(malformed("a stream chunk is not an object"));
        };
        if let Some(error) = chunk.get("error").filter(|error| !error.is_null()) {
            return Ok(self.fail(decode_stream_error(error)));
        }
        if event.event == "error" {
            return Ok(self.fail(decode_stream_error(&Value::Object(chunk))));
        }
        if !self.started {
            self.started = true;
            let text = |key: &str| chunk.get(key).and_then(Value::as_str).unwrap_or_default();
            out.push(StreamEvent::Start {
                id: text("id").to_string(),
                model: text("model").to_string(),
            });
        }
        match chunk.get("choices") {
            None | Some(Value::Null) => {}
            Some(Value::Array(choices)) => {
                for choice in choices {
                    self.choice(choice, &mut out)?;
                }
            }
            Some(_) => return Err(malformed("`choices` is not an array")),
        }
        if let Some(usage) = chunk.get("usage").filter(|usage| !usage.is_null()) {
            out.push(StreamEvent::Usage(decode_usage(usage)?));
            out.extend(self.held_stop.take().map(StreamEvent::Stop));
        }
        Ok(out)
    }

    fn end(&mut self) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        self.close(&mut out);
        out.extend(self.held_stop.take().map(StreamEvent::Stop));
        out.push(StreamEvent::End);
        out
    }
}

impl Decoder {
    fn fail(&mut self, error: ProviderError) -> Vec<StreamEvent> {
        self.finished = true;
        self.open = Open::None;
        self.held_stop = None;
        vec![StreamEvent::Error(error)]
    }

    fn choice(&mut self, choice: &Value, out: &mut Vec<StreamEvent>) -> Result<(), RouteError> {
        let Value::Object(choice) = choice else {
            return Err(malformed("a choice is not an object"));
        };
        if choice.get("index").and_then(Value::as_u64).unwrap_or(0) != 0 {
            return Err(unsupported("n > 1"));
        }
        if let Some(Value::Object(delta)) = choice.get("delta") {
            self.delta(delta, out)?;
        }
        match choice.get("finish_reason") {
            None | Some(Value::Null) => {}
            Some(Value::String(reason)) => {
                self.close(out);
                self.held_stop = Some(decode_finish(reason, self.refused)?);
            }
            Some(_) => return Err(malformed("`finish_reason` is not a string")),
        }
        Ok(())
    }

    fn delta(
        &mut self,
        delta: &Map<String, Value>,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), RouteError> {
        if delta
            .get("function_call")
            .is_some_and(|call| !call.is_null())
        {
            return Err(unsupported("legacy function calling"));
        }
        if delta.get("audio").is_some_and(|audio| !audio.is_null()) {
            return Err(unsupported("audio output"));
        }
        for key in ["reasoning_content", "reasoning"] {
            if let Some(text) = non_empty(delta, key) {
                let index = match self.open {
                    Open::Thinking(index) => index,
                    _ => self.start(out, Open::Thinking, |index| StreamEvent::ThinkingStart {
                        index,
                    }),
                };
                out.push(StreamEvent::ThinkingDelta {
                    index,
                    text: text.to_string(),
                });
            }
        }
        for key in ["content", "refusal"] {
            if let Some(text) = non_empty(delta, key) {
                self.refused |= key == "refusal";
                let index = match self.open {
                    Open::Text(index) => index,
                    _ => self.start(out, Open::Text, |index| StreamEvent::TextStart { index }),
                };
                out.push(StreamEvent::TextDelta {
                    index,
                    text: text.to_string(),
                });
            }
        }
        match delta.get("tool_calls") {
            None | Some(Value::Null) => {}
            Some(Value::Array(calls)) => {
                for call in calls {
                    self.tool_call(call, out)?;
                }
            }
            Some(_) => return Err(malformed("`tool_calls` is not an array")),
        }
        Ok(())
    }

    fn tool_call(&mut self, call: &Value, out: &mut Vec<StreamEvent>) -> Result<(), RouteError> {
        let Value::Object(call) = call else {
            return Err(malformed("a tool call delta is not an object"));
        };
        if call.get("type").and_then(Value::as_str) == Some("custom") {
            return Err(unsupported("custom tools"));
        }
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty());
        let function = call.get("function").and_then(Value::as_object);
        let field = |key: &str| function.and_then(|f| f.get(key)).and_then(Value::as_str);
        let wire = match call.get("index").and_then(Value::as_u64) {
            Some(wire) => wire,
            // Some compatible servers omit `index`: a new id, or a name without an id,
            // starts a new call (continuations carry neither).
            None => match (&self.open, id) {
                (Open::Tool { wire, id: open, .. }, Some(id)) if open != id => *wire + 1,
                (Open::Tool { wire, .. }, None) if field("name").is_some() => *wire + 1,
                (Open::Tool { wire, .. }, _) => *wire,
                _ => self.tools.len() as u64,
            },
        };
        let index = match &self.open {
            Open::Tool {
                wire: open, index, ..
            } if *open == wire => *index,
            _ if self.tools.contains(&wire) => {
                return Err(malformed("a tool call continued after the next one began"))
            }
            _ => {
                let name = field("name").ok_or_else(|| malformed("a tool call has no name"))?;
                // Distinct per answer, never derived from the name.
                let raw_id =
                    id.map_or_else(|| format!("call_{}", self.tools.len()), str::to_string);
                let (call_id, signature) = ir::split_id(&raw_id);
                self.close(out);
                let index = self.next_index;
                self.next_index += 1;
                self.tools.push(wire);
                self.open = Open::Tool {
                    wire,
                    index,
                    id: raw_id,
                };
                out.push(StreamEvent::ToolCallStart {
                    index,
                    id: call_id,
                    name: name.to_string(),
                    signature,
                });
                index
            }
        };
        if let Some(arguments) = field("arguments").filter(|text| !text.is_empty()) {
            out.push(StreamEvent::ToolCallDelta {
                index,
                arguments: arguments.to_string(),
            });
        }
        Ok(())
    }

    /// Opens a new block (closing the open one); returns its index.
    fn start(
        &mut self,
        out: &mut Vec<StreamEvent>,
        open: fn(usize) -> Open,
        event: fn(usize) -> StreamEvent,
    ) -> usize {
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = open(index);
        out.push(event(index));
        index
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        match std::mem::take(&mut self.open) {
            Open::None => {}
            Open::Text(index) | Open::Thinking(index) | Open::Tool { index, .. } => {
                out.push(StreamEvent::BlockStop { index })
            }
        }
    }
}

fn non_empty<'a>(delta: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    delta
        .get(key)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
}
