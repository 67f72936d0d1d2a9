//! Whole answers: decoded, encoded, stop reasons and usage.

use super::*;

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
