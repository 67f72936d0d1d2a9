//! The OpenAI Chat Completions codec against the fixtures in
//! `tests/data/route/openai_chat/` (its README names where each wire format comes from):
//! decoded field by field, encoded and compared as JSON, round trips, streams split
//! anywhere, and `fail_` bodies refused with the exact feature.

use keyfob_core::metering::sse::SseSplitter;
use keyfob_core::route::ir::{
    self, ChatRequest, ChatResponse, Effort, ErrorKind, Image, Message, Opaque, Part,
    ProviderError, Reasoning, ResponseFormat, Role, RouteError, StopReason, StreamEvent,
    ToolChoice, ToolDef, Usage,
};
use keyfob_core::route::openai_chat::{
    decode_error, decode_request, decode_response, encode_error, encode_request, encode_response,
    Decoder, Encoder,
};
use keyfob_core::route::{Dialect, StreamDecoder, StreamEncoder, StreamTranslator};
use proptest::prelude::*;
use serde_json::{json, Value};

macro_rules! fixtures {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../data/route/openai_chat/", $name)).as_slice())),*]
    };
}

/// Every fixture, embedded so the tests also build for wasm32.
const FIXTURES: &[(&str, &[u8])] = fixtures![
    "request_full.json",
    "response_text.json",
    "response_tools.json",
    "response_refusal.json",
    "response_reasoning_deepseek.json",
    "stream_text.sse",
    "stream_tools.sse",
    "stream_reasoning_deepseek.sse",
    "stream_reasoning_openrouter.sse",
    "stream_error.sse",
    "error_400.json",
    "error_401.json",
    "error_403.json",
    "error_404.json",
    "error_404_ollama.json",
    "error_429.json",
    "error_500.json",
    "error_503.json",
    "fail_n2.json",
    "fail_logprobs.json",
    "fail_audio_input.json",
    "fail_file_input.json",
    "fail_audio_output.json",
    "fail_custom_tool.json",
    "fail_legacy_functions.json",
    "fail_strict_tool.json",
    "fail_web_search.json",
    "fail_prediction.json",
    "fail_unknown_field.json",
    "fail_system_midway.json",
    "fail_effort_xhigh.json",
    "fail_allowed_tools.json",
    "fail_penalty.json",
    "fail_no_model.json",
    "fail_not_json.json",
    "fail_messages_not_array.json",
    "fail_response_n2.json",
    "fail_response_audio.json",
    "fail_stream_cut_json.sse",
];

const STREAMS: &[&str] = &[
    "stream_text.sse",
    "stream_tools.sse",
    "stream_reasoning_deepseek.sse",
    "stream_reasoning_openrouter.sse",
    "stream_error.sse",
];

fn fixture(name: &str) -> &'static [u8] {
    FIXTURES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, bytes)| *bytes)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

/// Feeds `bytes` cut at `cuts` through the splitter and decoder, then ends the stream.
fn decode_stream(bytes: &[u8], cuts: &[usize]) -> Result<Vec<StreamEvent>, RouteError> {
    let mut splitter = SseSplitter::new();
    let mut decoder = Decoder::default();
    let mut events = Vec::new();
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|cut| cut % (bytes.len() + 1)).collect();
    points.sort_unstable();
    points.push(bytes.len());
    for point in points {
        for event in splitter.feed(&bytes[start..point]) {
            events.extend(decoder.event(&event)?);
        }
        start = point;
    }
    if let Some(event) = splitter.finish() {
        events.extend(decoder.event(&event)?);
    }
    events.extend(decoder.end());
    Ok(events)
}

fn encode_stream(request: &ChatRequest, events: &[StreamEvent]) -> Vec<u8> {
    let mut encoder = Encoder::new(request);
    events
        .iter()
        .flat_map(|event| encoder.event(event))
        .collect()
}

/// The JSON of each `data:` line (`[DONE]` as the string "[DONE]").
fn frames(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    assert!(text.ends_with("\n\n") || text.is_empty(), "{text}");
    text.split("\n\n")
        .filter(|frame| !frame.is_empty())
        .map(|frame| {
            let data = frame.strip_prefix("data: ").expect("a data line");
            assert!(!data.contains('\n'), "one line per frame: {frame}");
            serde_json::from_str(data).unwrap_or_else(|_| Value::String(data.into()))
        })
        .collect()
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("JSON")
}

fn text(text: &str) -> Part {
    Part::Text(text.into())
}

fn call(id: &str, name: &str, arguments: &str) -> Part {
    Part::ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
        signature: None,
    }
}

fn result(call_id: &str, content: &str) -> Part {
    Part::ToolResult {
        call_id: call_id.into(),
        name: None,
        content: vec![text(content)],
        is_error: false,
    }
}

fn gemini_token() -> Opaque {
    Opaque {
        dialect: Dialect::Gemini,
        value: "CiQB0e2Kb+/sig==".into(),
    }
}

fn unsupported(feature: &str) -> RouteError {
    RouteError::Unsupported(feature.into())
}

fn is_malformed(error: &RouteError) -> bool {
    matches!(
        error,
        RouteError::Malformed {
            dialect: Dialect::OpenAiChat,
            ..
        }
    )
}

// ---- requests ----

fn full_request() -> ChatRequest {
    ChatRequest {
        model: "gpt-4.1-mini".into(),
        system: vec![
            "You are a travel assistant.".into(),
            "Answer in French.".into(),
            "Be brief.".into(),
        ],
        messages: vec![
            Message {
                role: Role::User,
                parts: vec![text("Bonjour !")],
            },
            Message {
                role: Role::Assistant,
                parts: vec![text("Bonjour, comment puis-je aider ?")],
            },
            Message {
                role: Role::User,
                parts: vec![
                    text("What is the weather where these photos were taken?"),
                    Part::Image(Image::Base64 {
                        media_type: "image/png".into(),
                        data: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==".into(),
                    }),
                    Part::Image(Image::Url("https://example.com/paris.jpg".into())),
                ],
            },
            Message {
                role: Role::Assistant,
                parts: vec![
                    call("call_Ab12", "get_weather", r#"{"city":"Paris"}"#),
                    call("call_Cd34", "get_weather", r#"{"city":"Lyon"}"#),
                ],
            },
            Message {
                role: Role::User,
                parts: vec![
                    result("call_Ab12", "18°C, cloudy"),
                    result("call_Cd34", "22°C, sunny"),
                ],
            },
            Message {
                role: Role::User,
                parts: vec![text("Merci. Et demain ?")],
            },
        ],
        tools: vec![
            ToolDef {
                name: "get_weather".into(),
                description: Some("Current weather for a city".into()),
                parameters: json!({
                    "type": "object",
                    "properties": { "city": { "type": "string" } },
                    "required": ["city"],
                }),
            },
            ToolDef {
                name: "get_time".into(),
                description: None,
                parameters: json!({ "type": "object", "properties": {} }),
            },
        ],
        tool_choice: Some(ToolChoice::Named("get_weather".into())),
        parallel_tool_calls: Some(true),
        max_output_tokens: Some(800),
        temperature: Some(0.2),
        top_p: Some(0.9),
        stop: vec!["\n\n###".into()],
        stream: true,
        stream_usage: true,
        response_format: Some(ResponseFormat::JsonSchema {
            name: "forecast".into(),
            schema: json!({ "type": "object", "properties": { "summary": { "type": "string" } } }),
            strict: true,
        }),
        reasoning: Some(Reasoning {
            effort: Some(Effort::Low),
            budget_tokens: None,
            include_thoughts: false,
        }),
    }
}

/// Each `fail_` fixture and what it must give: Some(feature) refused, None malformed.
const FAIL_FIXTURES: &[(&str, Option<&str>)] = &[
    ("fail_n2.json", Some("n > 1")),
    ("fail_logprobs.json", Some("logprobs")),
    ("fail_audio_input.json", Some("audio input")),
    ("fail_file_input.json", Some("file input")),
    ("fail_audio_output.json", Some("audio output")),
    ("fail_custom_tool.json", Some("custom tools")),
    (
        "fail_legacy_functions.json",
        Some("legacy function calling"),
    ),
    ("fail_strict_tool.json", Some("strict function tools")),
    ("fail_web_search.json", Some("web search")),
    ("fail_prediction.json", Some("predicted outputs")),
    ("fail_unknown_field.json", Some("unknown field `top_k`")),
    (
        "fail_system_midway.json",
        Some("a system message after the conversation start"),
    ),
    ("fail_effort_xhigh.json", Some("reasoning_effort `xhigh`")),
    ("fail_allowed_tools.json", Some("tool_choice allowed_tools")),
    ("fail_penalty.json", Some("frequency_penalty")),
    ("fail_no_model.json", None),
    ("fail_not_json.json", None),
    ("fail_messages_not_array.json", None),
    ("fail_response_n2.json", Some("n > 1")),
    ("fail_response_audio.json", Some("audio output")),
    ("fail_stream_cut_json.sse", None),
];

fn refusal_of(name: &str) -> RouteError {
    let bytes = fixture(name);
    let outcome = if name.ends_with(".sse") {
        decode_stream(bytes, &[]).map(|_| ())
    } else if name.starts_with("fail_response_") {
        decode_response(bytes).map(|_| ())
    } else {
        decode_request("chat/completions", bytes).map(|_| ())
    };
    outcome.expect_err(name)
}

// ---- whole answers ----

fn text_response() -> ChatResponse {
    ChatResponse {
        id: "chatcmpl-CAF2lOzi4JGiJH4Ta2bLDT4hzMMBf".into(),
        model: "gpt-5-mini-2025-08-07".into(),
        parts: vec![text("Il fera 19 °C à Paris demain. ✨")],
        stop: Some(StopReason::MaxTokens),
        usage: Usage {
            input: 1117,
            output: 523,
            cache_read: 1024,
            cache_write: 0,
            reasoning: 448,
        },
    }
}

fn tools_response() -> ChatResponse {
    ChatResponse {
        id: "chatcmpl-BN4kXq2dPHSyLs6Zq8aYx0qUu0Tzb".into(),
        model: "gpt-4.1-2025-04-14".into(),
        parts: vec![
            call("call_a9AbXr0pLz3R", "get_weather", r#"{"city":"Paris"}"#),
            call("call_Q7mKt2vBn8Ws", "get_weather", r#"{"city":"Lyon"}"#),
        ],
        stop: Some(StopReason::ToolUse),
        usage: Usage {
            input: 82,
            output: 48,
            ..Usage::default()
        },
    }
}

// ---- streams ----

fn start(id: &str, model: &str) -> StreamEvent {
    StreamEvent::Start {
        id: id.into(),
        model: model.into(),
    }
}

fn text_delta(index: usize, text: &str) -> StreamEvent {
    StreamEvent::TextDelta {
        index,
        text: text.into(),
    }
}

fn thinking_delta(index: usize, text: &str) -> StreamEvent {
    StreamEvent::ThinkingDelta {
        index,
        text: text.into(),
    }
}

fn call_start(index: usize, id: &str, name: &str) -> StreamEvent {
    StreamEvent::ToolCallStart {
        index,
        id: id.into(),
        name: name.into(),
        signature: None,
    }
}

fn call_delta(index: usize, arguments: &str) -> StreamEvent {
    StreamEvent::ToolCallDelta {
        index,
        arguments: arguments.into(),
    }
}

fn expected_stream(name: &str) -> Vec<StreamEvent> {
    use StreamEvent::{BlockStop, End, Stop, TextStart, ThinkingStart};
    match name {
        "stream_text.sse" => vec![
            start(
                "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
                "gpt-4o-mini-2024-07-18",
            ),
            TextStart { index: 0 },
            text_delta(0, "Ça va ? "),
            text_delta(0, "Oui — très bien. 👍"),
            BlockStop { index: 0 },
            StreamEvent::Usage(Usage {
                input: 1117,
                output: 12,
                cache_read: 1024,
                ..Usage::default()
            }),
            Stop(StopReason::End),
            End,
        ],
        "stream_tools.sse" => vec![
            start(
                "chatcmpl-BN4lR6hQ1nYxZ0cXj2Wk9pTqLm3sV",
                "gpt-4.1-2025-04-14",
            ),
            call_start(0, "call_a9AbXr0pLz3R", "get_weather"),
            call_delta(0, r#"{"ci"#),
            call_delta(0, r#"ty":""#),
            call_delta(0, r#"Paris"}"#),
            BlockStop { index: 0 },
            call_start(1, "call_Q7mKt2vBn8Ws", "get_weather"),
            call_delta(1, r#"{"city""#),
            call_delta(1, r#":"Lyon"}"#),
            BlockStop { index: 1 },
            StreamEvent::Usage(Usage {
                input: 82,
                output: 48,
                ..Usage::default()
            }),
            Stop(StopReason::ToolUse),
            End,
        ],
        "stream_reasoning_deepseek.sse" => vec![
            start("c1b7e2f4-8a0d-4e0b-9a0c-3f1d2e5b6a7c", "deepseek-reasoner"),
            ThinkingStart { index: 0 },
            thinking_delta(0, "9.11 vs 9.8: "),
            thinking_delta(0, "9.8 = 9.80 > 9.11."),
            BlockStop { index: 0 },
            TextStart { index: 1 },
            text_delta(1, "9.8 is"),
            text_delta(1, " greater."),
            BlockStop { index: 1 },
            StreamEvent::Usage(Usage {
                input: 20,
                output: 120,
                cache_read: 16,
                cache_write: 0,
                reasoning: 100,
            }),
            Stop(StopReason::End),
            End,
        ],
        "stream_reasoning_openrouter.sse" => vec![
            start(
                "gen-1756743299-7ZpxKxqdLsRxkW4ZNuBw",
                "anthropic/claude-sonnet-4.5",
            ),
            ThinkingStart { index: 0 },
            thinking_delta(0, "The user says hi."),
            BlockStop { index: 0 },
            TextStart { index: 1 },
            text_delta(1, "Hi!"),
            BlockStop { index: 1 },
            StreamEvent::Usage(Usage {
                input: 14,
                output: 10,
                reasoning: 5,
                ..Usage::default()
            }),
            Stop(StopReason::End),
            End,
        ],
        "stream_error.sse" => vec![
            start(
                "chatcmpl-C1xQz8nR4tYw2Pk6Lm0Vb3Jh5Gf7D",
                "gpt-4o-2024-08-06",
            ),
            TextStart { index: 0 },
            text_delta(0, "The answer"),
            StreamEvent::Error(ProviderError {
                status: 500,
                kind: ErrorKind::Server,
                message: "The server had an error while processing your request. Sorry about that!"
                    .into(),
            }),
            End,
        ],
        other => panic!("no expectation for {other}"),
    }
}

fn app_request(stream_usage: bool) -> ChatRequest {
    ChatRequest {
        model: "gpt-4o".into(),
        stream: true,
        stream_usage,
        ..ChatRequest::default()
    }
}

fn two_call_events() -> Vec<StreamEvent> {
    vec![
        start("chatcmpl-1", "gemini-2.5-flash"),
        StreamEvent::TextStart { index: 0 },
        text_delta(0, "Hi"),
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "call_1".into(),
            name: "f".into(),
            signature: Some(gemini_token()),
        },
        call_delta(1, "{}"),
        StreamEvent::BlockStop { index: 1 },
        call_start(2, "call_2", "g"),
        call_delta(2, r#"{"a":1}"#),
        StreamEvent::BlockStop { index: 2 },
        StreamEvent::Usage(Usage {
            input: 10,
            output: 5,
            cache_read: 4,
            ..Usage::default()
        }),
        StreamEvent::Usage(Usage {
            output: 7,
            reasoning: 2,
            ..Usage::default()
        }),
        StreamEvent::Stop(StopReason::ToolUse),
        StreamEvent::End,
    ]
}

fn chunk(delta: Value, finish: Value) -> Value {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "gemini-2.5-flash",
        "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }],
    })
}

proptest! {
    #[test]
    fn streams_split_anywhere_decode_the_same(
        pick in 0usize..STREAMS.len(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let name = STREAMS[pick];
        let bytes = fixture(name);
        prop_assert_eq!(decode_stream(bytes, &cuts).expect("the stream decodes"), expected_stream(name));
    }
}

mod answers;
mod errors;
mod requests;
mod streams;
