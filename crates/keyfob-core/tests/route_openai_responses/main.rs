//! The OpenAI Responses codec against the fixtures in `tests/data/route/openai_responses/`
//! (see its README for where each wire format comes from).

use keyfob_core::metering::sse::SseSplitter;
use keyfob_core::route::ir::{
    id_with_token, ChatRequest, ChatResponse, Effort, ErrorKind, Image, Message, Opaque, Part,
    ProviderError, Reasoning, ResponseFormat, Role, RouteError, StopReason, StreamEvent,
    ToolChoice, ToolDef, Usage,
};
use keyfob_core::route::openai_responses::{
    decode_error, decode_request, decode_response, encode_error, encode_request, encode_response,
    Decoder, Encoder,
};
use keyfob_core::route::{Dialect, StreamDecoder, StreamEncoder, StreamTranslator};
use proptest::prelude::*;
use serde_json::{json, Value};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../data/route/openai_responses/", $name)).as_slice()
    };
}

const STREAMS: &[(&str, &[u8])] = &[
    ("stream_text.sse", fixture!("stream_text.sse")),
    ("stream_tools.sse", fixture!("stream_tools.sse")),
    ("stream_reasoning.sse", fixture!("stream_reasoning.sse")),
    ("stream_error.sse", fixture!("stream_error.sse")),
    ("stream_failed.sse", fixture!("stream_failed.sse")),
];

fn own(value: &str) -> Opaque {
    Opaque {
        dialect: Dialect::OpenAiResponses,
        value: value.into(),
    }
}

fn text(text: &str) -> Part {
    Part::Text(text.into())
}

fn thinking(text: &str, signature: Option<Opaque>) -> Part {
    Part::Thinking {
        text: text.into(),
        signature,
    }
}

fn call(id: &str, name: &str, arguments: &str) -> Part {
    Part::ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
        signature: None,
    }
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("JSON")
}

/// Feeds `pieces` through a splitter and a decoder, ending the stream.
fn decode_stream(pieces: &[&[u8]]) -> Vec<StreamEvent> {
    let mut splitter = SseSplitter::new();
    let mut decoder = Decoder::default();
    let mut out = Vec::new();
    let mut feed = |event, out: &mut Vec<StreamEvent>| {
        out.extend(decoder.event(&event).expect("decodable event"));
    };
    for piece in pieces {
        for event in splitter.feed(piece) {
            feed(event, &mut out);
        }
    }
    if let Some(event) = splitter.finish() {
        feed(event, &mut out);
    }
    out.extend(decoder.end());
    out
}

fn encode_stream(request: &ChatRequest, events: &[StreamEvent]) -> Vec<u8> {
    let mut encoder = Encoder::new(request);
    events.iter().flat_map(|e| encoder.event(e)).collect()
}

// ---------------------------------------------------------------- requests

fn weather_schema() -> Value {
    json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false})
}

fn sample_request() -> ChatRequest {
    ChatRequest {
        model: "gpt-4.1".into(),
        system: vec!["Be brief.".into()],
        messages: vec![
            Message {
                role: Role::User,
                parts: vec![
                    text("Weather in Paris?"),
                    Part::Image(Image::Base64 {
                        media_type: "image/jpeg".into(),
                        data: "/9j/4AAQ".into(),
                    }),
                ],
            },
            Message {
                role: Role::Assistant,
                parts: vec![
                    thinking("Need the tool.", Some(own("rs_1 gAAAenc"))),
                    call("call_1", "get_weather", r#"{"city":"Paris"}"#),
                ],
            },
            Message {
                role: Role::User,
                parts: vec![
                    Part::ToolResult {
                        call_id: "call_1".into(),
                        name: None,
                        content: vec![text("18C")],
                        is_error: false,
                    },
                    text("Thanks"),
                ],
            },
        ],
        tools: vec![ToolDef {
            name: "get_weather".into(),
            description: Some("Weather.".into()),
            parameters: weather_schema(),
        }],
        tool_choice: Some(ToolChoice::Required),
        parallel_tool_calls: Some(true),
        max_output_tokens: Some(500),
        temperature: Some(0.5),
        top_p: None,
        stop: vec![],
        stream: true,
        stream_usage: false,
        response_format: Some(ResponseFormat::JsonObject),
        reasoning: Some(Reasoning {
            effort: Some(Effort::Low),
            budget_tokens: None,
            include_thoughts: true,
        }),
    }
}

/// Each `fail_` fixture and the refusal it must give.
const FAIL: &[(&str, &[u8], Expect)] = &[
    (
        "fail_previous_response_id.json",
        fixture!("fail_previous_response_id.json"),
        Expect::Unsupported("previous_response_id"),
    ),
    (
        "fail_conversation.json",
        fixture!("fail_conversation.json"),
        Expect::Unsupported("conversation"),
    ),
    (
        "fail_background.json",
        fixture!("fail_background.json"),
        Expect::Unsupported("background"),
    ),
    (
        "fail_web_search.json",
        fixture!("fail_web_search.json"),
        Expect::Unsupported("web_search tool"),
    ),
    (
        "fail_file_search.json",
        fixture!("fail_file_search.json"),
        Expect::Unsupported("file_search tool"),
    ),
    (
        "fail_mcp.json",
        fixture!("fail_mcp.json"),
        Expect::Unsupported("mcp tool"),
    ),
    (
        "fail_image_file_id.json",
        fixture!("fail_image_file_id.json"),
        Expect::Unsupported("image by file_id"),
    ),
    (
        "fail_input_file.json",
        fixture!("fail_input_file.json"),
        Expect::Unsupported("file input"),
    ),
    (
        "fail_late_system.json",
        fixture!("fail_late_system.json"),
        Expect::Unsupported("system message after the conversation started"),
    ),
    (
        "fail_logprobs.json",
        fixture!("fail_logprobs.json"),
        Expect::Unsupported("logprobs"),
    ),
    (
        "fail_top_logprobs.json",
        fixture!("fail_top_logprobs.json"),
        Expect::Unsupported("top_logprobs"),
    ),
    (
        "fail_unknown_field.json",
        fixture!("fail_unknown_field.json"),
        Expect::Unsupported("unknown field frequency_penalty"),
    ),
    (
        "fail_item_reference.json",
        fixture!("fail_item_reference.json"),
        Expect::Unsupported("item_reference"),
    ),
    (
        "fail_effort_xhigh.json",
        fixture!("fail_effort_xhigh.json"),
        Expect::Unsupported("reasoning effort xhigh"),
    ),
    (
        "fail_verbosity.json",
        fixture!("fail_verbosity.json"),
        Expect::Unsupported("text.verbosity"),
    ),
    (
        "fail_malformed_input.json",
        fixture!("fail_malformed_input.json"),
        Expect::Malformed,
    ),
    (
        "fail_malformed_no_model.json",
        fixture!("fail_malformed_no_model.json"),
        Expect::Malformed,
    ),
];

enum Expect {
    Unsupported(&'static str),
    Malformed,
}

fn sample_response() -> ChatResponse {
    let anthropic = Opaque {
        dialect: Dialect::Anthropic,
        value: "EqQBsig".into(),
    };
    ChatResponse {
        id: "msg_01XFDUDYJgAACzvnptvVoYEL".into(),
        model: "claude-sonnet-4-5".into(),
        parts: vec![
            thinking("Let me think.", Some(anthropic.clone())),
            Part::RedactedThinking(anthropic),
            text("Checking both."),
            call("toolu_01", "get_weather", r#"{"city":"Paris"}"#),
            Part::ToolCall {
                id: "call_2".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Rome"}"#.into(),
                signature: Some(Opaque {
                    dialect: Dialect::Gemini,
                    value: "CiQB".into(),
                }),
            },
        ],
        stop: Some(StopReason::ToolUse),
        usage: Usage {
            input: 100,
            output: 50,
            cache_read: 40,
            cache_write: 10,
            reasoning: 20,
        },
    }
}

fn tool_stream_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "resp_68a1f1c0d2e38190b4a5c6d7e8f90a1b".into(),
            model: "gpt-4.1-2025-04-14".into(),
        },
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_Paris01".into(),
            name: "get_weather".into(),
            signature: None,
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"ci".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "ty\":\"Pa".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "ris\"}".into(),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "call_Bogota2".into(),
            name: "get_weather".into(),
            signature: None,
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: "{\"city\":".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: "\"Bogotá\"}".into(),
        },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::Usage(Usage {
            input: 120,
            output: 40,
            cache_read: 64,
            ..Usage::default()
        }),
        StreamEvent::Stop(StopReason::ToolUse),
        StreamEvent::End,
    ]
}

fn reasoning_stream_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "resp_68b2a0c1d2e38190f0e1d2c3b4a59687".into(),
            model: "o4-mini-2025-04-16".into(),
        },
        StreamEvent::ThinkingStart { index: 0 },
        StreamEvent::ThinkingDelta {
            index: 0,
            text: "**Counting letters**\n\n".into(),
        },
        StreamEvent::ThinkingDelta {
            index: 0,
            text: "Strawberry has three r's.".into(),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::ThinkingStart { index: 1 },
        StreamEvent::ThinkingDelta {
            index: 1,
            text: "**Double-checking**\n\n".into(),
        },
        StreamEvent::ThinkingDelta {
            index: 1,
            text: "s-t-r-a-w-b-e-r-r-y: yes, 3.".into(),
        },
        StreamEvent::ThinkingSignature {
            index: 1,
            signature: own("rs_68b2a0c2e3f48190a7b6c5d4e3f2a1b0 gAAAAABosqDE-enc-stream"),
        },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::TextStart { index: 2 },
        StreamEvent::TextDelta {
            index: 2,
            text: "There are ".into(),
        },
        StreamEvent::TextDelta {
            index: 2,
            text: "3 r's.".into(),
        },
        StreamEvent::BlockStop { index: 2 },
        StreamEvent::Usage(Usage {
            input: 15,
            output: 410,
            reasoning: 384,
            ..Usage::default()
        }),
        StreamEvent::Stop(StopReason::End),
        StreamEvent::End,
    ]
}

/// `(event name, data)` of each frame.
fn frames(bytes: &[u8]) -> Vec<(String, Value)> {
    let mut splitter = SseSplitter::new();
    let mut events = splitter.feed(bytes);
    events.extend(splitter.finish());
    events
        .into_iter()
        .map(|e| {
            let data: Value = serde_json::from_str(&e.data).expect("JSON data");
            assert_eq!(data["type"], json!(e.event), "event name and type agree");
            (e.event, data)
        })
        .collect()
}

/// The checks openai-node's `ResponseStream` accumulator makes on each event
/// (`src/internal/responses/response-accumulator.ts`), applied to our encoder's output.
fn accumulate_like_openai_node(bytes: &[u8]) -> Value {
    let mut snapshot: Option<Value> = None;
    let mut last_sequence = -1i64;
    for (kind, event) in frames(bytes) {
        let sequence = event["sequence_number"].as_i64().expect("sequence_number");
        assert!(sequence > last_sequence, "sequence numbers rise");
        last_sequence = sequence;
        let Some(response) = snapshot.as_mut() else {
            assert_eq!(kind, "response.created", "the first event");
            snapshot = Some(event["response"].clone());
            continue;
        };
        let output = response["output"].as_array_mut().expect("output");
        let at = event["output_index"].as_u64().map(|i| i as usize);
        let item_of = |output: &Vec<Value>| -> Value {
            let item = output
                .get(at.expect("output_index"))
                .expect("announced item")
                .clone();
            if let Some(id) = event.get("item_id") {
                assert_eq!(&item["id"], id, "{kind}: item_id");
            }
            item
        };
        match kind.as_str() {
            "response.output_item.added" => {
                assert_eq!(at, Some(output.len()), "items are appended");
                let item = &event["item"];
                assert!(item["id"].as_str().is_some_and(|id| !id.is_empty()));
                for other in output.iter() {
                    assert_ne!(other["id"], item["id"], "unique ids");
                    if item["type"] == "function_call" {
                        assert_ne!(other["call_id"], item["call_id"], "unique call ids");
                    }
                }
                output.push(item.clone());
            }
            "response.output_item.done" => {
                let item = item_of(output);
                assert_eq!(item["id"], event["item"]["id"]);
                assert_eq!(item["type"], event["item"]["type"]);
                assert_eq!(item["call_id"], event["item"]["call_id"]);
                output[at.expect("index")] = event["item"].clone();
            }
            "response.content_part.added" => {
                item_of(output);
                let content = output[at.expect("index")]["content"]
                    .as_array_mut()
                    .expect("message");
                assert_eq!(event["content_index"].as_u64(), Some(content.len() as u64));
                content.push(event["part"].clone());
            }
            "response.output_text.delta" => {
                item_of(output);
                let ci = event["content_index"].as_u64().expect("content_index") as usize;
                let part = &mut output[at.expect("index")]["content"][ci];
                assert_eq!(part["type"], "output_text");
                let text = format!(
                    "{}{}",
                    part["text"].as_str().expect("text"),
                    event["delta"].as_str().expect("delta")
                );
                part["text"] = text.into();
            }
            "response.function_call_arguments.delta" => {
                let item = item_of(output);
                assert_eq!(item["type"], "function_call");
                let args = format!(
                    "{}{}",
                    item["arguments"].as_str().expect("args"),
                    event["delta"].as_str().expect("delta")
                );
                output[at.expect("index")]["arguments"] = args.into();
            }
            "response.reasoning_summary_part.added" => {
                item_of(output);
                let summary = output[at.expect("index")]["summary"]
                    .as_array_mut()
                    .expect("summary");
                assert_eq!(event["summary_index"].as_u64(), Some(summary.len() as u64));
                summary.push(event["part"].clone());
            }
            "response.reasoning_summary_text.delta" => {
                item_of(output);
                let si = event["summary_index"].as_u64().expect("summary_index") as usize;
                let part = &mut output[at.expect("index")]["summary"][si];
                let text = format!(
                    "{}{}",
                    part["text"].as_str().expect("text"),
                    event["delta"].as_str().expect("delta")
                );
                part["text"] = text.into();
            }
            "response.output_text.done"
            | "response.content_part.done"
            | "response.function_call_arguments.done"
            | "response.reasoning_summary_text.done"
            | "response.reasoning_summary_part.done" => {
                item_of(output);
            }
            "response.in_progress" | "response.completed" | "response.incomplete" => {
                let next = event["response"].clone();
                let mut ids = std::collections::HashSet::new();
                for item in next["output"].as_array().expect("output") {
                    assert!(ids.insert(item["id"].to_string()), "unique ids in {kind}");
                }
                *response = next;
            }
            other => panic!("unexpected event {other}"),
        }
    }
    snapshot.expect("a response")
}

proptest! {
    #[test]
    fn any_split_decodes_like_the_whole_stream(
        pick in 0usize..STREAMS.len(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let (name, bytes) = STREAMS[pick];
        let whole = decode_stream(&[bytes]);
        let mut at: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        at.sort_unstable();
        let mut pieces = Vec::new();
        let mut from = 0;
        for cut in at {
            pieces.push(&bytes[from..cut]);
            from = cut;
        }
        pieces.push(&bytes[from..]);
        prop_assert_eq!(decode_stream(&pieces), whole, "{}", name);
    }
}

mod answers;
mod errors;
mod requests;
mod streams;
