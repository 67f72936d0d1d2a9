//! Whole answers: decoded, encoded, stop reasons and usage.

use super::*;

#[test]
fn answers_decode_field_by_field() {
    let answer = decode_response(fixture("response_text.json")).expect("the answer decodes");
    let expected = text_response();
    assert_eq!(answer.id, expected.id);
    assert_eq!(answer.model, expected.model);
    assert_eq!(answer.parts, expected.parts);
    assert_eq!(answer.stop, Some(StopReason::MaxTokens));
    assert_eq!(answer.usage, expected.usage);

    assert_eq!(
        decode_response(fixture("response_tools.json")),
        Ok(tools_response())
    );

    let refusal = decode_response(fixture("response_refusal.json")).expect("the answer decodes");
    assert_eq!(
        refusal.parts,
        vec![text("I'm sorry, I can't help with that.")]
    );
    assert_eq!(refusal.stop, Some(StopReason::Refusal));
    assert_eq!(
        refusal.usage,
        Usage {
            input: 40,
            output: 10,
            ..Usage::default()
        }
    );

    let deepseek =
        decode_response(fixture("response_reasoning_deepseek.json")).expect("the answer decodes");
    assert_eq!(
        deepseek.parts,
        vec![
            Part::Thinking {
                text: "Compare 9.11 and 9.8: 9.8 = 9.80 > 9.11.".into(),
                signature: None
            },
            text("9.8 is greater."),
        ]
    );
    assert_eq!(deepseek.stop, Some(StopReason::End));
    // `prompt_cache_hit_tokens` stands in for the missing `cached_tokens`.
    assert_eq!(
        deepseek.usage,
        Usage {
            input: 20,
            output: 120,
            cache_read: 16,
            cache_write: 0,
            reasoning: 100,
        }
    );
}

#[test]
fn an_answer_encodes_as_a_chat_completion() {
    let answer = ChatResponse {
        id: "msg_01XFDUDYJgAACzvnptvVoYEL".into(),
        model: "claude-sonnet-4-5".into(),
        parts: vec![
            Part::Thinking {
                text: "Two cities.".into(),
                signature: Some(Opaque {
                    dialect: Dialect::Anthropic,
                    value: "EqQBCkYIBxgC".into(),
                }),
            },
            Part::RedactedThinking(Opaque {
                dialect: Dialect::Anthropic,
                value: "EmwKAhgB".into(),
            }),
            text("Checking both."),
            Part::ToolCall {
                id: "call_0".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into(),
                signature: Some(gemini_token()),
            },
            call("toolu_02", "get_weather", r#"{"city":"Lyon"}"#),
        ],
        stop: Some(StopReason::ToolUse),
        usage: Usage {
            input: 2095,
            output: 503,
            cache_read: 1800,
            cache_write: 200,
            reasoning: 120,
        },
    };
    let body = json_of(&encode_response(&answer).expect("the answer encodes"));
    assert_eq!(
        body,
        json!({
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "object": "chat.completion",
            "created": 0,
            "model": "claude-sonnet-4-5",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Checking both.",
                    "refusal": null,
                    "reasoning_content": "Two cities.",
                    "tool_calls": [
                        { "id": ir::id_with_token("call_0", &gemini_token()), "type": "function",
                          "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } },
                        { "id": "toolu_02", "type": "function",
                          "function": { "name": "get_weather", "arguments": "{\"city\":\"Lyon\"}" } },
                    ],
                },
                "logprobs": null,
                "finish_reason": "tool_calls",
            }],
            "usage": {
                "prompt_tokens": 2095,
                "completion_tokens": 503,
                "total_tokens": 2598,
                "prompt_tokens_details": { "cached_tokens": 1800, "cache_write_tokens": 200 },
                "completion_tokens_details": { "reasoning_tokens": 120 },
            },
        })
    );
}

#[test]
fn answers_round_trip() {
    for name in [
        "response_text.json",
        "response_tools.json",
        "response_refusal.json",
        "response_reasoning_deepseek.json",
    ] {
        let answer = decode_response(fixture(name)).expect("the answer decodes");
        let again = decode_response(&encode_response(&answer).expect("the answer decodes"))
            .expect("the answer decodes");
        assert_eq!(again, answer, "{name}");
    }
    let mut signed = tools_response();
    if let Part::ToolCall { signature, .. } = &mut signed.parts[0] {
        *signature = Some(gemini_token());
    }
    assert_eq!(
        decode_response(&encode_response(&signed).expect("the answer decodes")),
        Ok(signed)
    );
}

#[test]
fn a_refusal_answer_fills_refusal_and_stop_reasons_map_exactly() {
    let refusal = ChatResponse {
        parts: vec![text("I can't help with that.")],
        stop: Some(StopReason::Refusal),
        ..ChatResponse::default()
    };
    let body = json_of(&encode_response(&refusal).expect("the answer encodes"));
    assert_eq!(body["id"], json!("chatcmpl-keyfob"));
    assert_eq!(body["choices"][0]["message"]["content"], Value::Null);
    assert_eq!(
        body["choices"][0]["message"]["refusal"],
        json!("I can't help with that.")
    );
    assert_eq!(body["choices"][0]["finish_reason"], json!("stop"));
    for (stop, finish) in [
        (StopReason::End, "stop"),
        (StopReason::StopSequence(Some("###".into())), "stop"),
        (StopReason::MaxTokens, "length"),
        (StopReason::ToolUse, "tool_calls"),
        (StopReason::ContentFilter, "content_filter"),
    ] {
        let answer = ChatResponse {
            stop: Some(stop),
            ..ChatResponse::default()
        };
        let body = json_of(&encode_response(&answer).expect("the answer encodes"));
        assert_eq!(body["choices"][0]["finish_reason"], json!(finish));
        assert_eq!(body["choices"][0]["message"]["content"], json!(""));
    }
    let paused = ChatResponse {
        stop: Some(StopReason::Pause),
        ..ChatResponse::default()
    };
    assert_eq!(encode_response(&paused), Err(unsupported("pause_turn")));
    let image = ChatResponse {
        parts: vec![Part::Image(Image::Url("https://example.com/a.png".into()))],
        ..ChatResponse::default()
    };
    assert_eq!(encode_response(&image), Err(unsupported("image output")));
}
