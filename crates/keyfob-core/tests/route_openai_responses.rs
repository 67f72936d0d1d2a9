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
        include_bytes!(concat!("data/route/openai_responses/", $name)).as_slice()
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

#[test]
fn the_request_fixture_decodes_field_by_field() {
    let request = decode_request("responses", fixture!("request.json")).expect("decodes");
    assert_eq!(request.model, "o4-mini");
    assert_eq!(
        request.system,
        vec!["You are a terse weather assistant.", "Answer in Celsius."]
    );
    let signed = own("rs_6820f383d7c08191846711c5df8233bc0ac5ba57aafcbac7 gAAAAABoIPOE6rIVY2-enc");
    assert_eq!(
        request.messages,
        vec![
            Message {
                role: Role::User,
                parts: vec![
                    text("What is in this picture, and what is the weather there?"),
                    Part::Image(Image::Url("https://example.com/paris.jpg".into())),
                    Part::Image(Image::Base64 {
                        media_type: "image/png".into(),
                        data: "iVBORw0KGgo=".into()
                    }),
                ],
            },
            Message {
                role: Role::Assistant,
                parts: vec![
                    thinking("**Identifying the city**", None),
                    thinking("The tower is the Eiffel Tower.", Some(signed)),
                    text("That is Paris. Let me check."),
                    call(
                        "call_Qk3iEchr5q2dbvVGCFSuBXuD",
                        "get_weather",
                        r#"{"city":"Paris"}"#
                    ),
                ],
            },
            Message {
                role: Role::User,
                parts: vec![Part::ToolResult {
                    call_id: "call_Qk3iEchr5q2dbvVGCFSuBXuD".into(),
                    name: None,
                    content: vec![text(r#"{"temp_c":18,"sky":"cloudy"}"#)],
                    is_error: false,
                }],
            },
            Message {
                role: Role::Assistant,
                parts: vec![text("It is 18 °C and cloudy in Paris.")],
            },
            Message {
                role: Role::User,
                parts: vec![text("And tomorrow?")],
            },
        ]
    );
    assert_eq!(
        request.tools,
        vec![
            ToolDef {
                name: "get_weather".into(),
                description: Some("Current weather for a city.".into()),
                parameters: weather_schema(),
            },
            ToolDef {
                name: "get_forecast".into(),
                description: None,
                parameters: json!({"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city", "days"], "additionalProperties": false}),
            },
        ]
    );
    assert_eq!(
        request.tool_choice,
        Some(ToolChoice::Named("get_forecast".into()))
    );
    assert_eq!(request.parallel_tool_calls, Some(false));
    assert_eq!(request.max_output_tokens, Some(2048));
    assert_eq!(request.temperature, Some(1.0));
    assert_eq!(request.top_p, Some(0.9));
    assert!(request.stop.is_empty());
    assert!(request.stream);
    assert!(!request.stream_usage);
    assert_eq!(
        request.response_format,
        Some(ResponseFormat::JsonSchema {
            name: "forecast".into(),
            schema: json!({"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"], "additionalProperties": false}),
            strict: true,
        })
    );
    assert_eq!(
        request.reasoning,
        Some(Reasoning {
            effort: Some(Effort::High),
            budget_tokens: None,
            include_thoughts: true
        })
    );
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

#[test]
fn a_request_encodes_to_the_expected_body() {
    let encoded = encode_request(&sample_request()).expect("encodes");
    assert_eq!(encoded.endpoint, "responses");
    let expected = json!({
        "model": "gpt-4.1",
        "instructions": "Be brief.",
        "input": [
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "Weather in Paris?"},
                {"type": "input_image", "image_url": "data:image/jpeg;base64,/9j/4AAQ", "detail": "auto"}
            ]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Need the tool."}], "encrypted_content": "gAAAenc"},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Thanks"}]}
        ],
        "tools": [{"type": "function", "name": "get_weather", "description": "Weather.", "parameters": weather_schema(), "strict": false}],
        "tool_choice": "required",
        "parallel_tool_calls": true,
        "max_output_tokens": 500,
        "temperature": 0.5,
        "text": {"format": {"type": "json_object"}},
        "reasoning": {"effort": "low", "summary": "auto"},
        "include": ["reasoning.encrypted_content"],
        "store": false,
        "stream": true
    });
    assert_eq!(json_of(&encoded.body), expected);
}

#[test]
fn a_request_survives_encode_then_decode() {
    let mut request = sample_request();
    assert_eq!(
        decode_request(
            "responses",
            &encode_request(&request).expect("encodes").body
        ),
        Ok(request.clone())
    );
    // Several system prompts travel as leading system messages, in order.
    request.system = vec!["One.".into(), "Two.".into()];
    request.tool_choice = Some(ToolChoice::Named("get_weather".into()));
    request.response_format = Some(ResponseFormat::JsonSchema {
        name: "w".into(),
        schema: weather_schema(),
        strict: true,
    });
    request.messages[1]
        .parts
        .insert(0, Part::RedactedThinking(own("rs_0 gAAAredacted")));
    assert_eq!(
        decode_request(
            "responses",
            &encode_request(&request).expect("encodes").body
        ),
        Ok(request)
    );
}

#[test]
fn the_decoded_fixture_encodes_back_and_reads_the_same() {
    let request = decode_request("responses", fixture!("request.json")).expect("decodes");
    let again = decode_request(
        "responses",
        &encode_request(&request).expect("encodes").body,
    );
    assert_eq!(again, Ok(request));
}

#[test]
fn foreign_signatures_never_reach_openai() {
    let gemini = Opaque {
        dialect: Dialect::Gemini,
        value: "CiQB-sig".into(),
    };
    let anthropic = Opaque {
        dialect: Dialect::Anthropic,
        value: "EqQBsig".into(),
    };
    let request = ChatRequest {
        model: "gpt-4.1".into(),
        messages: vec![Message {
            role: Role::Assistant,
            parts: vec![
                thinking("hmm", Some(anthropic.clone())),
                Part::RedactedThinking(anthropic),
                thinking("unsigned", None),
                Part::ToolCall {
                    id: "call_g".into(),
                    name: "f".into(),
                    arguments: "{}".into(),
                    signature: Some(gemini),
                },
            ],
        }],
        ..ChatRequest::default()
    };
    let body = json_of(&encode_request(&request).expect("encodes").body);
    assert_eq!(
        body["input"],
        json!([{"type": "function_call", "call_id": "call_g", "name": "f", "arguments": "{}"}])
    );
    assert!(!body.to_string().contains("sig"));
}

#[test]
fn a_signature_on_an_app_id_comes_back_split() {
    let gemini = Opaque {
        dialect: Dialect::Gemini,
        value: "CiQB-sig".into(),
    };
    let call_id = id_with_token("call_7", &gemini);
    let body = json!({"model": "m", "input": [
        {"type": "function_call", "call_id": call_id, "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": call_id, "output": [{"type": "input_text", "text": "ok"}]}
    ]});
    let request = decode_request("responses", body.to_string().as_bytes()).expect("decodes");
    assert_eq!(
        request.messages[0].parts,
        vec![Part::ToolCall {
            id: "call_7".into(),
            name: "f".into(),
            arguments: "{}".into(),
            signature: Some(gemini),
        }]
    );
    assert_eq!(
        request.messages[1].parts,
        vec![Part::ToolResult {
            call_id: "call_7".into(),
            name: None,
            content: vec![text("ok")],
            is_error: false,
        }]
    );
}

#[test]
fn the_encoder_refuses_what_openai_cannot_take() {
    let mut request = sample_request();
    request.stop = vec!["END".into()];
    assert_eq!(
        encode_request(&request),
        Err(RouteError::Unsupported("stop sequences".into()))
    );
    let mut request = sample_request();
    request.tools[0].name = "x".repeat(65);
    assert_eq!(
        encode_request(&request),
        Err(RouteError::Unsupported(
            "tool name over 64 characters".into()
        ))
    );
    let mut request = sample_request();
    request.reasoning = Some(Reasoning {
        effort: None,
        budget_tokens: Some(2048),
        include_thoughts: true,
    });
    assert_eq!(
        encode_request(&request),
        Err(RouteError::Unsupported("reasoning budget_tokens".into()))
    );
    let mut request = sample_request();
    request.messages[1]
        .parts
        .push(Part::Image(Image::Url("https://x/y.png".into())));
    assert_eq!(
        encode_request(&request),
        Err(RouteError::Unsupported(
            "image in an assistant message".into()
        ))
    );
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

#[test]
fn every_fail_fixture_is_refused_as_listed() {
    for (name, body, expect) in FAIL {
        let got = decode_request("responses", body);
        match expect {
            Expect::Unsupported(feature) => {
                assert_eq!(
                    got,
                    Err(RouteError::Unsupported(feature.to_string())),
                    "{name}"
                )
            }
            Expect::Malformed => assert!(
                matches!(
                    got,
                    Err(RouteError::Malformed {
                        dialect: Dialect::OpenAiResponses,
                        ..
                    })
                ),
                "{name}: {got:?}"
            ),
        }
    }
}

#[test]
fn another_endpoint_is_refused() {
    assert_eq!(
        decode_request("responses/compact", br#"{"model":"m","input":"hi"}"#),
        Err(RouteError::Unsupported("endpoint responses/compact".into()))
    );
}

// ---------------------------------------------------------------- responses

#[test]
fn a_text_response_decodes() {
    let response = decode_response(fixture!("response_text.json")).expect("decodes");
    assert_eq!(
        response,
        ChatResponse {
            id: "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b".into(),
            model: "gpt-4.1-2025-04-14".into(),
            parts: vec![text("In a peaceful grove beneath a silver moon, a unicorn named Lumina discovered a hidden pool that reflected the stars.")],
            stop: Some(StopReason::End),
            usage: Usage {
                input: 36,
                output: 87,
                cache_read: 0,
                cache_write: 0,
                reasoning: 0
            },
        }
    );
}

#[test]
fn a_tool_call_response_decodes() {
    let response = decode_response(fixture!("response_tools.json")).expect("decodes");
    assert_eq!(response.id, "resp_68a1f0b2c3d48190a1b2c3d4e5f60718");
    assert_eq!(response.model, "o4-mini-2025-04-16");
    assert_eq!(
        response.parts,
        vec![
            Part::RedactedThinking(own(
                "rs_68a1f0b3a0c08190b7e5a2f1c4d3e2b1 gAAAAABooF2z-enc-tools"
            )),
            call("call_12345xyz", "get_weather", r#"{"city":"Paris"}"#),
            call("call_67890abc", "get_weather", r#"{"city":"Bogotá"}"#),
        ]
    );
    assert_eq!(response.stop, Some(StopReason::ToolUse));
    assert_eq!(
        response.usage,
        Usage {
            input: 291,
            output: 215,
            cache_read: 128,
            cache_write: 0,
            reasoning: 128
        }
    );
}

#[test]
fn incomplete_and_refused_responses_keep_their_stop_reason() {
    let incomplete = decode_response(fixture!("response_incomplete.json")).expect("decodes");
    assert_eq!(incomplete.stop, Some(StopReason::MaxTokens));
    assert_eq!(incomplete.parts, vec![text("Once upon a")]);
    let refused = decode_response(fixture!("response_refusal.json")).expect("decodes");
    assert_eq!(refused.stop, Some(StopReason::Refusal));
    assert_eq!(
        refused.parts,
        vec![text("I'm sorry, I can't help with that.")]
    );
    let filtered = br#"{"id":"r","status":"incomplete","incomplete_details":{"reason":"content_filter"},"output":[]}"#;
    assert_eq!(
        decode_response(filtered).expect("decodes").stop,
        Some(StopReason::ContentFilter)
    );
    let searched = br#"{"id":"r","status":"completed","output":[{"type":"web_search_call","id":"ws_1","status":"completed"}]}"#;
    assert_eq!(
        decode_response(searched),
        Err(RouteError::Unsupported(
            "web_search_call output item".into()
        ))
    );
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

#[test]
fn a_response_encodes_to_the_expected_body() {
    let body = json_of(&encode_response(&sample_response()).expect("encodes"));
    let anthropic = Opaque {
        dialect: Dialect::Anthropic,
        value: "EqQBsig".into(),
    };
    let gemini = Opaque {
        dialect: Dialect::Gemini,
        value: "CiQB".into(),
    };
    let expected = json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "object": "response",
        "created_at": 0,
        "status": "completed",
        "error": null,
        "incomplete_details": null,
        "instructions": null,
        "metadata": {},
        "model": "claude-sonnet-4-5",
        "output": [
            {"type": "reasoning", "id": id_with_token("rs_0", &anthropic), "summary": [{"type": "summary_text", "text": "Let me think."}]},
            {"type": "reasoning", "id": id_with_token("rs_1_redacted", &anthropic), "summary": []},
            {"type": "message", "id": "msg_2", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "Checking both.", "annotations": []}]},
            {"type": "function_call", "id": "fc_3", "call_id": "toolu_01", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}", "status": "completed"},
            {"type": "function_call", "id": "fc_4", "call_id": id_with_token("call_2", &gemini), "name": "get_weather", "arguments": "{\"city\":\"Rome\"}", "status": "completed"}
        ],
        "parallel_tool_calls": true,
        "temperature": null,
        "tool_choice": "auto",
        "tools": [],
        "top_p": null,
        "usage": {
            "input_tokens": 100,
            "input_tokens_details": {"cached_tokens": 40},
            "output_tokens": 50,
            "output_tokens_details": {"reasoning_tokens": 20},
            "total_tokens": 150
        }
    });
    assert_eq!(body, expected);
}

#[test]
fn responses_survive_encode_then_decode() {
    let mut response = sample_response();
    // Responses has no cache-write count: it is part of the input tokens.
    response.usage.cache_write = 0;
    let again = decode_response(&encode_response(&response).expect("encodes"));
    assert_eq!(again, Ok(response));
    for fixture in [
        fixture!("response_text.json"),
        fixture!("response_tools.json"),
        fixture!("response_incomplete.json"),
        fixture!("response_refusal.json"),
    ] {
        let response = decode_response(fixture).expect("decodes");
        let again = decode_response(&encode_response(&response).expect("encodes"));
        assert_eq!(again, Ok(response));
    }
}

#[test]
fn a_refusal_without_text_still_says_refusal() {
    let response = ChatResponse {
        id: "r".into(),
        stop: Some(StopReason::Refusal),
        ..ChatResponse::default()
    };
    let body = json_of(&encode_response(&response).expect("encodes"));
    assert_eq!(
        body["output"][0]["content"],
        json!([{"type": "refusal", "refusal": ""}])
    );
    assert_eq!(
        decode_response(&encode_response(&response).expect("encodes"))
            .expect("decodes")
            .stop,
        Some(StopReason::Refusal)
    );
    let paused = ChatResponse {
        stop: Some(StopReason::Pause),
        ..response
    };
    assert_eq!(
        encode_response(&paused),
        Err(RouteError::Unsupported("stop reason pause_turn".into()))
    );
}

// ---------------------------------------------------------------- errors

#[test]
fn error_bodies_decode_by_status() {
    let cases: &[(u16, &[u8], ErrorKind, &str)] = &[
        (400, fixture!("error_400.json"), ErrorKind::InvalidRequest, "Invalid type for 'input': expected one of a string or array of input items, but got an object instead."),
        (401, fixture!("error_401.json"), ErrorKind::Authentication, "Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys."),
        (404, fixture!("error_404.json"), ErrorKind::NotFound, "The model `gpt-9` does not exist or you do not have access to it."),
        (429, fixture!("error_429.json"), ErrorKind::RateLimited, "Rate limit reached for gpt-4.1 in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000."),
        (500, fixture!("error_500.json"), ErrorKind::Server, "The server had an error while processing your request. Sorry about that!"),
        (503, fixture!("error_503.json"), ErrorKind::Overloaded, "The engine is currently overloaded, please try again later."),
    ];
    for (status, body, kind, message) in cases {
        assert_eq!(
            decode_error(*status, body),
            ProviderError {
                status: *status,
                kind: *kind,
                message: message.to_string()
            }
        );
    }
    let html = decode_error(502, b"<html>Bad gateway</html>");
    assert_eq!(
        (html.kind, html.message.as_str()),
        (ErrorKind::Server, "<html>Bad gateway</html>")
    );
}

#[test]
fn errors_encode_as_openai_bodies_and_read_back() {
    let error = ProviderError {
        status: 429,
        kind: ErrorKind::RateLimited,
        message: "Slow down.".into(),
    };
    assert_eq!(
        json_of(&encode_error(&error)),
        json!({"error": {"message": "Slow down.", "type": "requests", "param": null, "code": "rate_limit_exceeded"}})
    );
    for (status, kind) in [
        (400, ErrorKind::InvalidRequest),
        (401, ErrorKind::Authentication),
        (403, ErrorKind::PermissionDenied),
        (404, ErrorKind::NotFound),
        (429, ErrorKind::RateLimited),
        (503, ErrorKind::Overloaded),
        (500, ErrorKind::Server),
    ] {
        let error = ProviderError {
            status,
            kind,
            message: "m".into(),
        };
        assert_eq!(decode_error(status, &encode_error(&error)), error);
    }
}

// ---------------------------------------------------------------- streams

#[test]
fn the_text_stream_decodes() {
    assert_eq!(
        decode_stream(&[fixture!("stream_text.sse")]),
        vec![
            StreamEvent::Start {
                id: "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654".into(),
                model: "gpt-4.1-2025-04-14".into()
            },
            StreamEvent::TextStart { index: 0 },
            StreamEvent::TextDelta {
                index: 0,
                text: "Hi".into()
            },
            StreamEvent::TextDelta {
                index: 0,
                text: " there, ça va ?".into()
            },
            StreamEvent::BlockStop { index: 0 },
            StreamEvent::Usage(Usage {
                input: 37,
                output: 11,
                ..Usage::default()
            }),
            StreamEvent::Stop(StopReason::End),
            StreamEvent::End,
        ]
    );
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

#[test]
fn the_tool_stream_decodes_with_fragments_and_distinct_ids() {
    assert_eq!(
        decode_stream(&[fixture!("stream_tools.sse")]),
        tool_stream_events()
    );
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

#[test]
fn the_reasoning_stream_decodes_with_its_signature() {
    assert_eq!(
        decode_stream(&[fixture!("stream_reasoning.sse")]),
        reasoning_stream_events()
    );
}

#[test]
fn mid_stream_failures_become_errors() {
    let events = decode_stream(&[fixture!("stream_error.sse")]);
    assert_eq!(
        events[events.len() - 2..],
        [
            StreamEvent::Error(ProviderError {
                status: 429,
                kind: ErrorKind::RateLimited,
                message: "Rate limit reached for gpt-4.1 on tokens per min (TPM).".into()
            }),
            StreamEvent::End,
        ]
    );
    assert_eq!(
        events[1..3],
        [
            StreamEvent::TextStart { index: 0 },
            StreamEvent::TextDelta {
                index: 0,
                text: "Partial".into()
            }
        ]
    );
    assert_eq!(
        decode_stream(&[fixture!("stream_failed.sse")])[1..],
        [
            StreamEvent::Error(ProviderError {
                status: 500,
                kind: ErrorKind::Server,
                message: "The model produced invalid content.".into()
            }),
            StreamEvent::End,
        ]
    );
}

#[test]
fn a_stream_survives_encode_then_decode() {
    let request = sample_request();
    for events in [tool_stream_events(), reasoning_stream_events()] {
        let bytes = encode_stream(&request, &events);
        assert_eq!(decode_stream(&[&bytes]), events);
    }
    let anthropic = Opaque {
        dialect: Dialect::Anthropic,
        value: "EqQBsig".into(),
    };
    let mixed = vec![
        StreamEvent::Start {
            id: "msg_1".into(),
            model: "claude".into(),
        },
        StreamEvent::ThinkingStart { index: 0 },
        StreamEvent::ThinkingDelta {
            index: 0,
            text: "plan".into(),
        },
        StreamEvent::ThinkingSignature {
            index: 0,
            signature: anthropic.clone(),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::RedactedThinking {
            index: 1,
            data: anthropic,
        },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::TextStart { index: 2 },
        StreamEvent::TextDelta {
            index: 2,
            text: "No.".into(),
        },
        StreamEvent::BlockStop { index: 2 },
        StreamEvent::ToolCallStart {
            index: 3,
            id: "call_g".into(),
            name: "f".into(),
            signature: Some(Opaque {
                dialect: Dialect::Gemini,
                value: "CiQB".into(),
            }),
        },
        StreamEvent::ToolCallDelta {
            index: 3,
            arguments: "{}".into(),
        },
        StreamEvent::BlockStop { index: 3 },
        StreamEvent::Usage(Usage {
            input: 9,
            output: 3,
            cache_read: 2,
            cache_write: 0,
            reasoning: 1,
        }),
        StreamEvent::Stop(StopReason::ToolUse),
        StreamEvent::End,
    ];
    assert_eq!(decode_stream(&[&encode_stream(&request, &mixed)]), mixed);
    let error = vec![
        StreamEvent::Start {
            id: "r".into(),
            model: "m".into(),
        },
        StreamEvent::TextStart { index: 0 },
        StreamEvent::TextDelta {
            index: 0,
            text: "a".into(),
        },
        StreamEvent::Error(ProviderError {
            status: 503,
            kind: ErrorKind::Overloaded,
            message: "busy".into(),
        }),
        StreamEvent::End,
    ];
    assert_eq!(decode_stream(&[&encode_stream(&request, &error)]), error);
}

#[test]
fn usage_after_the_stop_reason_is_held_for_the_final_event() {
    let events = [
        StreamEvent::Start {
            id: "chatcmpl-1".into(),
            model: "gpt-4o".into(),
        },
        StreamEvent::TextStart { index: 0 },
        StreamEvent::TextDelta {
            index: 0,
            text: "Hi".into(),
        },
        StreamEvent::Stop(StopReason::MaxTokens),
        StreamEvent::Usage(Usage {
            input: 5,
            output: 1,
            ..Usage::default()
        }),
        StreamEvent::End,
    ];
    let bytes = encode_stream(&ChatRequest::default(), &events);
    let frames = frames(&bytes);
    let (kind, last) = frames.last().expect("a final event");
    assert_eq!(kind, "response.incomplete");
    assert_eq!(
        last["response"]["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(last["response"]["usage"]["input_tokens"], 5);
    assert_eq!(last["response"]["output"][0]["content"][0]["text"], "Hi");
    // The open text block was closed before the end.
    assert!(frames
        .iter()
        .any(|(kind, _)| kind == "response.output_item.done"));
}

#[test]
fn the_error_event_is_what_the_sdks_raise() {
    let events = [StreamEvent::Error(ProviderError {
        status: 429,
        kind: ErrorKind::RateLimited,
        message: "Slow down.".into(),
    })];
    let bytes = encode_stream(&ChatRequest::default(), &events);
    assert_eq!(
        frames(&bytes),
        vec![(
            "error".to_string(),
            json!({
                "type": "error",
                "sequence_number": 0,
                "code": "rate_limit_exceeded",
                "message": "Slow down.",
                "param": null,
                "error": {"message": "Slow down.", "type": "requests", "param": null, "code": "rate_limit_exceeded"}
            })
        )]
    );
    // Nothing follows an error.
    let mut encoder = Encoder::new(&ChatRequest::default());
    assert!(!encoder.event(&events[0]).is_empty());
    assert!(encoder.event(&StreamEvent::End).is_empty());
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

#[test]
fn the_encoded_stream_accumulates_like_openai_node() {
    let request = sample_request();
    let reasoning = encode_stream(&request, &reasoning_stream_events());
    let final_response = accumulate_like_openai_node(&reasoning);
    assert_eq!(final_response["status"], "completed");
    assert_eq!(
        final_response["usage"]["output_tokens_details"]["reasoning_tokens"],
        384
    );
    assert_eq!(
        final_response["output"][0]["encrypted_content"],
        "gAAAAABosqDE-enc-stream"
    );
    assert_eq!(
        final_response["output"][0]["id"],
        "rs_68b2a0c2e3f48190a7b6c5d4e3f2a1b0"
    );
    assert_eq!(
        final_response["output"][1]["content"][0]["text"],
        "There are 3 r's."
    );
    let tools = accumulate_like_openai_node(&encode_stream(&request, &tool_stream_events()));
    assert_eq!(tools["output"][1]["arguments"], "{\"city\":\"Bogotá\"}");
    assert_eq!(tools["output"][1]["call_id"], "call_Bogota2");
    // Interleaved parallel calls (as Chat Completions streams them) are valid too.
    let interleaved = [
        StreamEvent::Start {
            id: "chatcmpl-9".into(),
            model: "gpt-4o".into(),
        },
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_a".into(),
            name: "f".into(),
            signature: None,
        },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "call_b".into(),
            name: "f".into(),
            signature: None,
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: "{\"x\":2}".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"x\":1}".into(),
        },
        StreamEvent::Stop(StopReason::ToolUse),
        StreamEvent::End,
    ];
    let both = accumulate_like_openai_node(&encode_stream(&request, &interleaved));
    assert_eq!(both["output"][0]["arguments"], "{\"x\":1}");
    assert_eq!(both["output"][1]["arguments"], "{\"x\":2}");
    assert_eq!(both["output"][1]["status"], "completed");
}

#[test]
fn a_stream_translates_from_responses_to_responses() {
    let request = decode_request("responses", fixture!("request.json")).expect("decodes");
    let mut translator =
        StreamTranslator::new(Dialect::OpenAiResponses, Dialect::OpenAiResponses, &request);
    let mut out = translator.feed(fixture!("stream_reasoning.sse"));
    out.extend(translator.finish());
    assert_eq!(decode_stream(&[&out]), reasoning_stream_events());
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
