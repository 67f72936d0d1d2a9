//! Whole answers: decoded, encoded, stop reasons and usage.

use super::*;

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
