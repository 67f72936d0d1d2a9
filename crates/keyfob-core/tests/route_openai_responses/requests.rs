//! Requests: decoded field by field, encoded, round trips, refusals.

use super::*;

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
