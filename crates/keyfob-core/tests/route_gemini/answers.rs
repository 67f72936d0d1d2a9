//! Whole answers: decoded, encoded, stop reasons and usage.

use super::*;

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
