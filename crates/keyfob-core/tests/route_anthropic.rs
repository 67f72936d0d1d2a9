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

// ---- requests ----

#[test]
fn request_fixture_decodes_field_by_field() {
    let request = anthropic::decode_request("messages", &fixture("request.json")).unwrap();
    assert_eq!(request.model, "claude-sonnet-4-5-20250929");
    assert_eq!(request.max_output_tokens, Some(4096));
    assert_eq!(
        request.system,
        ["You are a weather assistant.", "Answer in one sentence."]
    );
    assert_eq!(request.messages.len(), 5);
    assert_eq!(
        request.messages[0],
        Message {
            role: Role::User,
            parts: vec![Part::Text("Hello".into())]
        }
    );
    assert_eq!(
        request.messages[1],
        Message {
            role: Role::Assistant,
            parts: vec![Part::Text("Hi! How can I help?".into())]
        }
    );
    assert_eq!(
        request.messages[2].parts,
        [
            Part::Image(Image::Base64 {
                media_type: "image/png".into(),
                data: "iVBORw0KGgo=".into()
            }),
            Part::Image(Image::Url("https://example.com/sky.jpg".into())),
            Part::Text("What is the weather where these were taken?".into()),
        ]
    );
    assert_eq!(request.messages[3].role, Role::Assistant);
    assert_eq!(
        request.messages[3].parts,
        [
            Part::Thinking {
                text: "I should look up both places.".into(),
                signature: Some(own("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds")),
            },
            Part::RedactedThinking(own(
                "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"
            )),
            Part::ToolCall {
                id: "toolu_01A09q90qw90lq917835lq9".into(),
                name: "get_weather".into(),
                arguments: r#"{"location":"San Francisco, CA"}"#.into(),
                signature: None,
            },
            Part::ToolCall {
                id: "toolu_01B7x".into(),
                name: "get_time".into(),
                arguments: "{}".into(),
                signature: None,
            },
        ]
    );
    assert_eq!(
        request.messages[4].parts,
        [
            Part::ToolResult {
                call_id: "toolu_01A09q90qw90lq917835lq9".into(),
                name: None,
                content: vec![Part::Text("15 degrees, fog".into())],
                is_error: false,
            },
            Part::ToolResult {
                call_id: "toolu_01B7x".into(),
                name: None,
                content: vec![
                    Part::Text("clock unavailable".into()),
                    Part::Image(Image::Base64 {
                        media_type: "image/jpeg".into(),
                        data: "/9j/4AAQ".into()
                    }),
                ],
                is_error: true,
            },
        ]
    );
    assert_eq!(
        request.tools,
        [
            ToolDef {
                name: "get_weather".into(),
                description: Some("Get the current weather in a given location".into()),
                parameters: json!({"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}),
            },
            ToolDef {
                name: "get_time".into(),
                description: None,
                parameters: json!({"type": "object", "properties": {}}),
            },
        ]
    );
    assert_eq!(request.tool_choice, Some(ToolChoice::Auto));
    assert_eq!(request.parallel_tool_calls, Some(false));
    assert_eq!(
        request.reasoning,
        Some(Reasoning {
            effort: None,
            budget_tokens: Some(2048),
            include_thoughts: true
        })
    );
    assert_eq!(request.temperature, Some(1.0));
    assert_eq!(request.top_p, Some(0.9));
    assert_eq!(request.stop, ["\n\nHuman:"]);
    assert!(request.stream);
    assert!(request.stream_usage);
    assert_eq!(request.response_format, None);
}

#[test]
fn request_fixture_reencodes_without_the_dropped_hints() {
    let request = anthropic::decode_request("messages", &fixture("request.json")).unwrap();
    let encoded = anthropic::encode_request(&request).unwrap();
    assert_eq!(encoded.endpoint, "messages");
    let mut want = json_of(&fixture("request.json"));
    // What the codec drops: metadata and cache_control hints; string content is
    // written as a text block.
    let want = want.as_object_mut().unwrap();
    want.remove("metadata");
    // Numbers are read as f64: 1 goes back out as 1.0.
    want["temperature"] = json!(1.0);
    want["system"][1]
        .as_object_mut()
        .unwrap()
        .remove("cache_control");
    want["messages"][0]["content"] = json!([{"type": "text", "text": "Hello"}]);
    want["messages"][4]["content"][1]
        .as_object_mut()
        .unwrap()
        .remove("cache_control");
    assert_eq!(json_of(&encoded.body), Value::Object(want.clone()));
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

#[test]
fn request_encodes_to_the_expected_json() {
    let encoded = anthropic::encode_request(&full_request()).unwrap();
    assert_eq!(
        json_of(&encoded.body),
        json!({
            "model": "claude-opus-4-1",
            "max_tokens": 1000,
            "system": "Be terse.",
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Weather in Oslo?"}]},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "Use the tool.", "signature": "sig-1"},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "-3 C"}
                ]}
            ],
            "tools": [{"name": "get_weather", "description": "Weather by city",
                       "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
            "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": false},
            "temperature": 0.5,
            "stop_sequences": ["END"],
            "thinking": {"type": "enabled", "budget_tokens": 1024, "display": "omitted"},
            "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}
        })
    );
}

#[test]
fn request_round_trips() {
    let request = full_request();
    let encoded = anthropic::encode_request(&request).unwrap();
    assert_eq!(
        anthropic::decode_request(&encoded.endpoint, &encoded.body).unwrap(),
        request
    );
    let fixture = anthropic::decode_request("messages", &fixture("request.json")).unwrap();
    let encoded = anthropic::encode_request(&fixture).unwrap();
    assert_eq!(
        anthropic::decode_request("messages", &encoded.body).unwrap(),
        fixture
    );
}

#[test]
fn encoding_defaults_max_tokens_and_keeps_foreign_tokens_away_from_anthropic() {
    let request = ChatRequest {
        model: "claude-haiku-4-5".into(),
        messages: vec![Message {
            role: Role::Assistant,
            parts: vec![
                Part::Thinking {
                    text: "gemini thought".into(),
                    signature: Some(gemini("g-sig")),
                },
                Part::Thinking {
                    text: "unsigned summary".into(),
                    signature: None,
                },
                Part::RedactedThinking(Opaque {
                    dialect: Dialect::OpenAiResponses,
                    value: "enc".into(),
                }),
                Part::ToolCall {
                    id: "call_0".into(),
                    name: "f".into(),
                    arguments: String::new(),
                    signature: Some(gemini("g-call-sig")),
                },
            ],
        }],
        reasoning: Some(Reasoning {
            effort: None,
            budget_tokens: Some(0),
            include_thoughts: false,
        }),
        ..Default::default()
    };
    let body = json_of(&anthropic::encode_request(&request).unwrap().body);
    assert_eq!(
        body,
        json!({
            "model": "claude-haiku-4-5",
            "max_tokens": 8192,
            "messages": [{"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_0", "name": "f", "input": {}}
            ]}],
            "thinking": {"type": "disabled"}
        })
    );
    let thinking = ChatRequest {
        reasoning: Some(Reasoning {
            effort: None,
            budget_tokens: Some(4000),
            include_thoughts: true,
        }),
        ..Default::default()
    };
    let body = json_of(&anthropic::encode_request(&thinking).unwrap().body);
    assert_eq!(body["max_tokens"], json!(8192 + 4000));
    assert_eq!(
        body["thinking"],
        json!({"type": "enabled", "budget_tokens": 4000})
    );
}

#[test]
fn encoding_refuses_what_anthropic_cannot_say() {
    let refused = |request: ChatRequest| anthropic::encode_request(&request).unwrap_err();
    let effort = ChatRequest {
        reasoning: Some(Reasoning {
            effort: Some(Effort::High),
            budget_tokens: None,
            include_thoughts: false,
        }),
        ..Default::default()
    };
    assert_eq!(refused(effort), RouteError::unsupported("reasoning effort"));
    let json_mode = ChatRequest {
        response_format: Some(ResponseFormat::JsonObject),
        ..Default::default()
    };
    assert_eq!(
        refused(json_mode),
        RouteError::unsupported("JSON object mode")
    );
    let dotted = ChatRequest {
        tools: vec![ToolDef {
            name: "files.read".into(),
            description: None,
            parameters: Value::Null,
        }],
        ..Default::default()
    };
    assert_eq!(
        refused(dotted),
        RouteError::unsupported("tool name with characters Anthropic refuses")
    );
    let not_object = ChatRequest {
        messages: vec![Message {
            role: Role::Assistant,
            parts: vec![Part::ToolCall {
                id: "call_1".into(),
                name: "f".into(),
                arguments: "[1, 2]".into(),
                signature: None,
            }],
        }],
        ..Default::default()
    };
    assert_eq!(
        refused(not_object),
        RouteError::unsupported("tool call arguments that are not a JSON object")
    );
}

#[test]
fn a_token_on_a_tool_use_id_comes_back_from_the_app() {
    let token = gemini("CiQB0e2Kb+/sig==");
    let id = ir::id_with_token("call_3", &token);
    let body = json!({
        "model": "m", "max_tokens": 10,
        "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": id, "name": "f", "input": {"a": 1}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": "ok"}]},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "t",
                "signature": ir::id_with_token("", &token)}]}
        ]
    });
    let request = anthropic::decode_request("messages", body.to_string().as_bytes()).unwrap();
    assert_eq!(
        request.messages[0].parts[0],
        Part::ToolCall {
            id: "call_3".into(),
            name: "f".into(),
            arguments: r#"{"a":1}"#.into(),
            signature: Some(token.clone()),
        }
    );
    assert!(matches!(&request.messages[1].parts[0],
        Part::ToolResult { call_id, .. } if call_id == "call_3"));
    assert_eq!(
        request.messages[2].parts[0],
        Part::Thinking {
            text: "t".into(),
            signature: Some(token)
        }
    );
}

#[test]
fn fail_requests_are_refused_with_their_reason() {
    let cases: &[(&str, RouteError)] = &[
        ("fail_top_k.json", RouteError::unsupported("top_k")),
        (
            "fail_web_search.json",
            RouteError::unsupported("server tool `web_search_20250305`"),
        ),
        ("fail_document.json", RouteError::unsupported("document")),
        (
            "fail_image_file.json",
            RouteError::unsupported("image by file id"),
        ),
        (
            "fail_unknown_field.json",
            RouteError::unsupported("container"),
        ),
        (
            "fail_adaptive_thinking.json",
            RouteError::unsupported("adaptive thinking"),
        ),
        (
            "fail_no_max_tokens.json",
            RouteError::malformed(Dialect::Anthropic, "`max_tokens` is required"),
        ),
        (
            "fail_role_system.json",
            RouteError::malformed(Dialect::Anthropic, "role `system`"),
        ),
    ];
    for (name, want) in cases {
        assert_eq!(
            &anthropic::decode_request("messages", &fixture(name)).unwrap_err(),
            want,
            "{name}"
        );
    }
    assert_eq!(
        anthropic::decode_request("messages/batches", &fixture("request.json")).unwrap_err(),
        RouteError::unsupported("endpoint `messages/batches`")
    );
}

// ---- answers ----

#[test]
fn text_answer_decodes() {
    let response = anthropic::decode_response(&fixture("response_text.json")).unwrap();
    assert_eq!(
        response,
        ChatResponse {
            id: "msg_013Zva2CMHLNnXjNJJKqJ2EF".into(),
            model: "claude-sonnet-4-5-20250929".into(),
            parts: vec![Part::Text("Hi! My name is Claude.".into())],
            stop: Some(StopReason::StopSequence(Some("\n\nHuman:".into()))),
            // input_tokens excludes the cache: 2095 + 100 written + 1800 read.
            usage: usage(3995, 503, 1800, 100, 0),
        }
    );
}

#[test]
fn tool_call_answer_decodes() {
    let response = anthropic::decode_response(&fixture("response_tools.json")).unwrap();
    assert_eq!(response.id, "msg_01Aq9w938a90dw8q");
    assert_eq!(response.model, "claude-opus-4-1-20250805");
    assert_eq!(
        response.parts,
        [
            Part::Thinking {
                text: "Two lookups, in parallel.".into(),
                signature: Some(own("WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve")),
            },
            Part::Text("Let me check both.".into()),
            Part::ToolCall {
                id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6".into(),
                name: "get_weather".into(),
                arguments: r#"{"location":"Paris"}"#.into(),
                signature: None,
            },
            Part::ToolCall {
                id: "toolu_01Vx9QSpn7ExYGWAMq9f7cxY".into(),
                name: "get_weather".into(),
                arguments: r#"{"location":"Tokyo"}"#.into(),
                signature: None,
            },
        ]
    );
    assert_eq!(response.stop, Some(StopReason::ToolUse));
    assert_eq!(response.usage, usage(480, 152, 0, 0, 40));
}

#[test]
fn answer_encodes_to_the_expected_json_and_round_trips() {
    let response = ChatResponse {
        id: "chatcmpl-9".into(),
        model: "gemini-2.5-flash".into(),
        parts: vec![
            Part::Thinking {
                text: "hmm".into(),
                signature: None,
            },
            Part::Text("Calling.".into()),
            Part::ToolCall {
                id: "call_0".into(),
                name: "f".into(),
                arguments: r#"{"x":1}"#.into(),
                signature: Some(gemini("sigA")),
            },
            Part::RedactedThinking(Opaque {
                dialect: Dialect::OpenAiResponses,
                value: "gAAAA-enc".into(),
            }),
        ],
        stop: Some(StopReason::ToolUse),
        usage: usage(120, 40, 100, 0, 12),
    };
    let body = json_of(&anthropic::encode_response(&response).unwrap());
    let call_id = ir::id_with_token("call_0", &gemini("sigA"));
    let redacted = ir::id_with_token(
        "",
        &Opaque {
            dialect: Dialect::OpenAiResponses,
            value: "gAAAA-enc".into(),
        },
    );
    assert_eq!(
        body,
        json!({
            "id": "chatcmpl-9", "type": "message", "role": "assistant", "model": "gemini-2.5-flash",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": ""},
                {"type": "text", "text": "Calling."},
                {"type": "tool_use", "id": call_id, "name": "f", "input": {"x": 1}},
                {"type": "redacted_thinking", "data": redacted}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 20, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 100, "output_tokens": 40,
                      "output_tokens_details": {"thinking_tokens": 12}}
        })
    );
    assert_eq!(
        anthropic::decode_response(&body.to_string().into_bytes()).unwrap(),
        response
    );
    for name in ["response_text.json", "response_tools.json"] {
        let decoded = anthropic::decode_response(&fixture(name)).unwrap();
        let again = anthropic::encode_response(&decoded).unwrap();
        assert_eq!(
            anthropic::decode_response(&again).unwrap(),
            decoded,
            "{name}"
        );
    }
}

#[test]
fn every_stop_reason_is_exact() {
    for (stop, wire, sequence) in [
        (StopReason::End, "end_turn", Value::Null),
        (StopReason::MaxTokens, "max_tokens", Value::Null),
        (StopReason::ToolUse, "tool_use", Value::Null),
        (
            StopReason::StopSequence(Some("##".into())),
            "stop_sequence",
            json!("##"),
        ),
        (StopReason::Refusal, "refusal", Value::Null),
        (StopReason::Pause, "pause_turn", Value::Null),
    ] {
        let response = ChatResponse {
            stop: Some(stop.clone()),
            ..Default::default()
        };
        let body = json_of(&anthropic::encode_response(&response).unwrap());
        assert_eq!(
            (&body["stop_reason"], &body["stop_sequence"]),
            (&json!(wire), &sequence)
        );
        assert_eq!(
            anthropic::decode_response(&body.to_string().into_bytes())
                .unwrap()
                .stop,
            Some(stop)
        );
    }
    let filtered = ChatResponse {
        stop: Some(StopReason::ContentFilter),
        ..Default::default()
    };
    let body = json_of(&anthropic::encode_response(&filtered).unwrap());
    assert_eq!(body["stop_reason"], json!("refusal"));
    let mut window = json_of(&fixture("response_text.json"));
    window["stop_reason"] = json!("model_context_window_exceeded");
    let decoded = anthropic::decode_response(&window.to_string().into_bytes()).unwrap();
    assert_eq!(decoded.stop, Some(StopReason::MaxTokens));
}

// ---- errors ----

#[test]
fn error_bodies_decode_and_encode_per_kind() {
    for (wire, status, kind) in [
        ("invalid_request_error", 400, ErrorKind::InvalidRequest),
        ("authentication_error", 401, ErrorKind::Authentication),
        ("permission_error", 403, ErrorKind::PermissionDenied),
        ("not_found_error", 404, ErrorKind::NotFound),
        ("rate_limit_error", 429, ErrorKind::RateLimited),
        ("api_error", 500, ErrorKind::Server),
        ("overloaded_error", 529, ErrorKind::Overloaded),
    ] {
        let error = anthropic::decode_error(status, &fixture(&format!("error_{wire}.json")));
        let want = ProviderError {
            status,
            kind,
            message: format!("{wire} message"),
        };
        assert_eq!(error, want);
        assert_eq!(
            json_of(&anthropic::encode_error(&want)),
            json!({"type": "error", "error": {"type": wire, "message": format!("{wire} message")}})
        );
    }
    let html = anthropic::decode_error(502, b"<html>Bad gateway</html>");
    assert_eq!(
        html,
        ProviderError {
            status: 502,
            kind: ErrorKind::Server,
            message: "<html>Bad gateway</html>".into()
        }
    );
    let billing = br#"{"type":"error","error":{"type":"billing_error","message":"no credit"}}"#;
    assert_eq!(
        anthropic::decode_error(402, billing).kind,
        ErrorKind::InvalidRequest
    );
}

// ---- streams ----

#[test]
fn text_stream_decodes() {
    assert_eq!(
        decode_stream(&fixture("stream_text.sse")),
        [
            StreamEvent::Start {
                id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY".into(),
                model: "claude-sonnet-4-5-20250929".into()
            },
            StreamEvent::Usage(usage(35, 1, 10, 0, 0)),
            StreamEvent::TextStart { index: 0 },
            StreamEvent::TextDelta {
                index: 0,
                text: "Hello".into()
            },
            StreamEvent::TextDelta {
                index: 0,
                text: ", naïve wörld 👋".into()
            },
            StreamEvent::BlockStop { index: 0 },
            StreamEvent::Usage(usage(0, 15, 0, 0, 0)),
            StreamEvent::Stop(StopReason::End),
            StreamEvent::End,
        ]
    );
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

#[test]
fn tool_stream_decodes_fragments_as_they_arrive() {
    assert_eq!(decode_stream(&fixture("stream_tools.sse")), tool_events());
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

#[test]
fn thinking_stream_decodes() {
    assert_eq!(
        decode_stream(&fixture("stream_thinking.sse")),
        thinking_events()
    );
}

#[test]
fn mid_stream_error_decodes_as_the_providers_error() {
    let events = decode_stream(&fixture("stream_error.sse"));
    assert_eq!(
        events[events.len() - 2..],
        [
            StreamEvent::Error(ProviderError {
                status: 529,
                kind: ErrorKind::Overloaded,
                message: "Overloaded".into()
            }),
            StreamEvent::End,
        ]
    );
    assert_eq!(
        events[..4],
        [
            StreamEvent::Start {
                id: "msg_01ErrStream".into(),
                model: "claude-sonnet-4-5-20250929".into()
            },
            StreamEvent::Usage(usage(9, 1, 0, 0, 0)),
            StreamEvent::TextStart { index: 0 },
            StreamEvent::TextDelta {
                index: 0,
                text: "Once upon".into()
            },
        ]
    );
}

#[test]
fn a_cut_stream_ends_in_an_error() {
    let whole = fixture("stream_text.sse");
    let cut = &whole[..whole.len() / 2];
    let events = decode_stream(cut);
    assert!(matches!(
        &events[events.len() - 2..],
        [
            StreamEvent::Error(ProviderError {
                kind: ErrorKind::Server,
                ..
            }),
            StreamEvent::End
        ]
    ));
}

#[test]
fn fail_server_tool_stream_is_refused() {
    let mut splitter = SseSplitter::new();
    let mut decoder = Decoder::default();
    let results: Vec<_> = splitter
        .feed(&fixture("fail_server_tool_stream.sse"))
        .iter()
        .map(|event| decoder.event(event))
        .collect();
    assert!(results[0].is_ok());
    assert_eq!(results[1], Err(RouteError::unsupported("server tool use")));
}

#[test]
fn streams_round_trip_through_the_encoder() {
    let request = ChatRequest {
        model: "claude-haiku-4-5".into(),
        stream: true,
        ..Default::default()
    };
    for (name, events) in [
        ("stream_tools.sse", tool_events()),
        ("stream_thinking.sse", thinking_events()),
    ] {
        let bytes = encode_stream(&request, &events);
        assert_eq!(decode_stream(&bytes), events, "{name}");
    }
    let error_events = decode_stream(&fixture("stream_error.sse"));
    assert_eq!(
        decode_stream(&encode_stream(&request, &error_events)),
        error_events
    );
}

#[test]
fn the_encoder_writes_the_sequence_the_sdk_accumulates() {
    let request = ChatRequest {
        model: "claude-from-app".into(),
        ..Default::default()
    };
    // An OpenAI-style source: no input count up front, usage after the finish reason,
    // two calls whose fragments interleave, a Gemini signature on one call.
    let events = [
        StreamEvent::Start {
            id: "chatcmpl-1".into(),
            model: "gpt-4.1".into(),
        },
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_a".into(),
            name: "f".into(),
            signature: Some(gemini("s1")),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"x\":".into(),
        },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "call_b".into(),
            name: "g".into(),
            signature: None,
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "1}".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: "{}".into(),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::Stop(StopReason::ToolUse),
        StreamEvent::Usage(usage(50, 7, 20, 0, 3)),
        StreamEvent::End,
    ];
    let pairs = sse_pairs(&encode_stream(&request, &events));
    let names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    for (name, data) in &pairs {
        assert_eq!(data["type"], json!(name));
    }
    assert_eq!(
        pairs[0].1,
        json!({"type": "message_start", "message": {
            "id": "chatcmpl-1", "type": "message", "role": "assistant", "model": "gpt-4.1",
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 0, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0, "output_tokens": 0}}})
    );
    assert_eq!(
        pairs[1].1["content_block"],
        json!({"type": "tool_use", "id": ir::id_with_token("call_a", &gemini("s1")),
               "name": "f", "input": {}})
    );
    // The late fragment of the first call still goes to index 0.
    assert_eq!(
        pairs[5].1,
        json!({"type": "content_block_delta", "index": 0,
               "delta": {"type": "input_json_delta", "partial_json": "1}"}})
    );
    assert_eq!(
        pairs[8].1,
        json!({"type": "message_delta",
               "delta": {"stop_reason": "tool_use", "stop_sequence": null},
               "usage": {"input_tokens": 30, "cache_creation_input_tokens": 0,
                         "cache_read_input_tokens": 20, "output_tokens": 7,
                         "output_tokens_details": {"thinking_tokens": 3}}})
    );
}

#[test]
fn the_encoder_puts_an_early_input_count_in_message_start() {
    let request = ChatRequest::default();
    let bytes = encode_stream(
        &request,
        &[
            StreamEvent::Start {
                id: "msg_x".into(),
                model: "m".into(),
            },
            StreamEvent::Usage(usage(40, 0, 0, 30, 0)),
            StreamEvent::TextStart { index: 0 },
        ],
    );
    let pairs = sse_pairs(&bytes);
    assert_eq!(
        pairs[0].1["message"]["usage"],
        json!({"input_tokens": 10, "cache_creation_input_tokens": 30,
               "cache_read_input_tokens": 0, "output_tokens": 0})
    );
}

#[test]
fn the_encoder_raises_errors_the_sdk_way() {
    let request = ChatRequest::default();
    let error = ProviderError {
        status: 429,
        kind: ErrorKind::RateLimited,
        message: "slow down".into(),
    };
    let bytes = encode_stream(
        &request,
        &[
            StreamEvent::Start {
                id: "msg_x".into(),
                model: "m".into(),
            },
            StreamEvent::TextStart { index: 0 },
            StreamEvent::Error(error),
            StreamEvent::End,
        ],
    );
    let pairs = sse_pairs(&bytes);
    assert_eq!(
        pairs.last().unwrap(),
        &(
            "error".to_string(),
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})
        )
    );
    // Ended without a stop reason: an error, never a silently complete answer.
    let cut = encode_stream(
        &request,
        &[StreamEvent::TextStart { index: 0 }, StreamEvent::End],
    );
    let pairs = sse_pairs(&cut);
    assert_eq!(pairs.last().unwrap().0, "error");
    assert_eq!(pairs.last().unwrap().1["error"]["type"], json!("api_error"));
}

#[test]
fn the_translator_serves_an_anthropic_app_from_an_anthropic_provider() {
    let request = anthropic::decode_request("messages", &fixture("request.json")).unwrap();
    let mut translator =
        route::StreamTranslator::new(Dialect::Anthropic, Dialect::Anthropic, &request);
    let fixture = fixture("stream_thinking.sse");
    let mut out = Vec::new();
    for piece in fixture.chunks(7) {
        out.extend(translator.feed(piece));
    }
    out.extend(translator.finish());
    assert_eq!(decode_stream(&out), thinking_events());
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
