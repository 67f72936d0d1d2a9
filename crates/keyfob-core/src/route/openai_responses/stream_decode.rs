//! Reading OpenAI's Responses stream into the common stream.
//!
//! Each output text part, function call and reasoning summary part becomes a block.
//! A reasoning summary block stays open until its item is done, because the item's
//! `encrypted_content` (its signature) arrives only then. Events that carry nothing the
//! IR keeps (`*.done` repeats, annotations, raw `reasoning_text` of open-weight models,
//! keep-alives) are skipped.

use serde_json::{Map, Value};

use super::error::from_code;
use super::response::read_stop;
use super::{
    decode_usage, field, malformed, object, opt_string, parse, reasoning_token, string,
    summary_texts, type_of,
};
use crate::metering::sse::SseEvent;
use crate::route::ir::{self, RouteError, StreamEvent};
use crate::route::StreamDecoder;

#[derive(Default)]
pub struct Decoder {
    /// The next block index.
    next: usize,
    texts: Vec<Text>,
    calls: Vec<Call>,
    reasoning: Vec<Reasoning>,
}

struct Text {
    output_index: u64,
    content_index: u64,
    block: usize,
    open: bool,
}

struct Call {
    output_index: u64,
    block: usize,
    /// Arguments were passed on (so `*.done` must not repeat them).
    sent: bool,
}

struct Reasoning {
    output_index: u64,
    /// The summary part being read.
    block: Option<usize>,
}

impl StreamDecoder for Decoder {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, RouteError> {
        if event.data.trim().is_empty() || event.data.trim() == "[DONE]" {
            return Ok(Vec::new());
        }
        let data = parse(event.data.as_bytes())?;
        let kind = type_of(&data).unwrap_or(&event.event).to_string();
        let mut out = Vec::new();
        match kind.as_str() {
            "response.created" => {
                let response =
                    object(field(&data, "response").unwrap_or(&Value::Null), "response")?;
                out.push(StreamEvent::Start {
                    id: string(response, "id")?.to_string(),
                    model: opt_string(response, "model")?
                        .unwrap_or_default()
                        .to_string(),
                });
            }
            "response.output_item.added" => {
                let item = object(field(&data, "item").unwrap_or(&Value::Null), "item")?;
                self.item_added(index(&data, "output_index")?, item, &mut out)?;
            }
            "response.content_part.added" => {
                let part = object(field(&data, "part").unwrap_or(&Value::Null), "part")?;
                let at = (
                    index(&data, "output_index")?,
                    index(&data, "content_index")?,
                );
                self.part_added(at, part, &mut out)?;
            }
            "response.output_text.delta" | "response.refusal.delta" => {
                let at = (
                    index(&data, "output_index")?,
                    index(&data, "content_index")?,
                );
                let text = self.text(at)?;
                let delta = string(&data, "delta")?;
                out.push(StreamEvent::TextDelta {
                    index: text.block,
                    text: delta.to_string(),
                });
            }
            "response.content_part.done" => {
                let at = (
                    index(&data, "output_index")?,
                    index(&data, "content_index")?,
                );
                if let Some(text) = self.texts.iter_mut().find(|t| t.at() == at) {
                    close_text(text, &mut out);
                }
            }
            "response.function_call_arguments.delta" => {
                let call = self.call(index(&data, "output_index")?)?;
                call.sent = true;
                out.push(StreamEvent::ToolCallDelta {
                    index: call.block,
                    arguments: string(&data, "delta")?.to_string(),
                });
            }
            "response.function_call_arguments.done" => {
                let call = self.call(index(&data, "output_index")?)?;
                send_arguments(call, string(&data, "arguments")?, &mut out);
            }
            "response.reasoning_summary_part.added" => {
                let output_index = index(&data, "output_index")?;
                let block = self.next;
                let reasoning = self.reasoning(output_index)?;
                if let Some(open) = reasoning.block.replace(block) {
                    out.push(StreamEvent::BlockStop { index: open });
                }
                self.next += 1;
                out.push(StreamEvent::ThinkingStart { index: block });
                let part = field(&data, "part").and_then(Value::as_object);
                let text = part.and_then(|p| field(p, "text")).and_then(Value::as_str);
                if let Some(text) = text.filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::ThinkingDelta {
                        index: block,
                        text: text.to_string(),
                    });
                }
            }
            "response.reasoning_summary_text.delta" => {
                let reasoning = self.reasoning(index(&data, "output_index")?)?;
                let block = reasoning
                    .block
                    .ok_or_else(|| malformed("summary text before its part"))?;
                out.push(StreamEvent::ThinkingDelta {
                    index: block,
                    text: string(&data, "delta")?.to_string(),
                });
            }
            "response.output_item.done" => {
                let item = object(field(&data, "item").unwrap_or(&Value::Null), "item")?;
                self.item_done(index(&data, "output_index")?, item, &mut out)?;
            }
            "response.completed" | "response.incomplete" => {
                let response =
                    object(field(&data, "response").unwrap_or(&Value::Null), "response")?;
                if let Some(usage) = field(response, "usage") {
                    out.push(StreamEvent::Usage(decode_usage(object(usage, "usage")?)?));
                }
                out.push(StreamEvent::Stop(read_stop(response)?));
            }
            "response.failed" => {
                let response = field(&data, "response").and_then(Value::as_object);
                let error = response
                    .and_then(|r| field(r, "error"))
                    .and_then(Value::as_object);
                out.push(StreamEvent::Error(read_error(error.unwrap_or(&data))));
            }
            "error" => {
                // The documented event is flat; first-party streams also nest `error`.
                let nested = field(&data, "error").and_then(Value::as_object);
                out.push(StreamEvent::Error(read_error(nested.unwrap_or(&data))));
            }
            _ => {}
        }
        Ok(out)
    }

    fn end(&mut self) -> Vec<StreamEvent> {
        vec![StreamEvent::End]
    }
}

impl Decoder {
    fn block(&mut self) -> usize {
        self.next += 1;
        self.next - 1
    }

    fn item_added(
        &mut self,
        output_index: u64,
        item: &Map<String, Value>,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), RouteError> {
        match type_of(item).unwrap_or_default() {
            "message" => {}
            "function_call" => {
                self.start_call(output_index, item, out)?;
                let arguments = opt_string(item, "arguments")?.unwrap_or_default();
                if let Some(call) = self.calls.last_mut() {
                    send_arguments(call, arguments, out);
                }
            }
            "reasoning" => self.reasoning.push(Reasoning {
                output_index,
                block: None,
            }),
            other => return Err(RouteError::unsupported(format!("{other} output item"))),
        }
        Ok(())
    }

    fn start_call(
        &mut self,
        output_index: u64,
        item: &Map<String, Value>,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), RouteError> {
        let (id, signature) = ir::split_id(string(item, "call_id")?);
        let block = self.block();
        self.calls.push(Call {
            output_index,
            block,
            sent: false,
        });
        out.push(StreamEvent::ToolCallStart {
            index: block,
            id,
            name: string(item, "name")?.to_string(),
            signature,
        });
        Ok(())
    }

    fn part_added(
        &mut self,
        (output_index, content_index): (u64, u64),
        part: &Map<String, Value>,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), RouteError> {
        let text = match type_of(part).unwrap_or_default() {
            "output_text" => string(part, "text")?,
            "refusal" => string(part, "refusal")?,
            "reasoning_text" => return Ok(()),
            other => return Err(malformed(format!("unknown content part {other}"))),
        };
        let block = self.block();
        self.texts.push(Text {
            output_index,
            content_index,
            block,
            open: true,
        });
        out.push(StreamEvent::TextStart { index: block });
        if !text.is_empty() {
            out.push(StreamEvent::TextDelta {
                index: block,
                text: text.to_string(),
            });
        }
        Ok(())
    }

    fn item_done(
        &mut self,
        output_index: u64,
        item: &Map<String, Value>,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), RouteError> {
        match type_of(item).unwrap_or_default() {
            "message" => self.message_done(output_index, item, out),
            "function_call" => {
                if !self.calls.iter().any(|c| c.output_index == output_index) {
                    self.start_call(output_index, item, out)?;
                }
                let call = self.call(output_index)?;
                send_arguments(call, string(item, "arguments")?, out);
                out.push(StreamEvent::BlockStop { index: call.block });
                Ok(())
            }
            "reasoning" => self.reasoning_done(output_index, item, out),
            other => Err(RouteError::unsupported(format!("{other} output item"))),
        }
    }

    /// Closes the message's open parts; a message whose parts were never streamed is
    /// read whole from the item.
    fn message_done(
        &mut self,
        output_index: u64,
        item: &Map<String, Value>,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), RouteError> {
        if self.texts.iter().any(|t| t.output_index == output_index) {
            for text in self
                .texts
                .iter_mut()
                .filter(|t| t.output_index == output_index)
            {
                close_text(text, out);
            }
            return Ok(());
        }
        let content = field(item, "content").and_then(Value::as_array);
        for (at, part) in content.into_iter().flatten().enumerate() {
            let at = (output_index, at as u64);
            self.part_added(at, object(part, "a content part")?, out)?;
            if let Some(text) = self.texts.iter_mut().find(|t| t.at() == at) {
                close_text(text, out);
            }
        }
        Ok(())
    }

    fn reasoning_done(
        &mut self,
        output_index: u64,
        item: &Map<String, Value>,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), RouteError> {
        let (token, redacted) = reasoning_token(item)?;
        let mut open = match self
            .reasoning
            .iter()
            .find(|r| r.output_index == output_index)
        {
            Some(reasoning) => reasoning.block,
            None => None,
        };
        let streamed = open.is_some();
        if !streamed {
            // The summary was not streamed part by part: read it from the item.
            for text in summary_texts(item)? {
                if let Some(previous) = open {
                    out.push(StreamEvent::BlockStop { index: previous });
                }
                let block = self.block();
                out.push(StreamEvent::ThinkingStart { index: block });
                if !text.is_empty() {
                    out.push(StreamEvent::ThinkingDelta { index: block, text });
                }
                open = Some(block);
            }
        }
        match (open, token) {
            (Some(block), token) => {
                if let Some(signature) = token {
                    out.push(StreamEvent::ThinkingSignature {
                        index: block,
                        signature,
                    });
                }
                out.push(StreamEvent::BlockStop { index: block });
            }
            (None, Some(data)) if redacted => {
                let block = self.block();
                out.push(StreamEvent::RedactedThinking { index: block, data });
                out.push(StreamEvent::BlockStop { index: block });
            }
            (None, Some(signature)) => {
                let block = self.block();
                out.push(StreamEvent::ThinkingStart { index: block });
                out.push(StreamEvent::ThinkingSignature {
                    index: block,
                    signature,
                });
                out.push(StreamEvent::BlockStop { index: block });
            }
            (None, None) => {}
        }
        if let Some(reasoning) = self
            .reasoning
            .iter_mut()
            .find(|r| r.output_index == output_index)
        {
            reasoning.block = None;
        }
        Ok(())
    }

    fn text(&self, at: (u64, u64)) -> Result<&Text, RouteError> {
        self.texts
            .iter()
            .find(|t| t.at() == at)
            .ok_or_else(|| malformed(format!("text for an unannounced part {at:?}")))
    }

    fn call(&mut self, output_index: u64) -> Result<&mut Call, RouteError> {
        self.calls
            .iter_mut()
            .find(|c| c.output_index == output_index)
            .ok_or_else(|| malformed(format!("arguments for an unannounced call {output_index}")))
    }

    fn reasoning(&mut self, output_index: u64) -> Result<&mut Reasoning, RouteError> {
        self.reasoning
            .iter_mut()
            .find(|r| r.output_index == output_index)
            .ok_or_else(|| malformed(format!("summary for an unannounced item {output_index}")))
    }
}

impl Text {
    fn at(&self) -> (u64, u64) {
        (self.output_index, self.content_index)
    }
}

fn close_text(text: &mut Text, out: &mut Vec<StreamEvent>) {
    if std::mem::take(&mut text.open) {
        out.push(StreamEvent::BlockStop { index: text.block });
    }
}

/// Passes on whole arguments once, when no fragment was streamed.
fn send_arguments(call: &mut Call, arguments: &str, out: &mut Vec<StreamEvent>) {
    if !call.sent && !arguments.is_empty() {
        out.push(StreamEvent::ToolCallDelta {
            index: call.block,
            arguments: arguments.to_string(),
        });
    }
    call.sent = call.sent || !arguments.is_empty();
}

fn index(data: &Map<String, Value>, key: &str) -> Result<u64, RouteError> {
    field(data, key)
        .and_then(Value::as_u64)
        .ok_or_else(|| malformed(format!("`{key}` is missing or not an index")))
}

fn read_error(error: &Map<String, Value>) -> ir::ProviderError {
    let text = |key: &str| field(error, key).and_then(Value::as_str);
    from_code(
        text("code"),
        text("type"),
        text("message").unwrap_or_default(),
    )
}
