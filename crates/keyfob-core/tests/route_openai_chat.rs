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
        &[$(($name, include_bytes!(concat!("data/route/openai_chat/", $name)).as_slice())),*]
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

#[test]
fn the_full_request_decodes_field_by_field() {
    let request = decode_request("chat/completions", fixture("request_full.json"))
        .expect("the request decodes");
    let expected = full_request();
    assert_eq!(request.model, expected.model);
    assert_eq!(request.system, expected.system);
    assert_eq!(request.messages.len(), expected.messages.len());
    for (got, want) in request.messages.iter().zip(&expected.messages) {
        assert_eq!(got, want);
    }
    assert_eq!(request.tools, expected.tools);
    assert_eq!(request.tool_choice, expected.tool_choice);
    assert_eq!(request.parallel_tool_calls, Some(true));
    // `max_completion_tokens` wins over the deprecated `max_tokens`.
    assert_eq!(request.max_output_tokens, Some(800));
    assert_eq!(request.temperature, Some(0.2));
    assert_eq!(request.top_p, Some(0.9));
    assert_eq!(request.stop, expected.stop);
    assert!(request.stream);
    assert!(request.stream_usage);
    assert_eq!(request.response_format, expected.response_format);
    assert_eq!(request.reasoning, expected.reasoning);
    assert_eq!(request, expected);
}

#[test]
fn the_full_request_encodes_as_chat_completions() {
    let encoded = encode_request(&full_request()).expect("the request encodes");
    assert_eq!(encoded.endpoint, "chat/completions");
    let expected = json!({
        "model": "gpt-4.1-mini",
        "messages": [
            { "role": "system", "content": "You are a travel assistant." },
            { "role": "system", "content": "Answer in French." },
            { "role": "system", "content": "Be brief." },
            { "role": "user", "content": "Bonjour !" },
            { "role": "assistant", "content": "Bonjour, comment puis-je aider ?" },
            { "role": "user", "content": [
                { "type": "text", "text": "What is the weather where these photos were taken?" },
                { "type": "image_url", "image_url": { "url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==" } },
                { "type": "image_url", "image_url": { "url": "https://example.com/paris.jpg" } },
            ] },
            { "role": "assistant", "content": null, "tool_calls": [
                { "id": "call_Ab12", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } },
                { "id": "call_Cd34", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Lyon\"}" } },
            ] },
            { "role": "tool", "tool_call_id": "call_Ab12", "content": "18°C, cloudy" },
            { "role": "tool", "tool_call_id": "call_Cd34", "content": "22°C, sunny" },
            { "role": "user", "content": "Merci. Et demain ?" },
        ],
        "tools": [
            { "type": "function", "function": {
                "name": "get_weather",
                "description": "Current weather for a city",
                "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] },
            } },
            { "type": "function", "function": { "name": "get_time", "parameters": { "type": "object", "properties": {} } } },
        ],
        "tool_choice": { "type": "function", "function": { "name": "get_weather" } },
        "parallel_tool_calls": true,
        "max_completion_tokens": 800,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["\n\n###"],
        "stream": true,
        "stream_options": { "include_usage": true },
        "response_format": { "type": "json_schema", "json_schema": {
            "name": "forecast",
            "schema": { "type": "object", "properties": { "summary": { "type": "string" } } },
            "strict": true,
        } },
        "reasoning_effort": "low",
    });
    assert_eq!(json_of(&encoded.body), expected);
}

#[test]
fn requests_round_trip() {
    let full = full_request();
    assert_eq!(
        decode_request(
            "chat/completions",
            &encode_request(&full).expect("the request encodes").body
        ),
        Ok(full)
    );
    let minimal = ChatRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![Message {
            role: Role::User,
            parts: vec![text("Hi")],
        }],
        tool_choice: Some(ToolChoice::Required),
        response_format: Some(ResponseFormat::JsonObject),
        ..ChatRequest::default()
    };
    let body = encode_request(&minimal).expect("the request encodes").body;
    assert_eq!(
        json_of(&body),
        json!({
            "model": "gpt-4o-mini",
            "messages": [{ "role": "user", "content": "Hi" }],
            "tool_choice": "required",
            "response_format": { "type": "json_object" },
        })
    );
    assert_eq!(decode_request("chat/completions", &body), Ok(minimal));
}

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
fn the_encoder_refuses_what_chat_cannot_say() {
    let base = ChatRequest {
        model: "gpt-4o".into(),
        ..ChatRequest::default()
    };
    let tool = |name: &str| ToolDef {
        name: name.into(),
        description: None,
        parameters: json!({ "type": "object" }),
    };
    let long = ChatRequest {
        tools: vec![tool(&"t".repeat(65))],
        ..base.clone()
    };
    assert_eq!(
        encode_request(&long),
        Err(unsupported("a tool name over 64 characters"))
    );
    let dotted = ChatRequest {
        tools: vec![tool("maps.search")],
        ..base.clone()
    };
    assert_eq!(
        encode_request(&dotted),
        Err(unsupported("a tool name outside [A-Za-z0-9_-]"))
    );
    assert!(encode_request(&ChatRequest {
        tools: vec![tool(&"t".repeat(64))],
        ..base.clone()
    })
    .is_ok());
    let budget = ChatRequest {
        reasoning: Some(Reasoning {
            budget_tokens: Some(4096),
            ..Reasoning::default()
        }),
        ..base.clone()
    };
    assert_eq!(
        encode_request(&budget),
        Err(unsupported("thinking budget_tokens"))
    );
    let image_result = ChatRequest {
        messages: vec![Message {
            role: Role::User,
            parts: vec![Part::ToolResult {
                call_id: "call_1".into(),
                name: None,
                content: vec![Part::Image(Image::Url("https://example.com/a.png".into()))],
                is_error: false,
            }],
        }],
        ..base.clone()
    };
    assert_eq!(
        encode_request(&image_result),
        Err(unsupported("a non-text tool result"))
    );
    let image_reply = ChatRequest {
        messages: vec![Message {
            role: Role::Assistant,
            parts: vec![Part::Image(Image::Url("https://example.com/a.png".into()))],
        }],
        ..base
    };
    assert_eq!(
        encode_request(&image_reply),
        Err(unsupported("an image in an assistant turn"))
    );
}

#[test]
fn a_token_on_an_app_call_id_comes_back_as_the_signature() {
    let id = ir::id_with_token("call_7", &gemini_token());
    let body = json!({
        "model": "gpt-4o",
        "messages": [
            { "role": "user", "content": "Weather?" },
            { "role": "assistant", "content": "", "reasoning_content": "Use the tool.", "tool_calls": [
                { "id": id, "type": "function", "function": { "name": "get_weather", "arguments": "{}" } },
            ] },
            { "role": "tool", "tool_call_id": id, "content": "sunny" },
        ],
    });
    let request = decode_request("chat/completions", body.to_string().as_bytes())
        .expect("the request decodes");
    assert_eq!(
        request.messages[1].parts,
        vec![
            Part::Thinking {
                text: "Use the tool.".into(),
                signature: None
            },
            Part::ToolCall {
                id: "call_7".into(),
                name: "get_weather".into(),
                arguments: "{}".into(),
                signature: Some(gemini_token()),
            },
        ]
    );
    assert_eq!(request.messages[2].parts, vec![result("call_7", "sunny")]);
}

#[test]
fn the_endpoint_must_be_chat_completions() {
    let error = decode_request("responses", fixture("request_full.json")).expect_err("refused");
    assert!(is_malformed(&error), "{error:?}");
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

#[test]
fn fail_fixtures_are_refused_exactly() {
    for (name, want) in FAIL_FIXTURES {
        let error = refusal_of(name);
        match want {
            Some(feature) => assert_eq!(error, unsupported(feature), "{name}"),
            None => assert!(is_malformed(&error), "{name}: {error:?}"),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn every_fixture_on_disk_is_tested() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/route/openai_chat");
    for entry in std::fs::read_dir(dir).expect("the fixture folder") {
        let name = entry
            .expect("a folder entry")
            .file_name()
            .into_string()
            .expect("a folder entry");
        if name == "README.md" {
            continue;
        }
        assert!(
            FIXTURES.iter().any(|(file, _)| *file == name),
            "{name} is not embedded"
        );
        if name.starts_with("fail_") {
            assert!(
                FAIL_FIXTURES.iter().any(|(file, _)| *file == name),
                "{name} has no verdict"
            );
        }
    }
    let readme = std::fs::read_to_string(format!("{dir}/README.md")).expect("README.md");
    for (name, _) in FIXTURES {
        assert!(readme.contains(name), "README.md does not name {name}");
    }
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

#[test]
fn the_encoder_writes_what_openai_node_reads() {
    let signed_id = ir::id_with_token("call_1", &gemini_token());
    let mut expected = vec![
        chunk(json!({ "role": "assistant", "content": "" }), Value::Null),
        chunk(json!({ "content": "Hi" }), Value::Null),
        // Tool calls are numbered among tool calls only, from 0.
        chunk(
            json!({ "tool_calls": [{ "index": 0, "id": signed_id, "type": "function",
                                     "function": { "name": "f", "arguments": "" } }] }),
            Value::Null,
        ),
        chunk(
            json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{}" } }] }),
            Value::Null,
        ),
        chunk(
            json!({ "tool_calls": [{ "index": 1, "id": "call_2", "type": "function",
                                     "function": { "name": "g", "arguments": "" } }] }),
            Value::Null,
        ),
        chunk(
            json!({ "tool_calls": [{ "index": 1, "function": { "arguments": "{\"a\":1}" } }] }),
            Value::Null,
        ),
        chunk(json!({}), json!("tool_calls")),
    ];
    let without_usage = frames(&encode_stream(&app_request(false), &two_call_events()));
    let mut plain = expected.clone();
    plain.push(json!("[DONE]"));
    assert_eq!(without_usage, plain);

    expected.push(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "gemini-2.5-flash",
        "choices": [],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 7,
            "total_tokens": 17,
            "prompt_tokens_details": { "cached_tokens": 4 },
            "completion_tokens_details": { "reasoning_tokens": 2 },
        },
    }));
    expected.push(json!("[DONE]"));
    assert_eq!(
        frames(&encode_stream(&app_request(true), &two_call_events())),
        expected
    );
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
fn calls_without_index_or_id_get_distinct_ids() {
    // Some compatible servers send whole calls with neither `index` nor `id`.
    let stream = concat!(
        "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[",
        "{\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"},\"type\":\"function\"}]}}]}\n\n",
        "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[",
        "{\"id\":\"\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{}\"},\"type\":\"function\"}]}}]}\n\n",
        "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    let events = decode_stream(stream.as_bytes(), &[]).expect("the stream decodes");
    let ids: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::ToolCallStart { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, ["call_0", "call_1"]);
    // No usage came: the stop is said at `[DONE]`.
    assert_eq!(
        events[events.len() - 2],
        StreamEvent::Stop(StopReason::ToolUse)
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

#[test]
fn the_translator_serves_a_chat_app_from_a_chat_provider() {
    let app = decode_request("chat/completions", fixture("request_full.json"))
        .expect("the request decodes");
    let mut translator = StreamTranslator::new(Dialect::OpenAiChat, Dialect::OpenAiChat, &app);
    let bytes = fixture("stream_tools.sse");
    let mut out = translator.feed(&bytes[..bytes.len() / 2]);
    out.extend(translator.feed(&bytes[bytes.len() / 2..]));
    out.extend(translator.finish());
    let frames = frames(&out);
    assert_eq!(frames.last(), Some(&json!("[DONE]")));
    assert_eq!(
        frames[frames.len() - 2]["usage"]["prompt_tokens"],
        json!(82)
    );
    assert_eq!(
        decode_stream(&out, &[]).expect("the stream decodes"),
        expected_stream("stream_tools.sse")
    );
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

// ---- errors ----

#[test]
fn error_bodies_decode_by_status() {
    let cases = [
        ("error_400.json", 400, ErrorKind::InvalidRequest, "Invalid value for 'temperature': expected a number."),
        ("error_401.json", 401, ErrorKind::Authentication, "Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys."),
        ("error_403.json", 403, ErrorKind::PermissionDenied, "Country, region, or territory not supported"),
        ("error_404.json", 404, ErrorKind::NotFound, "The model `gpt-9` does not exist or you do not have access to it."),
        ("error_404_ollama.json", 404, ErrorKind::NotFound, "model \"llama9\" not found, try pulling it first"),
        ("error_429.json", 429, ErrorKind::RateLimited, "Rate limit reached for gpt-4o in organization org-xyz on tokens per min (TPM): Limit 30000, Used 29800, Requested 900."),
        ("error_500.json", 500, ErrorKind::Server, "The server had an error while processing your request. Sorry about that!"),
        ("error_503.json", 503, ErrorKind::Overloaded, "The engine is currently overloaded, please try again later"),
    ];
    for (name, status, kind, message) in cases {
        assert_eq!(
            decode_error(status, fixture(name)),
            ProviderError {
                status,
                kind,
                message: message.into()
            },
            "{name}"
        );
    }
    let html = decode_error(502, b"<html><body>502 Bad Gateway</body></html>\n");
    assert_eq!(html.kind, ErrorKind::Server);
    assert_eq!(html.message, "<html><body>502 Bad Gateway</body></html>");
    assert_eq!(decode_error(504, b"").message, "HTTP 504");
}

#[test]
fn errors_encode_as_openai_error_bodies_and_round_trip() {
    let cases = [
        (
            400,
            ErrorKind::InvalidRequest,
            "invalid_request_error",
            Value::Null,
        ),
        (
            401,
            ErrorKind::Authentication,
            "authentication_error",
            json!("invalid_api_key"),
        ),
        (
            403,
            ErrorKind::PermissionDenied,
            "permission_error",
            Value::Null,
        ),
        (404, ErrorKind::NotFound, "not_found_error", Value::Null),
        (
            429,
            ErrorKind::RateLimited,
            "rate_limit_error",
            json!("rate_limit_exceeded"),
        ),
        (
            503,
            ErrorKind::Overloaded,
            "server_error",
            json!("overloaded"),
        ),
        (500, ErrorKind::Server, "server_error", Value::Null),
    ];
    for (status, kind, kind_name, code) in cases {
        let error = ProviderError {
            status,
            kind,
            message: "nope".into(),
        };
        let body = encode_error(&error);
        assert_eq!(
            json_of(&body),
            json!({ "error": { "message": "nope", "type": kind_name, "param": null, "code": code } })
        );
        assert_eq!(decode_error(status, &body), error);
        // Mid-stream, without a status, the kind and status come back from type and code.
        let events = [
            start("c", "m"),
            StreamEvent::Error(error.clone()),
            StreamEvent::End,
        ];
        let bytes = encode_stream(&app_request(true), &events);
        assert_eq!(
            decode_stream(&bytes, &[]).expect("the stream decodes"),
            events.to_vec()
        );
    }
}
