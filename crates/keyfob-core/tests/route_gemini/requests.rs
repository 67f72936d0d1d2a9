//! Requests: decoded field by field, encoded, round trips, refusals.

use super::*;

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
