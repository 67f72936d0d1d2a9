//! Streams: decoded, encoded, split anywhere.

use super::*;

#[test]
fn endpoints_say_model_and_stream() {
    let body = br#"{"contents":[]}"#;
    assert_eq!(
        gemini::decode_request("models/x:streamGenerateContent", body),
        Err(RouteError::unsupported(
            "streamGenerateContent without alt=sse"
        ))
    );
    assert!(matches!(
        gemini::decode_request("models/x:countTokens", body),
        Err(RouteError::Unsupported(_))
    ));
    let req = gemini::decode_request("models/gemini-3-pro-preview:generateContent", body)
        .expect("decodes");
    assert_eq!(
        (req.model.as_str(), req.stream),
        ("gemini-3-pro-preview", false)
    );
}

#[test]
fn text_stream_decodes() {
    use StreamEvent::*;
    assert_eq!(
        decode_stream(&fixture("stream_text.sse")),
        Ok(vec![
            start(),
            TextStart { index: 0 },
            TextDelta {
                index: 0,
                text: "Der".into()
            },
            TextDelta {
                index: 0,
                text: " Bär brummt — 熊".into()
            },
            TextDelta {
                index: 0,
                text: ".".into()
            },
            BlockStop { index: 0 },
            Usage(keyfob_core::route::ir::Usage {
                input: 9,
                output: 1020,
                cache_read: 0,
                cache_write: 0,
                reasoning: 1000
            }),
            Stop(StopReason::End),
            End,
        ])
    );
}

#[test]
fn parallel_call_stream_decodes_whole_calls() {
    use StreamEvent::*;
    let call = |index: usize, id: &str, name: &str, args: &str, sig: Option<Opaque>| {
        vec![
            ToolCallStart {
                index,
                id: id.into(),
                name: name.into(),
                signature: sig,
            },
            ToolCallDelta {
                index,
                arguments: args.into(),
            },
            BlockStop { index },
        ]
    };
    let mut want = vec![start()];
    want.extend(call(
        0,
        "call_mKrGaPnmOI6Uz7IP_Yq3iAs_1",
        "customDivide",
        r#"{"denominator":2,"numerator":10}"#,
        Some(gemini_sig(SIG1)),
    ));
    want.extend(call(
        1,
        "call_mKrGaPnmOI6Uz7IP_Yq3iAs_2",
        "getWeather",
        r#"{"city":"Zürich"}"#,
        None,
    ));
    want.extend(call(
        2,
        "call_mKrGaPnmOI6Uz7IP_Yq3iAs_3",
        "getWeather",
        r#"{"city":"Berlin"}"#,
        None,
    ));
    want.push(Usage(keyfob_core::route::ir::Usage {
        input: 90,
        output: 109,
        cache_read: 0,
        cache_write: 0,
        reasoning: 64,
    }));
    want.push(Stop(StopReason::ToolUse));
    want.push(End);
    assert_eq!(decode_stream(&fixture("stream_tool_calls.sse")), Ok(want));
}

#[test]
fn thinking_stream_decodes() {
    use StreamEvent::*;
    assert_eq!(
        decode_stream(&fixture("stream_thinking.sse")),
        Ok(vec![
            start(),
            ThinkingStart { index: 0 },
            ThinkingDelta {
                index: 0,
                text: "**Pairing the ends**\n\n".into()
            },
            ThinkingDelta {
                index: 0,
                text: "1+100, 2+99, … fifty pairs.".into()
            },
            BlockStop { index: 0 },
            TextStart { index: 1 },
            TextDelta {
                index: 1,
                text: "The sum is ".into()
            },
            TextDelta {
                index: 1,
                text: "5050.".into()
            },
            BlockStop { index: 1 },
            Usage(keyfob_core::route::ir::Usage {
                input: 17,
                output: 46,
                cache_read: 0,
                cache_write: 0,
                reasoning: 40
            }),
            Stop(StopReason::End),
            End,
        ])
    );
}

#[test]
fn mid_stream_errors_decode_as_errors() {
    use StreamEvent::*;
    let events = decode_stream(&fixture("stream_error.sse")).expect("decodes");
    assert_eq!(
        events[1..],
        [
            TextStart { index: 0 },
            TextDelta {
                index: 0,
                text: "Once upon".into()
            },
            Error(ProviderError {
                status: 503,
                kind: ErrorKind::Overloaded,
                message: "The model is overloaded. Please try again later.".into(),
            }),
            End,
        ]
    );
    // Gemini's own bare-JSON error is no SSE event: the cut-short stream still fails.
    let events = decode_stream(&fixture("stream_cut.sse")).expect("decodes");
    assert!(matches!(
        events[events.len() - 2..],
        [
            Error(ProviderError {
                status: 500,
                kind: ErrorKind::Server,
                ..
            }),
            End
        ]
    ));
    assert_eq!(
        decode_stream(&fixture("fail_stream_malformed_call.sse")),
        Err(RouteError::unsupported(
            "finishReason MALFORMED_FUNCTION_CALL"
        ))
    );
}

#[test]
fn streams_round_trip_through_the_encoder() {
    assert_eq!(
        decode_stream(&encode_events(&sample_events())),
        Ok(sample_events())
    );
}

#[test]
fn a_gemini_to_gemini_translation_keeps_the_stream() {
    let request = ChatRequest::default();
    let bytes = fixture("stream_tool_calls.sse");
    let mut translator = StreamTranslator::new(Dialect::Gemini, Dialect::Gemini, &request);
    let mut out = translator.feed(&bytes);
    out.extend(translator.finish());
    let want = decode_stream(&bytes).expect("decodes");
    // Calls keep the ids the first decoder gave them.
    assert_eq!(decode_stream(&out), Ok(want));
}

#[test]
fn a_text_stream_encodes_as_gemini_chunks() {
    use StreamEvent::*;
    let bytes = encode_events(&[
        Start {
            id: "r1".into(),
            model: "gpt-x".into(),
        },
        TextStart { index: 0 },
        TextDelta {
            index: 0,
            text: "Hel".into(),
        },
        TextDelta {
            index: 0,
            text: "lo".into(),
        },
        BlockStop { index: 0 },
        Stop(StopReason::MaxTokens),
        Usage(keyfob_core::route::ir::Usage {
            input: 5,
            output: 2,
            ..Default::default()
        }),
        End,
    ]);
    let text = String::from_utf8(bytes).expect("utf-8");
    let chunks: Vec<Value> = text
        .split("\n\n")
        .filter(|c| !c.is_empty())
        .map(|c| body_json(c.strip_prefix("data: ").expect("data line").as_bytes()))
        .collect();
    assert_eq!(
        chunks,
        [
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}, "index": 0}],
                   "modelVersion": "gpt-x", "responseId": "r1"}),
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "lo"}]}, "index": 0}],
                   "modelVersion": "gpt-x", "responseId": "r1"}),
            json!({"candidates": [{"finishReason": "MAX_TOKENS", "index": 0}],
                   "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7},
                   "modelVersion": "gpt-x", "responseId": "r1"}),
        ]
    );
}
