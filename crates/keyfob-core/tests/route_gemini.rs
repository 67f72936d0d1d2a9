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

// ---- requests ----

#[test]
fn full_request_decodes_field_by_field() {
    let req = gemini::decode_request(STREAM, &fixture("request_full.json")).expect("decodes");
    assert_eq!(req.model, "gemini-2.5-flash");
    assert!(req.stream);
    assert_eq!(req.system, ["You are terse.", "Use tools for arithmetic."]);
    assert_eq!(req.messages.len(), 5);
    assert_eq!(req.messages[0].role, Role::User);
    assert_eq!(
        req.messages[0].parts[1],
        Part::Image(Image::Base64 {
            media_type: "image/png".into(),
            data: PNG.into()
        })
    );
    assert_eq!(
        req.messages[1],
        Message {
            role: Role::Assistant,
            parts: vec![
                Part::Thinking {
                    text: "The user wants two divisions.".into(),
                    signature: None
                },
                Part::ToolCall {
                    id: "call_1".into(),
                    name: "customDivide".into(),
                    arguments: r#"{"denominator":2,"numerator":100}"#.into(),
                    signature: Some(gemini_sig(SIG1)),
                },
                Part::ToolCall {
                    id: "call_2".into(),
                    name: "getWeather".into(),
                    arguments: r#"{"city":"Berlin"}"#.into(),
                    signature: None,
                },
            ]
        }
    );
    // Answers without ids find their calls by name, in order.
    assert_eq!(
        req.messages[2].parts,
        [
            Part::ToolResult {
                call_id: "call_2".into(),
                name: Some("getWeather".into()),
                content: vec![text("12 °C, light rain")],
                is_error: false,
            },
            Part::ToolResult {
                call_id: "call_1".into(),
                name: Some("customDivide".into()),
                content: vec![text("50")],
                is_error: false,
            },
        ]
    );
    assert_eq!(req.messages[4].parts, [text("Divide again, please.")]);
    assert_eq!(
        req.tools,
        [
            ToolDef {
                name: "customDivide".into(),
                description: Some("Custom divide function".into()),
                parameters: json!({"type": "object", "properties": {
                    "numerator": {"type": "number"}, "denominator": {"type": "number"}
                }, "required": ["numerator", "denominator"]}),
            },
            ToolDef {
                name: "getWeather".into(),
                description: Some("Current weather for a city".into()),
                parameters: json!({"type": "object", "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
                }, "required": ["city"], "additionalProperties": false}),
            },
        ]
    );
    assert_eq!(
        req.tool_choice,
        Some(ToolChoice::Named("customDivide".into()))
    );
    assert_eq!(req.max_output_tokens, Some(2048));
    assert_eq!(req.temperature, Some(0.2));
    assert_eq!(req.top_p, Some(0.9));
    assert_eq!(req.stop, ["END"]);
    assert_eq!(
        req.reasoning,
        Some(Reasoning {
            effort: None,
            budget_tokens: Some(1024),
            include_thoughts: true
        })
    );
    assert_eq!(req.response_format, None);
}

#[test]
fn snake_case_request_decodes() {
    let req = gemini::decode_request(UNARY, &fixture("request_snake_case.json")).expect("decodes");
    assert!(!req.stream);
    assert_eq!(req.system, ["Answer in JSON."]);
    assert_eq!(req.tools[0].name, "noop");
    assert_eq!(
        req.tools[0].parameters,
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(req.tool_choice, Some(ToolChoice::None));
    assert_eq!(req.max_output_tokens, Some(256));
    assert_eq!(
        req.response_format,
        Some(ResponseFormat::JsonSchema {
            name: "response".into(),
            schema: json!({"type": "array", "items": {"type": "string"}, "minItems": 2}),
            strict: true,
        })
    );
    assert_eq!(
        req.reasoning,
        Some(Reasoning {
            effort: Some(Effort::Low),
            budget_tokens: None,
            include_thoughts: false
        })
    );
}

#[test]
fn endpoints_say_model_and_stream() {
    let body = br#"{"contents":[]}"#;
    assert_eq!(
        gemini::decode_request("models/x:streamGenerateContent", body),
        Err(RouteError::unsupported(
            "streamGenerateContent without alt=sse"
        ))
    );
    assert!(matches!(
        gemini::decode_request("models/x:countTokens", body),
        Err(RouteError::Unsupported(_))
    ));
    let req = gemini::decode_request("models/gemini-3-pro-preview:generateContent", body)
        .expect("decodes");
    assert_eq!(
        (req.model.as_str(), req.stream),
        ("gemini-3-pro-preview", false)
    );
}

#[test]
fn fail_requests_are_refused_with_their_reason() {
    let unsupported = [
        ("fail_top_k.json", "topK"),
        ("fail_candidate_count.json", "candidateCount"),
        ("fail_seed.json", "seed"),
        ("fail_google_search.json", "googleSearch"),
        ("fail_code_execution.json", "codeExecution"),
        ("fail_url_context.json", "urlContext"),
        ("fail_cached_content.json", "cachedContent"),
        ("fail_unknown_field.json", "request.labels"),
        (
            "fail_audio_output.json",
            "responseModalities other than TEXT",
        ),
        (
            "fail_allowed_names.json",
            "allowedFunctionNames with several names",
        ),
        ("fail_pdf_inline.json", "inlineData application/pdf"),
        ("fail_files_api_uri.json", "Gemini file URI"),
        ("fail_executable_code.json", "executableCode"),
        (
            "fail_unmatched_response.json",
            "functionResponse without a matching functionCall",
        ),
        (
            "fail_validated_mode.json",
            "functionCallingConfig mode VALIDATED",
        ),
    ];
    for (name, feature) in unsupported {
        assert_eq!(
            gemini::decode_request(UNARY, &fixture(name)),
            Err(RouteError::unsupported(feature)),
            "{name}"
        );
    }
    for name in ["fail_not_json.json", "fail_two_kinds_in_part.json"] {
        assert!(
            matches!(
                gemini::decode_request(UNARY, &fixture(name)),
                Err(RouteError::Malformed {
                    dialect: Dialect::Gemini,
                    ..
                })
            ),
            "{name}"
        );
    }
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

#[test]
fn requests_encode_as_gemini_expects() {
    let encoded = gemini::encode_request(&openai_style_request()).expect("encodes");
    assert_eq!(
        encoded.endpoint,
        "models/gemini-3-flash-preview:streamGenerateContent?alt=sse"
    );
    assert_eq!(
        body_json(&encoded.body),
        json!({
            "contents": [
                {"role": "user", "parts": [
                    {"text": "Weather in Paris?"},
                    {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}
                ]},
                {"role": "model", "parts": [
                    {"functionCall": {"id": "call_abc", "name": "get_weather", "args": {"city": "Paris"}},
                     "thoughtSignature": SIG1}
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"id": "call_abc", "name": "get_weather", "response": {"error": "rain"}}}
                ]}
            ],
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "tools": [{"functionDeclarations": [
                {"name": "get_weather", "description": "Weather", "parameters": {
                    "type": "OBJECT",
                    "properties": {
                        "city": {"type": "STRING", "example": "Paris"},
                        "days": {"type": "INTEGER", "nullable": true}
                    },
                    "required": ["city"]
                }},
                {"name": "now"}
            ]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
            "generationConfig": {
                "maxOutputTokens": 100,
                "responseMimeType": "application/json",
                "thinkingConfig": {"includeThoughts": true, "thinkingLevel": "HIGH"}
            }
        })
    );
}

#[test]
fn encoding_refuses_what_gemini_cannot_say() {
    let mut req = openai_style_request();
    req.model = "gemini-2.5-pro".into();
    let body = body_json(&gemini::encode_request(&req).expect("encodes").body);
    assert_eq!(
        body["generationConfig"]["thinkingConfig"],
        json!({"includeThoughts": true, "thinkingBudget": 24576})
    );

    let mut serial = openai_style_request();
    serial.parallel_tool_calls = Some(false);
    assert_eq!(
        gemini::encode_request(&serial),
        Err(RouteError::unsupported("parallel_tool_calls false"))
    );
    let mut by_url = openai_style_request();
    by_url.messages[0].parts[1] = Part::Image(Image::Url("https://x.test/cat.png".into()));
    assert_eq!(
        gemini::encode_request(&by_url),
        Err(RouteError::unsupported("image by URL"))
    );
    let mut nameless = openai_style_request();
    nameless.messages.remove(1);
    assert_eq!(
        gemini::encode_request(&nameless),
        Err(RouteError::unsupported(
            "tool result without its function name"
        ))
    );
    let mut long = openai_style_request();
    long.tools[1].name = "n".repeat(65);
    assert!(matches!(
        gemini::encode_request(&long),
        Err(RouteError::Unsupported(_))
    ));
    let mut recursive = openai_style_request();
    recursive.tools[0].parameters = json!({"$ref": "#/$defs/n", "$defs": {"n": {
        "type": "object", "properties": {"next": {"$ref": "#/$defs/n"}}}}});
    assert_eq!(
        gemini::encode_request(&recursive),
        Err(RouteError::unsupported(
            "tool schema recursive $ref for Gemini"
        ))
    );
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

#[test]
fn requests_round_trip() {
    let ir = gemini_exact_request();
    let encoded = gemini::encode_request(&ir).expect("encodes");
    assert_eq!(encoded.endpoint, UNARY);
    assert_eq!(
        gemini::decode_request(&encoded.endpoint, &encoded.body),
        Ok(ir)
    );
}

// ---- answers ----

#[test]
fn text_answer_decodes() {
    let r = gemini::decode_response(&fixture("response_text.json")).expect("decodes");
    assert_eq!(r.id, "zi77aPQDsqLV7w_tk62YBQ");
    assert_eq!(r.model, "gemini-2.5-flash");
    assert_eq!(
        r.parts,
        [
            Part::Thinking {
                text: "**Summing 1..100**\n\nGauss pairs the ends: 50 pairs of 101.".into(),
                signature: None
            },
            text("The sum is 5050."),
        ]
    );
    assert_eq!(r.stop, Some(StopReason::End));
    assert_eq!(
        r.usage,
        Usage {
            input: 1017,
            output: 43,
            cache_read: 1000,
            cache_write: 0,
            reasoning: 36
        }
    );
}

#[test]
fn parallel_call_answer_decodes_with_distinct_ids() {
    let r = gemini::decode_response(&fixture("response_tool_calls.json")).expect("decodes");
    assert_eq!(
        r.parts,
        [
            Part::ToolCall {
                id: "call_xtSfaIRs8_Sf2Q-skYe5Dg_1".into(),
                name: "customDivide".into(),
                arguments: r#"{"denominator":2,"numerator":10}"#.into(),
                signature: Some(gemini_sig(SIG1)),
            },
            Part::ToolCall {
                id: "call_xtSfaIRs8_Sf2Q-skYe5Dg_2".into(),
                name: "customDivide".into(),
                arguments: r#"{"denominator":2,"numerator":42}"#.into(),
                signature: None,
            },
        ]
    );
    assert_eq!(r.stop, Some(StopReason::ToolUse));
    assert_eq!(
        r.usage,
        Usage {
            input: 90,
            output: 100,
            cache_read: 0,
            cache_write: 0,
            reasoning: 64
        }
    );
}

#[test]
fn calls_without_ids_or_response_id_are_numbered() {
    let body = json!({"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"name": "f", "args": {}}},
        {"functionCall": {"name": "f", "args": {"x": 1}}}
    ]}, "finishReason": "STOP"}]});
    let r = gemini::decode_response(body.to_string().as_bytes()).expect("decodes");
    let ids: Vec<&str> = r
        .parts
        .iter()
        .map(|p| match p {
            Part::ToolCall { id, .. } => id.as_str(),
            _ => "",
        })
        .collect();
    assert_eq!(ids, ["call_1", "call_2"]);
    let failed = json!({"candidates": [{"finishReason": "OTHER", "index": 0}]});
    assert_eq!(
        gemini::decode_response(failed.to_string().as_bytes()),
        Err(RouteError::unsupported("finishReason OTHER"))
    );
}

#[test]
fn blocked_prompt_is_a_content_filter_stop() {
    let r = gemini::decode_response(&fixture("response_blocked.json")).expect("decodes");
    assert!(r.parts.is_empty());
    assert_eq!(r.stop, Some(StopReason::ContentFilter));
    assert_eq!(r.usage.input, 12);
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

#[test]
fn answers_encode_as_gemini_sends_them() {
    let body = body_json(&gemini::encode_response(&sample_response()).expect("encodes"));
    let parts = &body["candidates"][0]["content"]["parts"];
    assert_eq!(parts[0]["thought"], json!(true));
    assert_eq!(parts[0]["text"], json!("think"));
    assert!(parts[0]["thoughtSignature"].is_string());
    assert_eq!(
        parts[3],
        json!({"functionCall": {"id": "toolu_1", "name": "look", "args": {"zoom": 2}}})
    );
    assert_eq!(
        parts[4],
        json!({"functionCall": {"id": "toolu_2", "name": "look", "args": {}}})
    );
    assert_eq!(body["candidates"][0]["finishReason"], json!("STOP"));
    assert_eq!(
        body["usageMetadata"],
        json!({"promptTokenCount": 120, "candidatesTokenCount": 30, "cachedContentTokenCount": 100,
               "thoughtsTokenCount": 20, "totalTokenCount": 170})
    );
    assert_eq!(body["modelVersion"], json!("claude-sonnet-4-5"));
    assert_eq!(body["responseId"], json!("msg_01"));
}

#[test]
fn answers_round_trip() {
    let mut r = sample_response();
    r.parts[4] = Part::ToolCall {
        id: "toolu_2".into(),
        name: "look".into(),
        arguments: "{}".into(),
        signature: None,
    };
    let back = gemini::decode_response(&gemini::encode_response(&r).expect("encodes"));
    assert_eq!(back, Ok(r));
}

/// An Anthropic signature given to a Gemini app comes back to Anthropic next turn.
#[test]
fn a_foreign_signature_returns_through_a_gemini_app() {
    let answer = body_json(&gemini::encode_response(&sample_response()).expect("encodes"));
    let content = answer["candidates"][0]["content"].clone();
    let next = json!({"contents": [
        {"role": "user", "parts": [{"text": "look"}]},
        content,
        {"role": "user", "parts": [
            {"functionResponse": {"id": "toolu_1", "name": "look", "response": {"output": "cat"}}},
            {"functionResponse": {"name": "look", "response": {"output": "dog"}}}
        ]}
    ]});
    let req = gemini::decode_request(UNARY, next.to_string().as_bytes()).expect("decodes");
    assert_eq!(
        req.messages[1].parts,
        sample_response().parts[..3]
            .iter()
            .cloned()
            .chain([
                Part::ToolCall {
                    id: "toolu_1".into(),
                    name: "look".into(),
                    arguments: r#"{"zoom":2}"#.into(),
                    signature: None
                },
                Part::ToolCall {
                    id: "toolu_2".into(),
                    name: "look".into(),
                    arguments: "{}".into(),
                    signature: None
                },
            ])
            .collect::<Vec<_>>()
    );
    let ids: Vec<&str> = req.messages[2]
        .parts
        .iter()
        .map(|p| match p {
            Part::ToolResult { call_id, .. } => call_id.as_str(),
            _ => "",
        })
        .collect();
    assert_eq!(ids, ["toolu_1", "toolu_2"]);
    // Such a token is never sent to Gemini itself.
    let mut upstream = req.clone();
    upstream.model = "gemini-2.5-flash".into();
    let body = body_json(&gemini::encode_request(&upstream).expect("encodes").body);
    assert_eq!(
        body["contents"][1]["parts"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(body["contents"][1]["parts"][0], json!({"text": "Calling."}));
}

#[test]
fn a_token_on_a_call_id_becomes_the_signature() {
    let id = id_with_token("toolu_9", &gemini_sig(SIG1));
    let body = json!({"contents": [{"role": "model", "parts": [
        {"functionCall": {"id": id, "name": "f", "args": {}}}]}]});
    let req = gemini::decode_request(UNARY, body.to_string().as_bytes()).expect("decodes");
    assert_eq!(
        req.messages[0].parts[0],
        Part::ToolCall {
            id: "toolu_9".into(),
            name: "f".into(),
            arguments: "{}".into(),
            signature: Some(gemini_sig(SIG1)),
        }
    );
}

// ---- errors ----

#[test]
fn error_bodies_decode_by_kind() {
    let cases = [
        ("error_400.json", 400, ErrorKind::InvalidRequest),
        ("error_400_api_key.json", 400, ErrorKind::Authentication),
        ("error_403.json", 403, ErrorKind::PermissionDenied),
        ("error_404.json", 404, ErrorKind::NotFound),
        ("error_429.json", 429, ErrorKind::RateLimited),
        ("error_500.json", 500, ErrorKind::Server),
        ("error_503.json", 503, ErrorKind::Overloaded),
    ];
    for (name, status, kind) in cases {
        let body = fixture(name);
        let error = gemini::decode_error(status, &body);
        assert_eq!((error.status, error.kind), (status, kind), "{name}");
        let value = body_json(&body);
        let inner = value.get(0).unwrap_or(&value);
        assert_eq!(
            Some(error.message.as_str()),
            inner["error"]["message"].as_str(),
            "{name}"
        );
    }
    let framed = gemini::decode_error(
        429,
        br#"data: {"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}"#,
    );
    assert_eq!(
        (framed.kind, framed.message.as_str()),
        (ErrorKind::RateLimited, "quota")
    );
    let plain = gemini::decode_error(502, b"Bad Gateway");
    assert_eq!(
        (plain.kind, plain.message.as_str()),
        (ErrorKind::Server, "Bad Gateway")
    );
}

#[test]
fn errors_encode_with_code_message_status() {
    let cases = [
        (ErrorKind::InvalidRequest, 400, "INVALID_ARGUMENT"),
        (ErrorKind::Authentication, 401, "UNAUTHENTICATED"),
        (ErrorKind::PermissionDenied, 403, "PERMISSION_DENIED"),
        (ErrorKind::NotFound, 404, "NOT_FOUND"),
        (ErrorKind::RateLimited, 429, "RESOURCE_EXHAUSTED"),
        (ErrorKind::Overloaded, 529, "UNAVAILABLE"),
        (ErrorKind::Server, 500, "INTERNAL"),
    ];
    for (kind, status, name) in cases {
        let error = ProviderError {
            status,
            kind,
            message: "nope".into(),
        };
        let body = gemini::encode_error(&error);
        assert_eq!(
            body_json(&body),
            json!({"error": {"code": status, "message": "nope", "status": name}})
        );
        assert_eq!(gemini::decode_error(status, &body), error);
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

#[test]
fn text_stream_decodes() {
    use StreamEvent::*;
    assert_eq!(
        decode_stream(&fixture("stream_text.sse")),
        Ok(vec![
            start(),
            TextStart { index: 0 },
            TextDelta {
                index: 0,
                text: "Der".into()
            },
            TextDelta {
                index: 0,
                text: " Bär brummt — 熊".into()
            },
            TextDelta {
                index: 0,
                text: ".".into()
            },
            BlockStop { index: 0 },
            Usage(keyfob_core::route::ir::Usage {
                input: 9,
                output: 1020,
                cache_read: 0,
                cache_write: 0,
                reasoning: 1000
            }),
            Stop(StopReason::End),
            End,
        ])
    );
}

#[test]
fn parallel_call_stream_decodes_whole_calls() {
    use StreamEvent::*;
    let call = |index: usize, id: &str, name: &str, args: &str, sig: Option<Opaque>| {
        vec![
            ToolCallStart {
                index,
                id: id.into(),
                name: name.into(),
                signature: sig,
            },
            ToolCallDelta {
                index,
                arguments: args.into(),
            },
            BlockStop { index },
        ]
    };
    let mut want = vec![start()];
    want.extend(call(
        0,
        "call_mKrGaPnmOI6Uz7IP_Yq3iAs_1",
        "customDivide",
        r#"{"denominator":2,"numerator":10}"#,
        Some(gemini_sig(SIG1)),
    ));
    want.extend(call(
        1,
        "call_mKrGaPnmOI6Uz7IP_Yq3iAs_2",
        "getWeather",
        r#"{"city":"Zürich"}"#,
        None,
    ));
    want.extend(call(
        2,
        "call_mKrGaPnmOI6Uz7IP_Yq3iAs_3",
        "getWeather",
        r#"{"city":"Berlin"}"#,
        None,
    ));
    want.push(Usage(keyfob_core::route::ir::Usage {
        input: 90,
        output: 109,
        cache_read: 0,
        cache_write: 0,
        reasoning: 64,
    }));
    want.push(Stop(StopReason::ToolUse));
    want.push(End);
    assert_eq!(decode_stream(&fixture("stream_tool_calls.sse")), Ok(want));
}

#[test]
fn thinking_stream_decodes() {
    use StreamEvent::*;
    assert_eq!(
        decode_stream(&fixture("stream_thinking.sse")),
        Ok(vec![
            start(),
            ThinkingStart { index: 0 },
            ThinkingDelta {
                index: 0,
                text: "**Pairing the ends**\n\n".into()
            },
            ThinkingDelta {
                index: 0,
                text: "1+100, 2+99, … fifty pairs.".into()
            },
            BlockStop { index: 0 },
            TextStart { index: 1 },
            TextDelta {
                index: 1,
                text: "The sum is ".into()
            },
            TextDelta {
                index: 1,
                text: "5050.".into()
            },
            BlockStop { index: 1 },
            Usage(keyfob_core::route::ir::Usage {
                input: 17,
                output: 46,
                cache_read: 0,
                cache_write: 0,
                reasoning: 40
            }),
            Stop(StopReason::End),
            End,
        ])
    );
}

#[test]
fn mid_stream_errors_decode_as_errors() {
    use StreamEvent::*;
    let events = decode_stream(&fixture("stream_error.sse")).expect("decodes");
    assert_eq!(
        events[1..],
        [
            TextStart { index: 0 },
            TextDelta {
                index: 0,
                text: "Once upon".into()
            },
            Error(ProviderError {
                status: 503,
                kind: ErrorKind::Overloaded,
                message: "The model is overloaded. Please try again later.".into(),
            }),
            End,
        ]
    );
    // Gemini's own bare-JSON error is no SSE event: the cut-short stream still fails.
    let events = decode_stream(&fixture("stream_cut.sse")).expect("decodes");
    assert!(matches!(
        events[events.len() - 2..],
        [
            Error(ProviderError {
                status: 500,
                kind: ErrorKind::Server,
                ..
            }),
            End
        ]
    ));
    assert_eq!(
        decode_stream(&fixture("fail_stream_malformed_call.sse")),
        Err(RouteError::unsupported(
            "finishReason MALFORMED_FUNCTION_CALL"
        ))
    );
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

#[test]
fn streams_round_trip_through_the_encoder() {
    assert_eq!(
        decode_stream(&encode_events(&sample_events())),
        Ok(sample_events())
    );
}

#[test]
fn encoder_buffers_argument_fragments_into_one_call() {
    use StreamEvent::*;
    let bytes = encode_events(&[
        Start {
            id: "r".into(),
            model: "m".into(),
        },
        ToolCallStart {
            index: 0,
            id: "c".into(),
            name: "f".into(),
            signature: None,
        },
        ToolCallDelta {
            index: 0,
            arguments: r#"{"a":"#.into(),
        },
        ToolCallDelta {
            index: 0,
            arguments: "1}".into(),
        },
        BlockStop { index: 0 },
        Stop(StopReason::ToolUse),
        End,
    ]);
    let text = String::from_utf8(bytes).expect("utf-8");
    assert_eq!(
        text,
        concat!(
            r#"data: {"candidates":[{"content":{"parts":[{"functionCall":{"args":{"a":1},"id":"c","name":"f"}}],"role":"model"},"index":0}],"modelVersion":"m","responseId":"r"}"#,
            "\n\n",
            r#"data: {"candidates":[{"finishReason":"STOP","index":0}],"modelVersion":"m","responseId":"r"}"#,
            "\n\n"
        )
    );
}

#[test]
fn encoder_ends_an_error_as_gemini_does() {
    use StreamEvent::*;
    let bytes = encode_events(&[
        Start {
            id: "r".into(),
            model: "m".into(),
        },
        TextStart { index: 0 },
        TextDelta {
            index: 0,
            text: "Hi".into(),
        },
        Error(ProviderError {
            status: 429,
            kind: ErrorKind::RateLimited,
            message: "slow down".into(),
        }),
        End,
    ]);
    let text = String::from_utf8(bytes).expect("utf-8");
    let (chunk, error) = text.split_once("\n\n").expect("one chunk first");
    assert!(chunk.starts_with("data: {\"candidates\""));
    // Bare JSON, no `data:`: what @google/genai raises as ApiError.
    assert_eq!(
        body_json(error.as_bytes()),
        json!({"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}})
    );
}

#[test]
fn a_gemini_to_gemini_translation_keeps_the_stream() {
    let request = ChatRequest::default();
    let bytes = fixture("stream_tool_calls.sse");
    let mut translator = StreamTranslator::new(Dialect::Gemini, Dialect::Gemini, &request);
    let mut out = translator.feed(&bytes);
    out.extend(translator.finish());
    let want = decode_stream(&bytes).expect("decodes");
    // Calls keep the ids the first decoder gave them.
    assert_eq!(decode_stream(&out), Ok(want));
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

#[test]
fn settings_edge_cases() {
    let off = decode_with(json!({"generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}));
    assert_eq!(off.expect("decodes").reasoning, None);
    let dynamic = decode_with(json!({"generationConfig": {"thinkingConfig": {
        "thinkingBudget": -1, "includeThoughts": true}}}));
    assert_eq!(
        dynamic.expect("decodes").reasoning,
        Some(Reasoning {
            effort: None,
            budget_tokens: None,
            include_thoughts: true
        })
    );
    let every = decode_with(json!({
        "tools": [{"functionDeclarations": [{"name": "a"}, {"name": "b"}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["b", "a"]}}
    }));
    assert_eq!(
        every.expect("decodes").tool_choice,
        Some(ToolChoice::Required)
    );
    assert_eq!(
        decode_with(json!({"generationConfig": {"temperature": 1, "foo": 1}})),
        Err(RouteError::unsupported("generationConfig.foo"))
    );
    assert_eq!(
        decode_with(json!({"generationConfig": {"responseMimeType": "text/x.enum"}})),
        Err(RouteError::unsupported("responseMimeType text/x.enum"))
    );
    assert!(matches!(
        decode_with(json!({"generationConfig": {"thinkingConfig": {
            "thinkingBudget": 10, "thinkingLevel": "HIGH"}}})),
        Err(RouteError::Malformed { .. })
    ));
    assert!(matches!(
        decode_with(json!({"generationConfig": {"maxOutputTokens": 5, "max_output_tokens": 5}})),
        Err(RouteError::Malformed { .. })
    ));
    // safetySettings and serviceTier are dropped, not refused.
    let dropped = decode_with(json!({"safetySettings": [], "serviceTier": "flex"}));
    assert_eq!(dropped.expect("decodes").messages.len(), 1);
}

#[test]
fn a_text_stream_encodes_as_gemini_chunks() {
    use StreamEvent::*;
    let bytes = encode_events(&[
        Start {
            id: "r1".into(),
            model: "gpt-x".into(),
        },
        TextStart { index: 0 },
        TextDelta {
            index: 0,
            text: "Hel".into(),
        },
        TextDelta {
            index: 0,
            text: "lo".into(),
        },
        BlockStop { index: 0 },
        Stop(StopReason::MaxTokens),
        Usage(keyfob_core::route::ir::Usage {
            input: 5,
            output: 2,
            ..Default::default()
        }),
        End,
    ]);
    let text = String::from_utf8(bytes).expect("utf-8");
    let chunks: Vec<Value> = text
        .split("\n\n")
        .filter(|c| !c.is_empty())
        .map(|c| body_json(c.strip_prefix("data: ").expect("data line").as_bytes()))
        .collect();
    assert_eq!(
        chunks,
        [
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}, "index": 0}],
                   "modelVersion": "gpt-x", "responseId": "r1"}),
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "lo"}]}, "index": 0}],
                   "modelVersion": "gpt-x", "responseId": "r1"}),
            json!({"candidates": [{"finishReason": "MAX_TOKENS", "index": 0}],
                   "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7},
                   "modelVersion": "gpt-x", "responseId": "r1"}),
        ]
    );
}
