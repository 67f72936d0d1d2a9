//! Requests: decoded field by field, encoded, round trips, refusals.

use super::*;

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
