//! Requests: decoded field by field, encoded, round trips, refusals.

use super::*;

#[test]
fn the_full_request_decodes_field_by_field() {
    let request = decode_request("chat/completions", fixture("request_full.json"))
        .expect("the request decodes");
    let expected = full_request();
    assert_eq!(request.model, expected.model);
    assert_eq!(request.system, expected.system);
    assert_eq!(request.messages.len(), expected.messages.len());
    for (got, want) in request.messages.iter().zip(&expected.messages) {
        assert_eq!(got, want);
    }
    assert_eq!(request.tools, expected.tools);
    assert_eq!(request.tool_choice, expected.tool_choice);
    assert_eq!(request.parallel_tool_calls, Some(true));
    // `max_completion_tokens` wins over the deprecated `max_tokens`.
    assert_eq!(request.max_output_tokens, Some(800));
    assert_eq!(request.temperature, Some(0.2));
    assert_eq!(request.top_p, Some(0.9));
    assert_eq!(request.stop, expected.stop);
    assert!(request.stream);
    assert!(request.stream_usage);
    assert_eq!(request.response_format, expected.response_format);
    assert_eq!(request.reasoning, expected.reasoning);
    assert_eq!(request, expected);
}

#[test]
fn the_full_request_encodes_as_chat_completions() {
    let encoded = encode_request(&full_request()).expect("the request encodes");
    assert_eq!(encoded.endpoint, "chat/completions");
    let expected = json!({
        "model": "gpt-4.1-mini",
        "messages": [
            { "role": "system", "content": "You are a travel assistant." },
            { "role": "system", "content": "Answer in French." },
            { "role": "system", "content": "Be brief." },
            { "role": "user", "content": "Bonjour !" },
            { "role": "assistant", "content": "Bonjour, comment puis-je aider ?" },
            { "role": "user", "content": [
                { "type": "text", "text": "What is the weather where these photos were taken?" },
                { "type": "image_url", "image_url": { "url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==" } },
                { "type": "image_url", "image_url": { "url": "https://example.com/paris.jpg" } },
            ] },
            { "role": "assistant", "content": null, "tool_calls": [
                { "id": "call_Ab12", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } },
                { "id": "call_Cd34", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Lyon\"}" } },
            ] },
            { "role": "tool", "tool_call_id": "call_Ab12", "content": "18°C, cloudy" },
            { "role": "tool", "tool_call_id": "call_Cd34", "content": "22°C, sunny" },
            { "role": "user", "content": "Merci. Et demain ?" },
        ],
        "tools": [
            { "type": "function", "function": {
                "name": "get_weather",
                "description": "Current weather for a city",
                "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] },
            } },
            { "type": "function", "function": { "name": "get_time", "parameters": { "type": "object", "properties": {} } } },
        ],
        "tool_choice": { "type": "function", "function": { "name": "get_weather" } },
        "parallel_tool_calls": true,
        "max_completion_tokens": 800,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["\n\n###"],
        "stream": true,
        "stream_options": { "include_usage": true },
        "response_format": { "type": "json_schema", "json_schema": {
            "name": "forecast",
            "schema": { "type": "object", "properties": { "summary": { "type": "string" } } },
            "strict": true,
        } },
        "reasoning_effort": "low",
    });
    assert_eq!(json_of(&encoded.body), expected);
}

#[test]
fn requests_round_trip() {
    let full = full_request();
    assert_eq!(
        decode_request(
            "chat/completions",
            &encode_request(&full).expect("the request encodes").body
        ),
        Ok(full)
    );
    let minimal = ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![Message {
            role: Role::User,
            parts: vec![text("Hi")],
        }],
        tool_choice: Some(ToolChoice::Required),
        response_format: Some(ResponseFormat::JsonObject),
        ..ChatRequest::default()
    };
    let body = encode_request(&minimal).expect("the request encodes").body;
    assert_eq!(
        json_of(&body),
        json!({
            "model": "gpt-4o-mini",
            "messages": [{ "role": "user", "content": "Hi" }],
            "tool_choice": "required",
            "response_format": { "type": "json_object" },
        })
    );
    assert_eq!(decode_request("chat/completions", &body), Ok(minimal));
}

#[test]
fn the_encoder_refuses_what_chat_cannot_say() {
    let base = ChatRequest {
        model: "gpt-4o".into(),
        ..ChatRequest::default()
    };
    let tool = |name: &str| ToolDef {
        name: name.into(),
        description: None,
        parameters: json!({ "type": "object" }),
    };
    let long = ChatRequest {
        tools: vec![tool(&"t".repeat(65))],
        ..base.clone()
    };
    assert_eq!(
        encode_request(&long),
        Err(unsupported("a tool name over 64 characters"))
    );
    let dotted = ChatRequest {
        tools: vec![tool("maps.search")],
        ..base.clone()
    };
    assert_eq!(
        encode_request(&dotted),
        Err(unsupported("a tool name outside [A-Za-z0-9_-]"))
    );
    assert!(encode_request(&ChatRequest {
        tools: vec![tool(&"t".repeat(64))],
        ..base.clone()
    })
    .is_ok());
    let budget = ChatRequest {
        reasoning: Some(Reasoning {
            budget_tokens: Some(4096),
            ..Reasoning::default()
        }),
        ..base.clone()
    };
    assert_eq!(
        encode_request(&budget),
        Err(unsupported("thinking budget_tokens"))
    );
    let image_result = ChatRequest {
        messages: vec![Message {
            role: Role::User,
            parts: vec![Part::ToolResult {
                call_id: "call_1".into(),
                name: None,
                content: vec![Part::Image(Image::Url("https://example.com/a.png".into()))],
                is_error: false,
            }],
        }],
        ..base.clone()
    };
    assert_eq!(
        encode_request(&image_result),
        Err(unsupported("a non-text tool result"))
    );
    let image_reply = ChatRequest {
        messages: vec![Message {
            role: Role::Assistant,
            parts: vec![Part::Image(Image::Url("https://example.com/a.png".into()))],
        }],
        ..base
    };
    assert_eq!(
        encode_request(&image_reply),
        Err(unsupported("an image in an assistant turn"))
    );
}

#[test]
fn a_token_on_an_app_call_id_comes_back_as_the_signature() {
    let id = ir::id_with_token("call_7", &gemini_token());
    let body = json!({
        "model": "gpt-4o",
        "messages": [
            { "role": "user", "content": "Weather?" },
            { "role": "assistant", "content": "", "reasoning_content": "Use the tool.", "tool_calls": [
                { "id": id, "type": "function", "function": { "name": "get_weather", "arguments": "{}" } },
            ] },
            { "role": "tool", "tool_call_id": id, "content": "sunny" },
        ],
    });
    let request = decode_request("chat/completions", body.to_string().as_bytes())
        .expect("the request decodes");
    assert_eq!(
        request.messages[1].parts,
        vec![
            Part::Thinking {
                text: "Use the tool.".into(),
                signature: None
            },
            Part::ToolCall {
                id: "call_7".into(),
                name: "get_weather".into(),
                arguments: "{}".into(),
                signature: Some(gemini_token()),
            },
        ]
    );
    assert_eq!(request.messages[2].parts, vec![result("call_7", "sunny")]);
}

#[test]
fn the_endpoint_must_be_chat_completions() {
    let error = decode_request("responses", fixture("request_full.json")).expect_err("refused");
    assert!(is_malformed(&error), "{error:?}");
}

#[test]
fn fail_fixtures_are_refused_exactly() {
    for (name, want) in FAIL_FIXTURES {
        let error = refusal_of(name);
        match want {
            Some(feature) => assert_eq!(error, unsupported(feature), "{name}"),
            None => assert!(is_malformed(&error), "{name}: {error:?}"),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn every_fixture_on_disk_is_tested() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/route/openai_chat");
    for entry in std::fs::read_dir(dir).expect("the fixture folder") {
        let name = entry
            .expect("a folder entry")
            .file_name()
            .into_string()
            .expect("a folder entry");
        if name == "README.md" {
            continue;
        }
        assert!(
            FIXTURES.iter().any(|(file, _)| *file == name),
            "{name} is not embedded"
        );
        if name.starts_with("fail_") {
            assert!(
                FAIL_FIXTURES.iter().any(|(file, _)| *file == name),
                "{name} has no verdict"
            );
        }
    }
    let readme = std::fs::read_to_string(format!("{dir}/README.md")).expect("README.md");
    for (name, _) in FIXTURES {
        assert!(readme.contains(name), "README.md does not name {name}");
    }
}

#[test]
fn the_encoder_writes_what_openai_node_reads() {
    let signed_id = ir::id_with_token("call_1", &gemini_token());
    let mut expected = vec![
        chunk(json!({ "role": "assistant", "content": "" }), Value::Null),
        chunk(json!({ "content": "Hi" }), Value::Null),
        // Tool calls are numbered among tool calls only, from 0.
        chunk(
            json!({ "tool_calls": [{ "index": 0, "id": signed_id, "type": "function",
                                     "function": { "name": "f", "arguments": "" } }] }),
            Value::Null,
        ),
        chunk(
            json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{}" } }] }),
            Value::Null,
        ),
        chunk(
            json!({ "tool_calls": [{ "index": 1, "id": "call_2", "type": "function",
                                     "function": { "name": "g", "arguments": "" } }] }),
            Value::Null,
        ),
        chunk(
            json!({ "tool_calls": [{ "index": 1, "function": { "arguments": "{\"a\":1}" } }] }),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
    ];
    let without_usage = frames(&encode_stream(&app_request(false), &two_call_events()));
    let mut plain = expected.clone();
    plain.push(json!("[DONE]"));
    assert_eq!(without_usage, plain);

    expected.push(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "gemini-2.5-flash",
        "choices": [],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 7,
            "total_tokens": 17,
            "prompt_tokens_details": { "cached_tokens": 4 },
            "completion_tokens_details": { "reasoning_tokens": 2 },
        },
    }));
    expected.push(json!("[DONE]"));
    assert_eq!(
        frames(&encode_stream(&app_request(true), &two_call_events())),
        expected
    );
}

#[test]
fn calls_without_index_or_id_get_distinct_ids() {
    // Some compatible servers send whole calls with neither `index` nor `id`.
    let stream = concat!(
        "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[",
        "{\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"},\"type\":\"function\"}]}}]}\n\n",
        "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[",
        "{\"id\":\"\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{}\"},\"type\":\"function\"}]}}]}\n\n",
        "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    let events = decode_stream(stream.as_bytes(), &[]).expect("the stream decodes");
    let ids: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::ToolCallStart { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, ["call_0", "call_1"]);
    // No usage came: the stop is said at `[DONE]`.
    assert_eq!(
        events[events.len() - 2],
        StreamEvent::Stop(StopReason::ToolUse)
    );
}

#[test]
fn the_translator_serves_a_chat_app_from_a_chat_provider() {
    let app = decode_request("chat/completions", fixture("request_full.json"))
        .expect("the request decodes");
    let mut translator = StreamTranslator::new(Dialect::OpenAiChat, Dialect::OpenAiChat, &app);
    let bytes = fixture("stream_tools.sse");
    let mut out = translator.feed(&bytes[..bytes.len() / 2]);
    out.extend(translator.feed(&bytes[bytes.len() / 2..]));
    out.extend(translator.finish());
    let frames = frames(&out);
    assert_eq!(frames.last(), Some(&json!("[DONE]")));
    assert_eq!(
        frames[frames.len() - 2]["usage"]["prompt_tokens"],
        json!(82)
    );
    assert_eq!(
        decode_stream(&out, &[]).expect("the stream decodes"),
        expected_stream("stream_tools.sse")
    );
}
