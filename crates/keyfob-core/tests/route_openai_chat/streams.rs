//! Streams: decoded, encoded, split anywhere.

use super::*;

#[test]
fn an_upstream_stream_always_asks_for_usage() {
    let request = ChatRequest {
        model: "gpt-4o".into(),
        stream: true,
        stream_usage: false,
        ..ChatRequest::default()
    };
    let body = json_of(&encode_request(&request).expect("the request encodes").body);
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["stream_options"], json!({ "include_usage": true }));
}

#[test]
fn other_dialects_reasoning_and_tokens_stay_out_of_an_upstream_request() {
    let request = ChatRequest {
        model: "gpt-4o".into(),
        messages: vec![
            Message {
                role: Role::User,
                parts: vec![text("Weather?")],
            },
            Message {
                role: Role::Assistant,
                parts: vec![
                    Part::Thinking {
                        text: "Need the tool.".into(),
                        signature: Some(Opaque {
                            dialect: Dialect::Anthropic,
                            value: "EqQBCkYIBxgCKkBsig".into(),
                        }),
                    },
                    Part::RedactedThinking(Opaque {
                        dialect: Dialect::Anthropic,
                        value: "EmwKAhgBEgy3va3pzix".into(),
                    }),
                    Part::ToolCall {
                        id: "call_0".into(),
                        name: "get_weather".into(),
                        arguments: "{}".into(),
                        signature: Some(gemini_token()),
                    },
                ],
            },
            Message {
                role: Role::User,
                parts: vec![
                    text("Also, hurry."),
                    Part::ToolResult {
                        call_id: "call_0".into(),
                        name: Some("get_weather".into()),
                        content: vec![text("timeout")],
                        is_error: true,
                    },
                ],
            },
        ],
        reasoning: Some(Reasoning {
            effort: Some(Effort::High),
            budget_tokens: None,
            include_thoughts: true,
        }),
        ..ChatRequest::default()
    };
    let body = json_of(&encode_request(&request).expect("the request encodes").body);
    assert_eq!(
        body["messages"],
        json!([
            { "role": "user", "content": "Weather?" },
            { "role": "assistant", "content": null, "tool_calls": [
                { "id": "call_0", "type": "function", "function": { "name": "get_weather", "arguments": "{}" } },
            ] },
            // Tool results first: Chat wants them right after the calls.
            { "role": "tool", "tool_call_id": "call_0", "content": "timeout" },
            { "role": "user", "content": "Also, hurry." },
        ])
    );
    assert_eq!(body["reasoning_effort"], json!("high"));
}

#[test]
fn streams_decode_event_by_event() {
    for name in STREAMS {
        let events = decode_stream(fixture(name), &[]).expect("the stream decodes");
        let expected = expected_stream(name);
        for (i, (got, want)) in events.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "{name} event {i}");
        }
        assert_eq!(events.len(), expected.len(), "{name}");
    }
}

#[test]
fn a_mid_stream_error_is_an_error_chunk_and_nothing_follows() {
    let events = [
        start("chatcmpl-2", "claude-sonnet-4-5"),
        StreamEvent::TextStart { index: 0 },
        text_delta(0, "Par"),
        StreamEvent::Error(ProviderError {
            status: 529,
            kind: ErrorKind::Overloaded,
            message: "Overloaded".into(),
        }),
        StreamEvent::End,
    ];
    let out = frames(&encode_stream(&app_request(true), &events));
    assert_eq!(out.len(), 3);
    assert_eq!(
        out[2],
        json!({ "error": { "message": "Overloaded", "type": "server_error", "param": null, "code": "overloaded" } })
    );
}

#[test]
fn streamed_refusal_and_pause_finish_as_the_app_can_tell() {
    let refused = [
        start("c", "m"),
        StreamEvent::Stop(StopReason::Refusal),
        StreamEvent::End,
    ];
    let out = frames(&encode_stream(&app_request(false), &refused));
    assert_eq!(
        out[1]["choices"][0]["finish_reason"],
        json!("content_filter")
    );
    let paused = [
        start("c", "m"),
        StreamEvent::Stop(StopReason::Pause),
        StreamEvent::End,
    ];
    let out = frames(&encode_stream(&app_request(false), &paused));
    assert_eq!(out.len(), 2);
    assert_eq!(out[1]["error"]["type"], json!("server_error"));
    assert_eq!(
        out[1]["error"]["message"],
        json!("cannot be routed: pause_turn")
    );
}

#[test]
fn streams_round_trip_through_encoder_and_decoder() {
    for name in STREAMS {
        let events = decode_stream(fixture(name), &[]).expect("the stream decodes");
        let bytes = encode_stream(&app_request(true), &events);
        assert_eq!(
            decode_stream(&bytes, &[]).expect("the stream decodes"),
            events,
            "{name}"
        );
    }
    let mut events = two_call_events();
    // Two usage events merge into one; the decoder says it once, before the stop.
    events.remove(11);
    events[10] = StreamEvent::Usage(Usage {
        input: 10,
        output: 7,
        cache_read: 4,
        cache_write: 0,
        reasoning: 2,
    });
    let bytes = encode_stream(&app_request(true), &events);
    assert_eq!(
        decode_stream(&bytes, &[]).expect("the stream decodes"),
        events
    );
}

#[test]
fn a_stream_token_id_is_split_back_into_its_signature() {
    let id = ir::id_with_token("call_9", &gemini_token());
    let stream = format!(
        "data: {{\"id\":\"x\",\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":0,\"id\":\"{id}\",\"type\":\"function\",\"function\":{{\"name\":\"f\",\"arguments\":\"\"}}}}]}}}}]}}\n\n"
    );
    let events = decode_stream(stream.as_bytes(), &[]).expect("the stream decodes");
    assert_eq!(
        events[1],
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_9".into(),
            name: "f".into(),
            signature: Some(gemini_token()),
        }
    );
}

#[test]
fn a_cut_stream_closes_its_block_without_a_stop() {
    let whole = fixture("stream_text.sse");
    let text = std::str::from_utf8(whole).expect("UTF-8");
    let cut = &text[..text
        .find("\"finish_reason\":\"stop\"")
        .expect("the fixture has it")];
    let cut = &cut[..cut.rfind("data:").expect("the fixture has it")];
    let events = decode_stream(cut.as_bytes(), &[]).expect("the stream decodes");
    assert_eq!(
        &events[events.len() - 2..],
        &[StreamEvent::BlockStop { index: 0 }, StreamEvent::End]
    );
    assert!(!events
        .iter()
        .any(|event| matches!(event, StreamEvent::Stop(_))));
}
