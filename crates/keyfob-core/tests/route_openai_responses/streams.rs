//! Streams: decoded, encoded, split anywhere.

use super::*;

// ---------------------------------------------------------------- streams

#[test]
fn the_text_stream_decodes() {
    assert_eq!(
        decode_stream(&[fixture!("stream_text.sse")]),
        vec![
            StreamEvent::Start {
                id: "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654".into(),
                model: "gpt-4.1-2025-04-14".into()
            },
            StreamEvent::TextStart { index: 0 },
            StreamEvent::TextDelta {
                index: 0,
                text: "Hi".into()
            },
            StreamEvent::TextDelta {
                index: 0,
                text: " there, ça va ?".into()
            },
            StreamEvent::BlockStop { index: 0 },
            StreamEvent::Usage(Usage {
                input: 37,
                output: 11,
                ..Usage::default()
            }),
            StreamEvent::Stop(StopReason::End),
            StreamEvent::End,
        ]
    );
}

#[test]
fn the_tool_stream_decodes_with_fragments_and_distinct_ids() {
    assert_eq!(
        decode_stream(&[fixture!("stream_tools.sse")]),
        tool_stream_events()
    );
}

#[test]
fn the_reasoning_stream_decodes_with_its_signature() {
    assert_eq!(
        decode_stream(&[fixture!("stream_reasoning.sse")]),
        reasoning_stream_events()
    );
}

#[test]
fn mid_stream_failures_become_errors() {
    let events = decode_stream(&[fixture!("stream_error.sse")]);
    assert_eq!(
        events[events.len() - 2..],
        [
            StreamEvent::Error(ProviderError {
                status: 429,
                kind: ErrorKind::RateLimited,
                message: "Rate limit reached for gpt-4.1 on tokens per min (TPM).".into()
            }),
            StreamEvent::End,
        ]
    );
    assert_eq!(
        events[1..3],
        [
            StreamEvent::TextStart { index: 0 },
            StreamEvent::TextDelta {
                index: 0,
                text: "Partial".into()
            }
        ]
    );
    assert_eq!(
        decode_stream(&[fixture!("stream_failed.sse")])[1..],
        [
            StreamEvent::Error(ProviderError {
                status: 500,
                kind: ErrorKind::Server,
                message: "The model produced invalid content.".into()
            }),
            StreamEvent::End,
        ]
    );
}

#[test]
fn a_stream_survives_encode_then_decode() {
    let request = sample_request();
    for events in [tool_stream_events(), reasoning_stream_events()] {
        let bytes = encode_stream(&request, &events);
        assert_eq!(decode_stream(&[&bytes]), events);
    }
    let anthropic = Opaque {
        dialect: Dialect::Anthropic,
        value: "EqQBsig".into(),
    };
    let mixed = vec![
        StreamEvent::Start {
            id: "msg_1".into(),
            model: "claude".into(),
        },
        StreamEvent::ThinkingStart { index: 0 },
        StreamEvent::ThinkingDelta {
            index: 0,
            text: "plan".into(),
        },
        StreamEvent::ThinkingSignature {
            index: 0,
            signature: anthropic.clone(),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::RedactedThinking {
            index: 1,
            data: anthropic,
        },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::TextStart { index: 2 },
        StreamEvent::TextDelta {
            index: 2,
            text: "No.".into(),
        },
        StreamEvent::BlockStop { index: 2 },
        StreamEvent::ToolCallStart {
            index: 3,
            id: "call_g".into(),
            name: "f".into(),
            signature: Some(Opaque {
                dialect: Dialect::Gemini,
                value: "CiQB".into(),
            }),
        },
        StreamEvent::ToolCallDelta {
            index: 3,
            arguments: "{}".into(),
        },
        StreamEvent::BlockStop { index: 3 },
        StreamEvent::Usage(Usage {
            input: 9,
            output: 3,
            cache_read: 2,
            cache_write: 0,
            reasoning: 1,
        }),
        StreamEvent::Stop(StopReason::ToolUse),
        StreamEvent::End,
    ];
    assert_eq!(decode_stream(&[&encode_stream(&request, &mixed)]), mixed);
    let error = vec![
        StreamEvent::Start {
            id: "r".into(),
            model: "m".into(),
        },
        StreamEvent::TextStart { index: 0 },
        StreamEvent::TextDelta {
            index: 0,
            text: "a".into(),
        },
        StreamEvent::Error(ProviderError {
            status: 503,
            kind: ErrorKind::Overloaded,
            message: "busy".into(),
        }),
        StreamEvent::End,
    ];
    assert_eq!(decode_stream(&[&encode_stream(&request, &error)]), error);
}

#[test]
fn usage_after_the_stop_reason_is_held_for_the_final_event() {
    let events = [
        StreamEvent::Start {
            id: "chatcmpl-1".into(),
            model: "gpt-4o".into(),
        },
        StreamEvent::TextStart { index: 0 },
        StreamEvent::TextDelta {
            index: 0,
            text: "Hi".into(),
        },
        StreamEvent::Stop(StopReason::MaxTokens),
        StreamEvent::Usage(Usage {
            input: 5,
            output: 1,
            ..Usage::default()
        }),
        StreamEvent::End,
    ];
    let bytes = encode_stream(&ChatRequest::default(), &events);
    let frames = frames(&bytes);
    let (kind, last) = frames.last().expect("a final event");
    assert_eq!(kind, "response.incomplete");
    assert_eq!(
        last["response"]["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(last["response"]["usage"]["input_tokens"], 5);
    assert_eq!(last["response"]["output"][0]["content"][0]["text"], "Hi");
    // The open text block was closed before the end.
    assert!(frames
        .iter()
        .any(|(kind, _)| kind == "response.output_item.done"));
}

#[test]
fn the_error_event_is_what_the_sdks_raise() {
    let events = [StreamEvent::Error(ProviderError {
        status: 429,
        kind: ErrorKind::RateLimited,
        message: "Slow down.".into(),
    })];
    let bytes = encode_stream(&ChatRequest::default(), &events);
    assert_eq!(
        frames(&bytes),
        vec![(
            "error".to_string(),
            json!({
                "type": "error",
                "sequence_number": 0,
                "code": "rate_limit_exceeded",
                "message": "Slow down.",
                "param": null,
                "error": {"message": "Slow down.", "type": "requests", "param": null, "code": "rate_limit_exceeded"}
            })
        )]
    );
    // Nothing follows an error.
    let mut encoder = Encoder::new(&ChatRequest::default());
    assert!(!encoder.event(&events[0]).is_empty());
    assert!(encoder.event(&StreamEvent::End).is_empty());
}

#[test]
fn the_encoded_stream_accumulates_like_openai_node() {
    let request = sample_request();
    let reasoning = encode_stream(&request, &reasoning_stream_events());
    let final_response = accumulate_like_openai_node(&reasoning);
    assert_eq!(final_response["status"], "completed");
    assert_eq!(
        final_response["usage"]["output_tokens_details"]["reasoning_tokens"],
        384
    );
    assert_eq!(
        final_response["output"][0]["encrypted_content"],
        "gAAAAABosqDE-enc-stream"
    );
    assert_eq!(
        final_response["output"][0]["id"],
        "rs_68b2a0c2e3f48190a7b6c5d4e3f2a1b0"
    );
    assert_eq!(
        final_response["output"][1]["content"][0]["text"],
        "There are 3 r's."
    );
    let tools = accumulate_like_openai_node(&encode_stream(&request, &tool_stream_events()));
    assert_eq!(tools["output"][1]["arguments"], "{\"city\":\"Bogotá\"}");
    assert_eq!(tools["output"][1]["call_id"], "call_Bogota2");
    // Interleaved parallel calls (as Chat Completions streams them) are valid too.
    let interleaved = [
        StreamEvent::Start {
            id: "chatcmpl-9".into(),
            model: "gpt-4o".into(),
        },
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_a".into(),
            name: "f".into(),
            signature: None,
        },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "call_b".into(),
            name: "f".into(),
            signature: None,
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: "{\"x\":2}".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"x\":1}".into(),
        },
        StreamEvent::Stop(StopReason::ToolUse),
        StreamEvent::End,
    ];
    let both = accumulate_like_openai_node(&encode_stream(&request, &interleaved));
    assert_eq!(both["output"][0]["arguments"], "{\"x\":1}");
    assert_eq!(both["output"][1]["arguments"], "{\"x\":2}");
    assert_eq!(both["output"][1]["status"], "completed");
}

#[test]
fn a_stream_translates_from_responses_to_responses() {
    let request = decode_request("responses", fixture!("request.json")).expect("decodes");
    let mut translator =
        StreamTranslator::new(Dialect::OpenAiResponses, Dialect::OpenAiResponses, &request);
    let mut out = translator.feed(fixture!("stream_reasoning.sse"));
    out.extend(translator.finish());
    assert_eq!(decode_stream(&[&out]), reasoning_stream_events());
}
