//! Writing the common stream as a Responses SSE stream for the app.
//!
//! openai-node's `ResponseStream` checks every event against the response it has built
//! so far: an item is announced (`output_item.added`, at the next output index, with a
//! unique id and `call_id`) before its parts, a part before its deltas, and a `*.done`
//! item keeps the id it was announced with. So this encoder builds the output as it goes
//! and repeats it whole in the final `response.completed` (or `response.incomplete`),
//! which is held until the stream ends, when stop reason and usage are both known.

use serde_json::{json, Value};

use super::error::{error_object, names};
use super::response::{call_id, call_item, message_item, response_object, text_part};
use super::{reasoning_item, summary_part};
use crate::route::ir::{ChatRequest, Opaque, ProviderError, StopReason, StreamEvent, Usage};
use crate::route::StreamEncoder;

pub struct Encoder {
    sequence: u64,
    started: bool,
    id: String,
    model: String,
    /// The output so far, by output index (in-progress items as announced).
    items: Vec<Value>,
    open: Vec<Open>,
    /// A reasoning item held until it closes (its id must be final when announced).
    held: Option<Held>,
    stop: Option<StopReason>,
    usage: Usage,
    /// An error or the end was sent: nothing more may follow.
    over: bool,
}

/// An open text or function-call block.
struct Open {
    index: usize,
    output_index: usize,
    item_id: String,
    kind: OpenKind,
}

enum OpenKind {
    Text(String),
    Call {
        call_id: String,
        name: String,
        arguments: String,
    },
}

#[derive(Default)]
struct Held {
    /// Each summary part's deltas.
    summaries: Vec<Vec<String>>,
    /// The IR block being read into the last summary part.
    block: Option<usize>,
    token: Option<Opaque>,
    redacted: bool,
}

impl Encoder {
    pub fn new(request: &ChatRequest) -> Self {
        Self {
            sequence: 0,
            started: false,
            id: "resp_0".into(),
            model: request.model.clone(),
            items: Vec::new(),
            open: Vec::new(),
            held: None,
            stop: None,
            usage: Usage::default(),
            over: false,
        }
    }
}

impl StreamEncoder for Encoder {
    fn event(&mut self, event: &StreamEvent) -> Vec<u8> {
        let mut out = Vec::new();
        if self.over {
            return out;
        }
        if let StreamEvent::Start { id, model } = event {
            if !self.started {
                self.id = id.clone();
                self.model = model.clone();
            }
        }
        if !matches!(event, StreamEvent::Error(_)) {
            self.start(&mut out);
        }
        match event {
            StreamEvent::Start { .. } => {}
            StreamEvent::TextStart { index } => self.open_text(*index, &mut out),
            StreamEvent::TextDelta { index, text } => self.text_delta(*index, text, &mut out),
            StreamEvent::ThinkingStart { index } => self.thinking_start(*index, &mut out),
            StreamEvent::ThinkingDelta { index, text } => {
                if let Some(held) = self.held.as_mut().filter(|h| h.block == Some(*index)) {
                    if let Some(last) = held.summaries.last_mut() {
                        last.push(text.clone());
                    }
                }
            }
            StreamEvent::ThinkingSignature { index, signature } => {
                if let Some(held) = self.held.as_mut().filter(|h| h.block == Some(*index)) {
                    held.token = Some(signature.clone());
                }
            }
            StreamEvent::RedactedThinking { index, data } => {
                self.release(&mut out);
                self.held = Some(Held {
                    summaries: Vec::new(),
                    block: Some(*index),
                    token: Some(data.clone()),
                    redacted: true,
                });
            }
            StreamEvent::ToolCallStart {
                index,
                id,
                name,
                signature,
            } => {
                let call_id = call_id(id, signature.as_ref());
                self.open_call(*index, call_id, name, &mut out);
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                self.call_delta(*index, arguments, &mut out)
            }
            StreamEvent::BlockStop { index } => self.block_stop(*index, &mut out),
            StreamEvent::Usage(usage) => merge(&mut self.usage, usage),
            StreamEvent::Stop(stop) => self.stop = Some(stop.clone()),
            StreamEvent::Error(error) => {
                self.error(error, &mut out);
            }
            StreamEvent::End => self.end(&mut out),
        }
        out
    }
}

impl Encoder {
    fn emit(&mut self, out: &mut Vec<u8>, kind: &str, mut data: Value) {
        if let Some(map) = data.as_object_mut() {
            map.insert("type".into(), kind.into());
            map.insert("sequence_number".into(), self.sequence.into());
        }
        self.sequence += 1;
        out.extend_from_slice(format!("event: {kind}\ndata: {data}\n\n").as_bytes());
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        // In progress: no stop reason, so it cannot be refused.
        let response =
            response_object(&self.id, &self.model, None, Vec::new(), None).unwrap_or_default();
        self.emit(out, "response.created", json!({ "response": response }));
        self.emit(out, "response.in_progress", json!({ "response": response }));
    }

    fn open_text(&mut self, index: usize, out: &mut Vec<u8>) {
        self.release(out);
        let output_index = self.items.len();
        let mut item = message_item(output_index, "", "in_progress");
        item["content"] = json!([]);
        let item_id = format!("msg_{output_index}");
        self.items.push(item.clone());
        self.emit(
            out,
            "response.output_item.added",
            json!({"output_index": output_index, "item": item}),
        );
        self.emit(
            out,
            "response.content_part.added",
            json!({"item_id": item_id, "output_index": output_index, "content_index": 0, "part": text_part("")}),
        );
        self.open.push(Open {
            index,
            output_index,
            item_id,
            kind: OpenKind::Text(String::new()),
        });
    }

    fn text_delta(&mut self, index: usize, delta: &str, out: &mut Vec<u8>) {
        let Some(open) = self.open.iter_mut().find(|o| o.index == index) else {
            return;
        };
        let OpenKind::Text(text) = &mut open.kind else {
            return;
        };
        text.push_str(delta);
        let data = json!({
            "item_id": open.item_id,
            "output_index": open.output_index,
            "content_index": 0,
            "delta": delta,
            "logprobs": [],
        });
        self.emit(out, "response.output_text.delta", data);
    }

    fn open_call(&mut self, index: usize, call_id: String, name: &str, out: &mut Vec<u8>) {
        self.release(out);
        let output_index = self.items.len();
        let item = call_item(output_index, &call_id, name, "", "in_progress");
        self.items.push(item.clone());
        self.emit(
            out,
            "response.output_item.added",
            json!({"output_index": output_index, "item": item}),
        );
        self.open.push(Open {
            index,
            output_index,
            item_id: format!("fc_{output_index}"),
            kind: OpenKind::Call {
                call_id,
                name: name.to_string(),
                arguments: String::new(),
            },
        });
    }

    fn call_delta(&mut self, index: usize, delta: &str, out: &mut Vec<u8>) {
        let Some(open) = self.open.iter_mut().find(|o| o.index == index) else {
            return;
        };
        let OpenKind::Call { arguments, .. } = &mut open.kind else {
            return;
        };
        arguments.push_str(delta);
        let data =
            json!({"item_id": open.item_id, "output_index": open.output_index, "delta": delta});
        self.emit(out, "response.function_call_arguments.delta", data);
    }

    /// Unsigned thinking blocks in a row are the summary parts of one reasoning item.
    fn thinking_start(&mut self, index: usize, out: &mut Vec<u8>) {
        let continues = self
            .held
            .as_ref()
            .is_some_and(|h| h.block.is_none() && h.token.is_none() && !h.redacted);
        if !continues {
            self.release(out);
        }
        let held = self.held.get_or_insert_with(Held::default);
        held.summaries.push(Vec::new());
        held.block = Some(index);
    }

    fn block_stop(&mut self, index: usize, out: &mut Vec<u8>) {
        if let Some(held) = self.held.as_mut().filter(|h| h.block == Some(index)) {
            held.block = None;
            if held.token.is_some() {
                self.release(out);
            }
            return;
        }
        if let Some(at) = self.open.iter().position(|o| o.index == index) {
            let open = self.open.remove(at);
            self.close(open, out);
        }
    }

    fn close(&mut self, open: Open, out: &mut Vec<u8>) {
        let Open {
            output_index,
            item_id,
            kind,
            ..
        } = open;
        let item = match kind {
            OpenKind::Text(text) => {
                let at =
                    json!({"item_id": item_id, "output_index": output_index, "content_index": 0});
                let mut done = at.clone();
                done["text"] = text.clone().into();
                done["logprobs"] = json!([]);
                self.emit(out, "response.output_text.done", done);
                let mut part = at;
                part["part"] = text_part(&text);
                self.emit(out, "response.content_part.done", part);
                message_item(output_index, &text, "completed")
            }
            OpenKind::Call {
                call_id,
                name,
                arguments,
            } => {
                let done = json!({"item_id": item_id, "output_index": output_index, "name": name, "arguments": arguments});
                self.emit(out, "response.function_call_arguments.done", done);
                call_item(output_index, &call_id, &name, &arguments, "completed")
            }
        };
        if let Some(slot) = self.items.get_mut(output_index) {
            *slot = item.clone();
        }
        self.emit(
            out,
            "response.output_item.done",
            json!({"output_index": output_index, "item": item}),
        );
    }

    /// Sends the held reasoning item whole: announced, its summary parts, done.
    fn release(&mut self, out: &mut Vec<u8>) {
        let Some(held) = self.held.take() else {
            return;
        };
        let output_index = self.items.len();
        let texts: Vec<String> = held.summaries.iter().map(|d| d.concat()).collect();
        let item = Value::Object(reasoning_item(
            output_index,
            &texts,
            held.token.as_ref(),
            held.redacted,
        ));
        let item_id = item["id"].clone();
        let announced = json!({"id": item_id, "type": "reasoning", "summary": []});
        self.emit(
            out,
            "response.output_item.added",
            json!({"output_index": output_index, "item": announced}),
        );
        for (at, deltas) in held.summaries.iter().enumerate() {
            let place =
                json!({"item_id": item_id, "output_index": output_index, "summary_index": at});
            let mut added = place.clone();
            added["part"] = summary_part("");
            self.emit(out, "response.reasoning_summary_part.added", added);
            for delta in deltas {
                let mut data = place.clone();
                data["delta"] = delta.clone().into();
                self.emit(out, "response.reasoning_summary_text.delta", data);
            }
            let mut done = place.clone();
            done["text"] = texts[at].clone().into();
            self.emit(out, "response.reasoning_summary_text.done", done);
            let mut done = place;
            done["part"] = summary_part(&texts[at]);
            self.emit(out, "response.reasoning_summary_part.done", done);
        }
        self.items.push(item.clone());
        self.emit(
            out,
            "response.output_item.done",
            json!({"output_index": output_index, "item": item}),
        );
    }

    fn error(&mut self, error: &ProviderError, out: &mut Vec<u8>) {
        let (_, code) = names(error.kind);
        let data = json!({
            "code": code,
            "message": error.message,
            "param": null,
            "error": error_object(error),
        });
        self.emit(out, "error", data);
        self.over = true;
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        self.release(out);
        for open in std::mem::take(&mut self.open) {
            self.close(open, out);
        }
        self.over = true;
        // A stream that ended without a stop reason gets no terminal event: claiming
        // `completed` could hide a cut-off answer.
        let Some(stop) = self.stop.clone() else {
            return;
        };
        let items = self.items.clone();
        match response_object(&self.id, &self.model, Some(&stop), items, Some(&self.usage)) {
            Ok(response) => {
                let kind = match response["status"].as_str() {
                    Some("incomplete") => "response.incomplete",
                    _ => "response.completed",
                };
                self.emit(out, kind, json!({ "response": response }));
            }
            Err(refused) => {
                let error = ProviderError {
                    status: 502,
                    kind: crate::route::ir::ErrorKind::Server,
                    message: refused.to_string(),
                };
                self.over = false;
                self.error(&error, out);
            }
        }
    }
}

/// A later usage replaces an earlier one field by field where it is non-zero.
fn merge(usage: &mut Usage, later: &Usage) {
    let pick = |old: &mut u64, new: u64| {
        if new != 0 {
            *old = new;
        }
    };
    pick(&mut usage.input, later.input);
    pick(&mut usage.output, later.output);
    pick(&mut usage.cache_read, later.cache_read);
    pick(&mut usage.cache_write, later.cache_write);
    pick(&mut usage.reasoning, later.reasoning);
}
