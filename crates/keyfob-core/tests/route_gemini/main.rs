//! The Gemini codec against the wire-format fixtures in `tests/data/route/gemini/` (see
//! its README for where each one's format comes from): requests, answers, SSE streams
//! and error bodies decoded field by field, IR values encoded and compared as JSON,
//! round trips, `fail_` bodies refused with their exact reason, and any split of a
//! recorded stream decoding the same as the whole.

use keyfob_core::metering::sse::SseSplitter;
use keyfob_core::route::gemini;
use keyfob_core::route::ir::{
    id_with_token, ChatRequest, ChatResponse, Effort, ErrorKind, Image, Message, Opaque, Part,
    ProviderError, Reasoning, ResponseFormat, Role, RouteError, StopReason, StreamEvent,
    ToolChoice, ToolDef, Usage,
};
use keyfob_core::route::{Dialect, StreamDecoder, StreamEncoder, StreamTranslator};
use proptest::prelude::*;
use serde_json::{json, Value};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/route/gemini/");
const SIG1: &str = "CiQBVKhc7gVNlWrmzW9MEk/bjBDPDpxUEY9TBFuB8vn6CVjiCFgKeAFUqFzuJXH+jzpn9qLqTHoB2bJO4X9zCVKNe4cI7Wej+GjGuUP3DU5VAanQuz9agncQ299dkIYc/8uB2Wp2zFkFeq2v5SEUpKQfmlElMDRGM4cwU0LKHfOfEYYgWGXwjnbRvaP+lFtEb4DA/sDzX4zCdiwQr66N9Q==";
const SIG2: &str = "Ci0BVKhc7nIrgrUl8wn5Fa1LO39HZv3wxT/kzBUTDiN8e1Gl2lq1DnFW/aUzdYwKYwFUqFzurPyPik96kH9jBX293re5YZ8gbQCfUnjFZN/eTEwQf7Xc58yR9iOBBCsjYXoIiIUCGWzEUPUzRMASMFoK5vRlo/VSfYCV67Mk2nw3GH+gF2x2IrxHWuts==";
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const STREAM: &str = "models/gemini-2.5-flash:streamGenerateContent?alt=sse";
const UNARY: &str = "models/gemini-2.5-flash:generateContent";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}{name}")).expect("fixture")
}

fn gemini_sig(value: &str) -> Opaque {
    Opaque {
        dialect: Dialect::Gemini,
        value: value.into(),
    }
}

fn text(s: &str) -> Part {
    Part::Text(s.into())
}

fn body_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("JSON body")
}

/// What an OpenAI app's turn looks like after its decoder: results without names,
/// another dialect's thinking, a Gemini signature that rode on the call id.
fn openai_style_request() -> ChatRequest {
    ChatRequest {
        model: "gemini-3-flash-preview".into(),
        system: vec!["Be brief.".into()],
        messages: vec![
            Message {
                role: Role::User,
                parts: vec![
                    text("Weather in Paris?"),
                    Part::Image(Image::Url("data:image/png;base64,AAAA".into())),
                ],
            },
            Message {
                role: Role::Assistant,
                parts: vec![
                    Part::Thinking {
                        text: "claude thought".into(),
                        signature: Some(Opaque {
                            dialect: Dialect::Anthropic,
                            value: "sigA".into(),
                        }),
                    },
                    Part::RedactedThinking(Opaque {
                        dialect: Dialect::OpenAiResponses,
                        value: "enc".into(),
                    }),
                    Part::ToolCall {
                        id: "call_abc".into(),
                        name: "get_weather".into(),
                        arguments: r#"{"city":"Paris"}"#.into(),
                        signature: Some(gemini_sig(SIG1)),
                    },
                ],
            },
            Message {
                role: Role::User,
                parts: vec![Part::ToolResult {
                    call_id: "call_abc".into(),
                    name: None,
                    content: vec![text("rain")],
                    is_error: true,
                }],
            },
        ],
        tools: vec![
            ToolDef {
                name: "get_weather".into(),
                description: Some("Weather".into()),
                parameters: json!({
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {"city": {"$ref": "#/$defs/city"}, "days": {"type": ["integer", "null"], "format": "uint8"}},
                    "required": ["city"],
                    "$defs": {"city": {"type": "string", "examples": ["Paris"]}}
                }),
            },
            ToolDef {
                name: "now".into(),
                description: None,
                parameters: json!({"type": "object", "properties": {}}),
            },
        ],
        tool_choice: Some(ToolChoice::Required),
        parallel_tool_calls: Some(true),
        max_output_tokens: Some(100),
        stream: true,
        response_format: Some(ResponseFormat::JsonObject),
        reasoning: Some(Reasoning {
            effort: Some(Effort::High),
            budget_tokens: None,
            include_thoughts: true,
        }),
        ..ChatRequest::default()
    }
}

/// An IR that Gemini can carry exactly.
fn gemini_exact_request() -> ChatRequest {
    ChatRequest {
        model: "gemini-2.5-flash".into(),
        system: vec!["One.".into(), "Two.".into()],
        messages: vec![
            Message {
                role: Role::User,
                parts: vec![
                    text("Look"),
                    Part::Image(Image::Base64 {
                        media_type: "image/jpeg".into(),
                        data: "/9j/4AAQ".into(),
                    }),
                ],
            },
            Message {
                role: Role::Assistant,
                parts: vec![
                    Part::Thinking {
                        text: "hmm".into(),
                        signature: Some(gemini_sig(SIG2)),
                    },
                    Part::ToolCall {
                        id: "call_7".into(),
                        name: "look".into(),
                        arguments: r#"{"zoom":2}"#.into(),
                        signature: Some(gemini_sig(SIG1)),
                    },
                ],
            },
            Message {
                role: Role::User,
                parts: vec![Part::ToolResult {
                    call_id: "call_7".into(),
                    name: Some("look".into()),
                    content: vec![
                        text("a cat"),
                        Part::Image(Image::Base64 {
                            media_type: "image/png".into(),
                            data: PNG.into(),
                        }),
                    ],
                    is_error: false,
                }],
            },
        ],
        tools: vec![ToolDef {
            name: "look".into(),
            description: Some("Zooms".into()),
            parameters: json!({"type": "object", "properties": {
                "zoom": {"type": ["number", "null"], "minimum": 1}}, "required": ["zoom"]}),
        }],
        tool_choice: Some(ToolChoice::Named("look".into())),
        max_output_tokens: Some(512),
        temperature: Some(0.5),
        top_p: Some(0.25),
        stop: vec!["\n\n".into()],
        stream: false,
        response_format: Some(ResponseFormat::JsonSchema {
            name: "response".into(),
            schema: json!({"type": "object", "additionalProperties": false}),
            strict: true,
        }),
        reasoning: Some(Reasoning {
            effort: None,
            budget_tokens: Some(2048),
            include_thoughts: true,
        }),
        ..ChatRequest::default()
    }
}

fn sample_response() -> ChatResponse {
    ChatResponse {
        id: "msg_01".into(),
        model: "claude-sonnet-4-5".into(),
        parts: vec![
            Part::Thinking {
                text: "think".into(),
                signature: Some(Opaque {
                    dialect: Dialect::Anthropic,
                    value: "EqQBsig".into(),
                }),
            },
            Part::RedactedThinking(Opaque {
                dialect: Dialect::Anthropic,
                value: "redacted==".into(),
            }),
            text("Calling."),
            Part::ToolCall {
                id: "toolu_1".into(),
                name: "look".into(),
                arguments: r#"{"zoom":2}"#.into(),
                signature: None,
            },
            Part::ToolCall {
                id: "toolu_2".into(),
                name: "look".into(),
                arguments: String::new(),
                signature: None,
            },
        ],
        stop: Some(StopReason::ToolUse),
        usage: Usage {
            input: 120,
            output: 50,
            cache_read: 100,
            cache_write: 0,
            reasoning: 20,
        },
    }
}

// ---- streams ----

fn decode_pieces(pieces: &[&[u8]]) -> Result<Vec<StreamEvent>, RouteError> {
    let mut splitter = SseSplitter::new();
    let mut decoder = gemini::Decoder::default();
    let mut out = Vec::new();
    for piece in pieces {
        for event in splitter.feed(piece) {
            out.extend(decoder.event(&event)?);
        }
    }
    if let Some(event) = splitter.finish() {
        out.extend(decoder.event(&event)?);
    }
    out.extend(decoder.end());
    Ok(out)
}

fn decode_stream(bytes: &[u8]) -> Result<Vec<StreamEvent>, RouteError> {
    decode_pieces(&[bytes])
}

fn start() -> StreamEvent {
    StreamEvent::Start {
        id: "mKrGaPnmOI6Uz7IP_Yq3iAs".into(),
        model: "gemini-2.5-flash".into(),
    }
}

fn encode_events(events: &[StreamEvent]) -> Vec<u8> {
    let mut encoder = gemini::Encoder::new(&ChatRequest::default());
    events.iter().flat_map(|e| encoder.event(e)).collect()
}

fn sample_events() -> Vec<StreamEvent> {
    use StreamEvent::*;
    let sig = Opaque {
        dialect: Dialect::Anthropic,
        value: "EqQBsig".into(),
    };
    vec![
        Start {
            id: "msg_1".into(),
            model: "claude-x".into(),
        },
        ThinkingStart { index: 0 },
        ThinkingDelta {
            index: 0,
            text: "Let me ".into(),
        },
        ThinkingDelta {
            index: 0,
            text: "see.".into(),
        },
        ThinkingSignature {
            index: 0,
            signature: sig,
        },
        BlockStop { index: 0 },
        TextStart { index: 1 },
        TextDelta {
            index: 1,
            text: "Checking ".into(),
        },
        TextDelta {
            index: 1,
            text: "both.".into(),
        },
        BlockStop { index: 1 },
        ToolCallStart {
            index: 2,
            id: "toolu_a".into(),
            name: "look".into(),
            signature: None,
        },
        ToolCallDelta {
            index: 2,
            arguments: r#"{"zoom":2}"#.into(),
        },
        BlockStop { index: 2 },
        ToolCallStart {
            index: 3,
            id: "toolu_b".into(),
            name: "look".into(),
            signature: Some(gemini_sig(SIG1)),
        },
        ToolCallDelta {
            index: 3,
            arguments: r#"{"zoom":4}"#.into(),
        },
        BlockStop { index: 3 },
        Usage(keyfob_core::route::ir::Usage {
            input: 30,
            output: 12,
            cache_read: 10,
            cache_write: 0,
            reasoning: 4,
        }),
        Stop(StopReason::ToolUse),
        End,
    ]
}

fn pieces_of(bytes: &[u8], mut cuts: Vec<usize>) -> Vec<&[u8]> {
    cuts.iter_mut().for_each(|c| *c %= bytes.len() + 1);
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.push(&bytes[at..c]);
        at = c;
    }
    out.push(&bytes[at..]);
    out
}

const STREAMS: [&str; 6] = [
    "stream_text.sse",
    "stream_tool_calls.sse",
    "stream_thinking.sse",
    "stream_error.sse",
    "stream_cut.sse",
    "fail_stream_malformed_call.sse",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_split_decodes_like_the_whole(
        index in 0..STREAMS.len(),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let bytes = fixture(STREAMS[index]);
        prop_assert_eq!(decode_pieces(&pieces_of(&bytes, cuts)), decode_stream(&bytes));
    }
}

fn decode_with(extra: Value) -> Result<ChatRequest, RouteError> {
    let mut body = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    gemini::decode_request(UNARY, body.to_string().as_bytes())
}

mod answers;
mod errors;
mod requests;
mod streams;
