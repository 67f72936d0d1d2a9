//! Every directed pair of dialects, end to end through the public dispatch: the app's
//! request written in its own dialect is decoded, written for the serving provider and
//! read back; the provider's answer, stream and errors are translated back and read
//! with the app's own decoder. What each side must see is compared by meaning: text,
//! tool calls (id, name, arguments as JSON), the exact stop reason, token counts.

use keyfob_core::metering::sse::SseSplitter;
use keyfob_core::route::ir::{
    ChatRequest, ChatResponse, ErrorKind, Image, Message, Part, ProviderError, Role, StopReason,
    StreamEvent, ToolChoice, ToolDef, Usage,
};
use keyfob_core::route::{
    decode_error, decode_request, decode_response, encode_error, encode_request, encode_response,
    stream_decoder, stream_encoder, Dialect, StreamTranslator,
};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Every (app, server) pair of different dialects.
fn pairs() -> Vec<(Dialect, Dialect)> {
    let mut out = Vec::new();
    for app in Dialect::ALL {
        for server in Dialect::ALL {
            if app != server {
                out.push((app, server));
            }
        }
    }
    out
}

const PNG_1PX: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

fn text(t: &str) -> Part {
    Part::Text(t.into())
}

fn call(id: &str, name: &str, arguments: &str) -> Part {
    Part::ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
        signature: None,
    }
}

/// A conversation every dialect can say: system prompt, an image, a tool round trip.
fn conversation(stream: bool) -> ChatRequest {
    ChatRequest {
        model: "served-model".into(),
        system: vec!["You are terse.".into()],
        messages: vec![
            Message {
                role: Role::User,
                parts: vec![
                    text("What is in this picture, and the weather in Paris?"),
                    Part::Image(Image::Base64 {
                        media_type: "image/png".into(),
                        data: PNG_1PX.into(),
                    }),
                ],
            },
            Message {
                role: Role::Assistant,
                parts: vec![
                    text("A pixel. Checking the weather."),
                    call("call_w1", "get_weather", r#"{"city":"Paris"}"#),
                ],
            },
            Message {
                role: Role::User,
                parts: vec![Part::ToolResult {
                    call_id: "call_w1".into(),
                    name: None,
                    content: vec![text("18°C, clear")],
                    is_error: false,
                }],
            },
            Message {
                role: Role::User,
                parts: vec![text("Thanks. And in Rome?")],
            },
        ],
        tools: vec![ToolDef {
            name: "get_weather".into(),
            description: Some("Current weather for a city".into()),
            parameters: json!({
                "type": "object",
                "properties": { "city": { "type": "string", "description": "City name" } },
                "required": ["city"]
            }),
        }],
        tool_choice: Some(ToolChoice::Auto),
        max_output_tokens: Some(1024),
        temperature: Some(0.5),
        stream,
        stream_usage: stream,
        ..ChatRequest::default()
    }
}

/// What a request means, whatever dialect carried it.
#[derive(Debug, PartialEq)]
struct RequestMeaning {
    system: String,
    turns: Vec<(Role, Vec<String>)>,
    tools: Vec<(String, Option<String>, Value)>,
    tool_choice: Option<ToolChoice>,
    max_output_tokens: Option<u64>,
    temperature: Option<f64>,
    stream: bool,
}

fn part_meaning(part: &Part) -> Option<String> {
    match part {
        Part::Text(t) => Some(format!("text:{t}")),
        Part::Image(Image::Base64 { media_type, data }) => {
            Some(format!("image:{media_type}:{data}"))
        }
        Part::Image(Image::Url(url)) => Some(format!("image-url:{url}")),
        Part::ToolCall {
            id,
            name,
            arguments,
            ..
        } => Some(format!("call:{id}:{name}:{}", parse(arguments))),
        Part::ToolResult {
            call_id,
            content,
            is_error,
            ..
        } => {
            let inner: Vec<String> = content.iter().filter_map(part_meaning).collect();
            Some(format!("result:{call_id}:{is_error}:{}", inner.join("|")))
        }
        // Reasoning is carried only where the target has it; none is in this conversation.
        Part::Thinking { .. } | Part::RedactedThinking(_) => None,
    }
}

fn parse(arguments: &str) -> Value {
    serde_json::from_str(arguments).unwrap_or_else(|e| panic!("arguments {arguments:?}: {e}"))
}

fn request_meaning(request: &ChatRequest) -> RequestMeaning {
    // Adjacent turns of one role are one turn (Chat splits a user turn around tool results).
    let mut turns: Vec<(Role, Vec<String>)> = Vec::new();
    for message in &request.messages {
        let parts: Vec<String> = message.parts.iter().filter_map(part_meaning).collect();
        match turns.last_mut() {
            Some((role, existing)) if *role == message.role => existing.extend(parts),
            _ => turns.push((message.role, parts)),
        }
    }
    RequestMeaning {
        system: request.system.join("\n"),
        turns,
        tools: request
            .tools
            .iter()
            .map(|t| (t.name.clone(), t.description.clone(), t.parameters.clone()))
            .collect(),
        tool_choice: request.tool_choice.clone(),
        max_output_tokens: request.max_output_tokens,
        temperature: request.temperature,
        stream: request.stream,
    }
}

/// The app's request as its SDK sends it, then as the served provider receives it.
fn route_request(
    app: Dialect,
    server: Dialect,
    request: &ChatRequest,
) -> (ChatRequest, ChatRequest) {
    let written = encode_request(app, request)
        .unwrap_or_else(|e| panic!("{app:?} cannot write the app's request: {e}"));
    let from_app = decode_request(app, &written.endpoint, &written.body)
        .unwrap_or_else(|e| panic!("{app:?} cannot read its own request: {e}"));
    let upstream =
        encode_request(server, &from_app).unwrap_or_else(|e| panic!("{app:?} → {server:?}: {e}"));
    let served = decode_request(server, &upstream.endpoint, &upstream.body)
        .unwrap_or_else(|e| panic!("{server:?} cannot read what was written for it: {e}"));
    (from_app, served)
}

#[test]
fn every_pair_carries_the_request_whole() {
    for (app, server) in pairs() {
        for stream in [false, true] {
            let (from_app, served) = route_request(app, server, &conversation(stream));
            assert_eq!(
                request_meaning(&served),
                request_meaning(&from_app),
                "{app:?} → {server:?} (stream {stream}) changed the request"
            );
            assert_eq!(served.model, "served-model", "{app:?} → {server:?}");
        }
    }
}

#[test]
fn a_feature_the_server_lacks_is_refused_by_name_not_dropped() {
    // Stop sequences: Responses has none.
    let mut request = conversation(false);
    request.stop = vec!["END".into()];
    for app in [Dialect::Anthropic, Dialect::OpenAiChat, Dialect::Gemini] {
        let written = encode_request(app, &request).expect("the app's own dialect has stop");
        let from_app = decode_request(app, &written.endpoint, &written.body).expect("decode");
        assert_eq!(from_app.stop, vec!["END".to_string()]);
        let refused = encode_request(Dialect::OpenAiResponses, &from_app)
            .expect_err("stop sequences reached Responses");
        let code = keyfob_core::CoreError::from(refused).code();
        assert_eq!(code, "ROUTE_UNSUPPORTED", "{app:?}");
    }
}

/// What an answer means: text, tool calls, stop reason, token counts.
#[derive(Debug, PartialEq)]
struct AnswerMeaning {
    text: String,
    calls: Vec<(String, String, Value)>,
    stop: Option<StopReason>,
    input: u64,
    output: u64,
}

fn answer_meaning(response: &ChatResponse) -> AnswerMeaning {
    let mut meaning = AnswerMeaning {
        text: String::new(),
        calls: Vec::new(),
        stop: response.stop.clone(),
        input: response.usage.input,
        output: response.usage.output,
    };
    for part in &response.parts {
        match part {
            Part::Text(t) => meaning.text.push_str(t),
            Part::ToolCall {
                id,
                name,
                arguments,
                ..
            } => meaning
                .calls
                .push((id.clone(), name.clone(), parse(arguments))),
            _ => {}
        }
    }
    meaning
}

fn tool_answer() -> ChatResponse {
    ChatResponse {
        id: "resp_1".into(),
        model: "served-model".into(),
        parts: vec![
            text("Checking both."),
            call("call_a", "get_weather", r#"{"city":"Rome"}"#),
            call("call_b", "get_weather", r#"{"city":"Milan"}"#),
        ],
        stop: Some(StopReason::ToolUse),
        usage: Usage {
            input: 120,
            output: 40,
            ..Usage::default()
        },
    }
}

fn text_answer(stop: StopReason) -> ChatResponse {
    ChatResponse {
        id: "resp_2".into(),
        model: "served-model".into(),
        parts: vec![text("Rome: 21°C.")],
        stop: Some(stop),
        usage: Usage {
            input: 200,
            output: 9,
            ..Usage::default()
        },
    }
}

/// The server's answer as the provider sends it, then as the app's SDK reads it.
fn route_answer(
    app: Dialect,
    server: Dialect,
    answer: &ChatResponse,
) -> (ChatResponse, ChatResponse) {
    let sent = encode_response(server, answer).unwrap_or_else(|e| panic!("{server:?}: {e}"));
    let read = decode_response(server, &sent).unwrap_or_else(|e| panic!("{server:?}: {e}"));
    let to_app =
        encode_response(app, &read).unwrap_or_else(|e| panic!("{server:?} → {app:?}: {e}"));
    let seen = decode_response(app, &to_app).unwrap_or_else(|e| panic!("{app:?}: {e}"));
    (read, seen)
}

#[test]
fn every_pair_carries_the_answer_with_parallel_calls_and_exact_stops() {
    for (app, server) in pairs() {
        for answer in [
            tool_answer(),
            text_answer(StopReason::End),
            text_answer(StopReason::MaxTokens),
        ] {
            let (read, seen) = route_answer(app, server, &answer);
            assert_eq!(
                answer_meaning(&read),
                answer_meaning(&answer),
                "{server:?} read"
            );
            assert_eq!(
                answer_meaning(&seen),
                answer_meaning(&answer),
                "{server:?} → {app:?}"
            );
        }
    }
}

#[test]
fn cached_tokens_survive_between_dialects_that_count_them() {
    let mut answer = text_answer(StopReason::End);
    answer.usage.cache_read = 150;
    for (app, server) in pairs() {
        let (_, seen) = route_answer(app, server, &answer);
        assert_eq!(seen.usage.input, 200, "{server:?} → {app:?}: input");
        assert_eq!(seen.usage.cache_read, 150, "{server:?} → {app:?}: cached");
    }
}

/// The events of a streamed answer: text, then two parallel calls with split arguments.
fn streamed_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            id: "resp_s".into(),
            model: "served-model".into(),
        },
        StreamEvent::Usage(Usage {
            input: 120,
            ..Usage::default()
        }),
        StreamEvent::TextStart { index: 0 },
        StreamEvent::TextDelta {
            index: 0,
            text: "Check".into(),
        },
        StreamEvent::TextDelta {
            index: 0,
            text: "ing é👍".into(),
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "call_a".into(),
            name: "get_weather".into(),
            signature: None,
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: r#"{"city":"#.into(),
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: r#""Rome"}"#.into(),
        },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::ToolCallStart {
            index: 2,
            id: "call_b".into(),
            name: "get_weather".into(),
            signature: None,
        },
        StreamEvent::ToolCallDelta {
            index: 2,
            arguments: r#"{"city":"Milan"}"#.into(),
        },
        StreamEvent::BlockStop { index: 2 },
        StreamEvent::Stop(StopReason::ToolUse),
        StreamEvent::Usage(Usage {
            input: 120,
            output: 40,
            ..Usage::default()
        }),
        StreamEvent::End,
    ]
}

/// The meaning of a stream: the answer it assembles to, and any error.
fn stream_meaning(events: &[StreamEvent]) -> (AnswerMeaning, Option<ProviderError>) {
    let mut text = String::new();
    let mut calls: Vec<(usize, String, String, String)> = Vec::new();
    let mut stop = None;
    let mut usage = Usage::default();
    let mut error = None;
    for event in events {
        match event {
            StreamEvent::TextDelta { text: t, .. } => text.push_str(t),
            StreamEvent::ToolCallStart {
                index, id, name, ..
            } => calls.push((*index, id.clone(), name.clone(), String::new())),
            StreamEvent::ToolCallDelta { index, arguments } => {
                if let Some(c) = calls.iter_mut().rev().find(|c| c.0 == *index) {
                    c.3.push_str(arguments);
                }
            }
            StreamEvent::Stop(s) => stop = Some(s.clone()),
            StreamEvent::Usage(u) => {
                usage.input = if u.input > 0 { u.input } else { usage.input };
                usage.output = if u.output > 0 { u.output } else { usage.output };
            }
            StreamEvent::Error(e) => error = Some(e.clone()),
            _ => {}
        }
    }
    let meaning = AnswerMeaning {
        text,
        calls: calls
            .into_iter()
            .map(|(_, id, name, args)| (id, name, parse(&args)))
            .collect(),
        stop,
        input: usage.input,
        output: usage.output,
    };
    (meaning, error)
}

/// The provider's stream bytes for `events`, in `server`'s dialect.
fn provider_stream(server: Dialect, events: &[StreamEvent]) -> Vec<u8> {
    let mut encoder = stream_encoder(server, &conversation(true));
    events.iter().flat_map(|e| encoder.event(e)).collect()
}

/// The app's decoder reading `bytes` (whole: the app side is not under test here).
fn app_reads(app: Dialect, bytes: &[u8]) -> Vec<StreamEvent> {
    let mut splitter = SseSplitter::new();
    let mut decoder = stream_decoder(app);
    let mut events = Vec::new();
    let mut sse = splitter.feed(bytes);
    sse.extend(splitter.finish());
    for event in &sse {
        events.extend(
            decoder
                .event(event)
                .unwrap_or_else(|e| panic!("{app:?}: {e}")),
        );
    }
    events.extend(decoder.end());
    events
}

/// The provider's bytes through the translator in `pieces`, as the app receives them.
fn translate(app: Dialect, server: Dialect, bytes: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut app_request = conversation(true);
    app_request.model = "app-model".into();
    let mut translator = StreamTranslator::new(server, app, &app_request);
    let mut out = Vec::new();
    let mut at = 0;
    for &cut in cuts {
        let cut = cut.clamp(at, bytes.len());
        out.extend(translator.feed(&bytes[at..cut]));
        at = cut;
    }
    out.extend(translator.feed(&bytes[at..]));
    out.extend(translator.finish());
    out
}

#[test]
fn every_pair_streams_text_and_parallel_calls_with_usage() {
    let events = streamed_events();
    let (expected, _) = stream_meaning(&events);
    for (app, server) in pairs() {
        let bytes = provider_stream(server, &events);
        let seen = app_reads(app, &translate(app, server, &bytes, &[]));
        let (meaning, error) = stream_meaning(&seen);
        assert_eq!(error, None, "{server:?} → {app:?}");
        assert_eq!(meaning, expected, "{server:?} → {app:?}");
        assert!(
            matches!(seen.last(), Some(StreamEvent::End)),
            "{server:?} → {app:?}: the stream did not end cleanly"
        );
    }
}

/// A provider stream that fails after some text. Gemini's server frames its error as a
/// `data:` event; the others' encoders write their own provider's error event.
fn failing_provider_stream(server: Dialect) -> Vec<u8> {
    let before = vec![
        StreamEvent::Start {
            id: "resp_e".into(),
            model: "served-model".into(),
        },
        StreamEvent::TextStart { index: 0 },
        StreamEvent::TextDelta {
            index: 0,
            text: "Partial".into(),
        },
    ];
    let error = ProviderError {
        status: 503,
        kind: ErrorKind::Overloaded,
        message: "the provider is overloaded".into(),
    };
    if server == Dialect::Gemini {
        let mut bytes = provider_stream(server, &before);
        bytes.extend(b"data: ");
        bytes.extend(encode_error(Dialect::Gemini, &error));
        bytes.extend(b"\n\n");
        return bytes;
    }
    let mut events = before;
    events.push(StreamEvent::Error(error));
    events.push(StreamEvent::End);
    provider_stream(server, &events)
}

#[test]
fn a_mid_stream_error_reaches_the_app_as_its_own_error() {
    for (app, server) in pairs() {
        let out = translate(app, server, &failing_provider_stream(server), &[]);
        if app == Dialect::Gemini {
            // @google/genai raises its ApiError on a bare `{"error": …}` line in the stream
            // (a `data:` one would reach the app as an ordinary chunk).
            let text = String::from_utf8_lossy(&out);
            let line = text
                .lines()
                .find(|l| l.starts_with("{\"error\""))
                .unwrap_or_else(|| panic!("{server:?} → Gemini: no error line in {text}"));
            assert!(line.contains("overloaded"), "{server:?} → Gemini: {line}");
            assert!(
                text.contains("Partial"),
                "{server:?} → Gemini: the text before was lost"
            );
            continue;
        }
        let seen = app_reads(app, &out);
        let (meaning, error) = stream_meaning(&seen);
        assert_eq!(meaning.text, "Partial", "{server:?} → {app:?}");
        let error = error.unwrap_or_else(|| panic!("{server:?} → {app:?}: the error was lost"));
        assert!(
            error.message.contains("overloaded"),
            "{server:?} → {app:?}: {error:?}"
        );
        assert_eq!(
            meaning.stop, None,
            "{server:?} → {app:?}: an error read as a finish"
        );
    }
}

#[test]
fn an_error_body_keeps_its_kind_and_message() {
    for (status, kind) in [
        (400, ErrorKind::InvalidRequest),
        (401, ErrorKind::Authentication),
        (403, ErrorKind::PermissionDenied),
        (404, ErrorKind::NotFound),
        (429, ErrorKind::RateLimited),
        (500, ErrorKind::Server),
    ] {
        let error = ProviderError {
            status,
            kind,
            message: format!("status {status} from the provider"),
        };
        for (app, server) in pairs() {
            let body = encode_error(server, &error);
            let read = decode_error(server, status, &body);
            let to_app = encode_error(app, &read);
            let seen = decode_error(app, status, &to_app);
            assert_eq!(seen.kind, kind, "{server:?} → {app:?} at {status}");
            assert_eq!(
                seen.message, error.message,
                "{server:?} → {app:?} at {status}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The translated stream does not depend on where the provider's chunks split.
    #[test]
    fn a_translated_stream_does_not_depend_on_chunking(
        pair in 0usize..12,
        mut cuts in proptest::collection::vec(0usize..4096, 0..24),
    ) {
        let (app, server) = pairs()[pair];
        let bytes = provider_stream(server, &streamed_events());
        cuts.sort_unstable();
        let whole = app_reads(app, &translate(app, server, &bytes, &[]));
        let pieces = app_reads(app, &translate(app, server, &bytes, &cuts));
        prop_assert_eq!(stream_meaning(&pieces).0, stream_meaning(&whole).0);
    }
}
