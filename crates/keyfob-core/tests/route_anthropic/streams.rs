//! Streams: decoded, encoded, split anywhere.

use super::*;

// ---- streams ----

#[test]
fn text_stream_decodes() {
    assert_eq!(
        decode_stream(&fixture("stream_text.sse")),
        [
            StreamEvent::Start {
                id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY".into(),
                model: "claude-sonnet-4-5-20250929".into()
            },
            StreamEvent::Usage(usage(35, 1, 10, 0, 0)),
            StreamEvent::TextStart { index: 0 },
            StreamEvent::TextDelta {
                index: 0,
                text: "Hello".into()
            },
            StreamEvent::TextDelta {
                index: 0,
                text: ", naïve wörld 👋".into()
            },
            StreamEvent::BlockStop { index: 0 },
            StreamEvent::Usage(usage(0, 15, 0, 0, 0)),
            StreamEvent::Stop(StopReason::End),
            StreamEvent::End,
        ]
    );
}

#[test]
fn tool_stream_decodes_fragments_as_they_arrive() {
    assert_eq!(decode_stream(&fixture("stream_tools.sse")), tool_events());
}

#[test]
fn thinking_stream_decodes() {
    assert_eq!(
        decode_stream(&fixture("stream_thinking.sse")),
        thinking_events()
    );
}

#[test]
fn mid_stream_error_decodes_as_the_providers_error() {
    let events = decode_stream(&fixture("stream_error.sse"));
    assert_eq!(
        events[events.len() - 2..],
        [
            StreamEvent::Error(ProviderError {
                status: 529,
                kind: ErrorKind::Overloaded,
                message: "Overloaded".into()
            }),
            StreamEvent::End,
        ]
    );
    assert_eq!(
        events[..4],
        [
            StreamEvent::Start {
                id: "msg_01ErrStream".into(),
                model: "claude-sonnet-4-5-20250929".into()
            },
            StreamEvent::Usage(usage(9, 1, 0, 0, 0)),
            StreamEvent::TextStart { index: 0 },
            StreamEvent::TextDelta {
                index: 0,
                text: "Once upon".into()
            },
        ]
    );
}

#[test]
fn a_cut_stream_ends_in_an_error() {
    let whole = fixture("stream_text.sse");
    let cut = &whole[..whole.len() / 2];
    let events = decode_stream(cut);
    assert!(matches!(
        &events[events.len() - 2..],
        [
            StreamEvent::Error(ProviderError {
                kind: ErrorKind::Server,
                ..
            }),
            StreamEvent::End
        ]
    ));
}

#[test]
fn fail_server_tool_stream_is_refused() {
    let mut splitter = SseSplitter::new();
    let mut decoder = Decoder::default();
    let results: Vec<_> = splitter
        .feed(&fixture("fail_server_tool_stream.sse"))
        .iter()
        .map(|event| decoder.event(event))
        .collect();
    assert!(results[0].is_ok());
    assert_eq!(results[1], Err(RouteError::unsupported("server tool use")));
}

#[test]
fn streams_round_trip_through_the_encoder() {
    let request = ChatRequest {
        model: "claude-haiku-4-5".into(),
        stream: true,
        ..Default::default()
    };
    for (name, events) in [
        ("stream_tools.sse", tool_events()),
        ("stream_thinking.sse", thinking_events()),
    ] {
        let bytes = encode_stream(&request, &events);
        assert_eq!(decode_stream(&bytes), events, "{name}");
    }
    let error_events = decode_stream(&fixture("stream_error.sse"));
    assert_eq!(
        decode_stream(&encode_stream(&request, &error_events)),
        error_events
    );
}
