//! The Anthropic Messages codec against fixtures in the API's wire format
//! (`tests/data/route/anthropic/`, sources in its README): decoded field by field,
//! encoded and compared as JSON, round trips, streams split at arbitrary points, and
//! `fail_` bodies refused with the exact reason.

// A test's panic is its failure report.
#![allow(clippy::unwrap_used)]

use keyfob_core::metering::sse::SseSplitter;
use keyfob_core::route::anthropic::{self, Decoder, Encoder};
use keyfob_core::route::ir::{
    self, ChatRequest, ChatResponse, Effort, ErrorKind, Image, Message, Opaque, Part,
    ProviderError, Reasoning, ResponseFormat, Role, RouteError, StopReason, StreamEvent,
    ToolChoice, ToolDef, Usage,
};
use keyfob_core::route::{self as route, Dialect, StreamDecoder, StreamEncoder};
use proptest::prelude::*;
use serde_json::{json, Value};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/route/anthropic/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn own(value: &str) -> Opaque {
    Opaque {
        dialect: Dialect::Anthropic,
        value: value.into(),
    }
}

fn gemini(value: &str) -> Opaque {
    Opaque {
        dialect: Dialect::Gemini,
        value: value.into(),
    }
}

/// Feeds `pieces` through the splitter and the decoder, then ends the stream.
fn decode_pieces<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Vec<StreamEvent> {
    let mut splitter = SseSplitter::new();
    let mut decoder = Decoder::default();
    let mut out = Vec::new();
    for piece in pieces {
        for event in splitter.feed(piece) {
            out.extend(decoder.event(&event).unwrap());
        }
    }
    if let Some(event) = splitter.finish() {
        out.extend(decoder.event(&event).unwrap());
    }
    out.extend(decoder.end());
    out
}

fn decode_stream(bytes: &[u8]) -> Vec<StreamEvent> {
    decode_pieces([bytes])
}

fn encode_stream(request: &ChatRequest, events: &[StreamEvent]) -> Vec<u8> {
    let mut encoder = Encoder::new(request);
    events
        .iter()
        .flat_map(|event| encoder.event(event))
        .collect()
}

/// The (event name, data) pairs of an SSE body.
fn sse_pairs(bytes: &[u8]) -> Vec<(String, Value)> {
    let mut splitter = SseSplitter::new();
    let mut events = splitter.feed(bytes);
    events.extend(splitter.finish());
    events
        .into_iter()
        .map(|e| (e.event, serde_json::from_str(&e.data).unwrap()))
        .collect()
}

fn usage(input: u64, output: u64, cache_read: u64, cache_write: u64, reasoning: u64) -> Usage {
    Usage {
        input,
        output,
        cache_read,
        cache_write,
        reasoning,
    }
}

fn full_request() -> ChatRequest {
    ChatRequest {
        model: "claude-opus-4-1".into(),
        system: vec!["Be terse.".into()],
        messages: vec![
            Message {
                role: Role::User,
                parts: vec![Part::Text("Weather in Oslo?".into())],
            },
            Message {
                role: Role::Assistant,
                parts: vec![
                    Part::Thinking {
                        text: "Use the tool.".into(),
                        signature: Some(own("sig-1")),
                    },
                    Part::ToolCall {
                        id: "toolu_1".into(),
                        name: "get_weather".into(),
                        arguments: r#"{"city":"Oslo"}"#.into(),
                        signature: None,
                    },
                ],
            },
            Message {
                role: Role::User,
                parts: vec![Part::ToolResult {
                    call_id: "toolu_1".into(),
                    name: None,
                    content: vec![Part::Text("-3 C".into())],
                    is_error: false,
                }],
            },
        ],
        tools: vec![ToolDef {
            name: "get_weather".into(),
            description: Some("Weather by city".into()),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        }],
        tool_choice: Some(ToolChoice::Named("get_weather".into())),
        parallel_tool_calls: Some(true),
        max_output_tokens: Some(1000),
        temperature: Some(0.5),
        top_p: None,
        stop: vec!["END".into()],
        stream: false,
        stream_usage: false,
        response_format: Some(ResponseFormat::JsonSchema {
            name: "response".into(),
            schema: json!({"type": "object"}),
            strict: true,
        }),
        reasoning: Some(Reasoning {
            effort: None,
            budget_tokens: Some(1024),
            include_thoughts: false,
        }),
    }
}

fn tool_events() -> Vec<StreamEvent> {
    let delta = |index, arguments: &str| StreamEvent::ToolCallDelta {
        index,
        arguments: arguments.into(),
    };
    vec![
        StreamEvent::Start {
            id: "msg_014p7gG3wDgGV9EUtLvnow3U".into(),
            model: "claude-haiku-4-5-20251001".into(),
        },
        StreamEvent::Usage(usage(472, 2, 0, 0, 0)),
        StreamEvent::TextStart { index: 0 },
        StreamEvent::TextDelta {
            index: 0,
            text: "Checking both cities.".into(),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6".into(),
            name: "get_weather".into(),
            signature: None,
        },
        delta(1, "{\"location\": \"Par"),
        delta(1, "is\"}"),
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::ToolCallStart {
            index: 2,
            id: "toolu_01Vx9QSpn7ExYGWAMq9f7cxY".into(),
            name: "get_weather".into(),
            signature: None,
        },
        delta(2, "{\"location\":"),
        delta(2, " \"Tokyo\"}"),
        StreamEvent::BlockStop { index: 2 },
        StreamEvent::Usage(usage(472, 89, 0, 0, 0)),
        StreamEvent::Stop(StopReason::ToolUse),
        StreamEvent::End,
    ]
}

fn thinking_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "msg_01ThinkingStream".into(),
            model: "claude-sonnet-4-5-20250929".into(),
        },
        StreamEvent::Usage(usage(612, 1, 0, 600, 0)),
        StreamEvent::ThinkingStart { index: 0 },
        StreamEvent::ThinkingDelta {
            index: 0,
            text: "Let me solve this step by step:\n\n1. ".into(),
        },
        StreamEvent::ThinkingDelta {
            index: 0,
            text: "27 * 453 = 12231".into(),
        },
        StreamEvent::ThinkingSignature {
            index: 0,
            signature: own("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::RedactedThinking {
            index: 1,
            data: own("EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"),
        },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::TextStart { index: 2 },
        StreamEvent::TextDelta {
            index: 2,
            text: "27 * 453 = 12,231".into(),
        },
        StreamEvent::BlockStop { index: 2 },
        StreamEvent::Usage(usage(612, 320, 0, 600, 280)),
        StreamEvent::Stop(StopReason::MaxTokens),
        StreamEvent::End,
    ]
}

const STREAMS: &[&str] = &[
    "stream_text.sse",
    "stream_tools.sse",
    "stream_thinking.sse",
    "stream_error.sse",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_split_decodes_like_the_whole(
        index in 0..STREAMS.len(),
        cuts in proptest::collection::vec(any::<usize>(), 0..30),
    ) {
        let bytes = fixture(STREAMS[index]);
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut from = 0;
        for point in points {
            pieces.push(&bytes[from..point]);
            from = point;
        }
        pieces.push(&bytes[from..]);
        prop_assert_eq!(decode_pieces(pieces), decode_stream(&bytes), "{}", STREAMS[index]);
    }
}

mod answers;
mod errors;
mod requests;
mod streams;
