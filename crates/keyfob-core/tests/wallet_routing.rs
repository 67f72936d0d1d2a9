//! Cross-provider routing through the Wallet, driven as the service worker drives it: a
//! site's grant routes one provider's calls to another, and the test checks what goes
//! upstream (URL, key, headers, body in the served dialect), what the page gets back
//! (the app's own dialect, read with the app dialect's decoders), what is audited and
//! charged (the served model), and what is refused before anything is sent.

mod common;

use common::wallet::*;
use keyfob_core::metering::audit::Routed;
use keyfob_core::metering::sse::SseSplitter;
use keyfob_core::metering::{self, AuditFilter, BudgetLimit, GrantPolicy, ModelAllowList, Period};
use keyfob_core::route::ir::{ErrorKind, Part, StopReason, StreamEvent};
use keyfob_core::route::{decode_error, decode_request, decode_response, stream_decoder, Dialect};
use keyfob_core::wallet::charge::End;
use keyfob_core::wallet::commands::{After, Answer as Reply, Command, Step};
use keyfob_core::wallet::request::Step as Next;
use keyfob_core::wallet::Record;
use keyfob_core::CoreError;
use serde_json::{json, Value};

const MESSAGES: &str = "https://api.anthropic.com/v1/messages";
const OPENAI_CHAT: &str = "https://api.openai.com/v1/chat/completions";

/// An Anthropic Messages request as `@anthropic-ai/sdk` writes it: a tool, a turn.
fn anthropic_request(stream: bool) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 256,
        "stream": stream,
        "system": "You are terse.",
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [{
            "name": "get_weather",
            "description": "Current weather for a city",
            "input_schema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"]
            }
        }]
    }))
    .expect("json")
}

/// An OpenAI Chat Completions answer with text and one tool call (API reference shape).
const OPENAI_ANSWER: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,
"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant",
"content":"Checking.","tool_calls":[{"id":"call_1","type":"function","function":{
"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],
"usage":{"prompt_tokens":20,"completion_tokens":10,"total_tokens":30}}"#;

/// The same answer streamed, with the arguments split and usage in the last chunk.
const OPENAI_STREAM: &str = concat!(
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Check\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ing.\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"ci\"}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\":\\\"Paris\\\"}\"}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":10,\"total_tokens\":30}}\n\n",
    "data: [DONE]\n\n",
);

fn run(h: &mut Harness, value: Value) -> Result<Step, CoreError> {
    let clock = h.clock();
    let command: Command = serde_json::from_value(value).expect("parses");
    h.wallet.command(command, &clock)
}

fn set_routes(h: &mut Harness, routes: Value) -> Result<Vec<After>, CoreError> {
    match run(
        h,
        json!({"cmd": "grants.setRoutes", "origin": SITE, "routes": routes}),
    )? {
        Step::Done(outcome) => {
            assert_eq!(outcome.answer, Reply::Json("true".into()));
            Ok(outcome.after)
        }
        _ => panic!("setRoutes needs no I/O"),
    }
}

/// SITE granted anthropic and openai, with an OpenAI key, and claude-* served by
/// gpt-4o-mini on OpenAI.
fn anthropic_served_by_openai() -> Harness {
    let mut h = Harness::connected();
    let now = h.now;
    h.wallet
        .set_grant_providers(SITE, vec!["anthropic".into(), "openai".into()], now)
        .expect("providers");
    let after = set_routes(
        &mut h,
        json!([{"from": "anthropic", "to": "openai",
                "models": [{"pattern": "claude-*", "model": "gpt-4o-mini"}]}]),
    )
    .expect("a valid route");
    assert_eq!(after, vec![After::Stored(Record::Grants)]);
    h
}

/// A call as `@anthropic-ai/sdk` sends it: its version and beta headers, the session
/// key as its API key.
fn anthropic_call(body: &[u8]) -> Call<'_> {
    let mut call = Call::post("anthropic", MESSAGES, body);
    call.headers.extend(headers(&[
        ("anthropic-version", "2023-06-01"),
        ("anthropic-beta", "tools-2024-05-16"),
        ("x-api-key", "kfs_session"),
        ("accept", "application/json"),
    ]));
    call
}

fn header<'a>(sent: &'a Sent, name: &str) -> Option<&'a str> {
    sent.2
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn records(h: &Harness) -> Vec<keyfob_core::metering::AuditRecord> {
    h.wallet
        .audit(&AuditFilter::default(), 100)
        .expect("log")
        .records
        .into_iter()
        .cloned()
        .collect()
}

/// Everything an Anthropic SSE stream says, read with the Anthropic decoder.
fn anthropic_events(sse: &[u8]) -> Vec<StreamEvent> {
    let mut decoder = stream_decoder(Dialect::Anthropic);
    let mut splitter = SseSplitter::new();
    let mut events = Vec::new();
    for event in splitter.feed(sse) {
        events.extend(
            decoder
                .event(&event)
                .expect("the page's stream is Anthropic SSE"),
        );
    }
    events.extend(decoder.end());
    events
}

#[test]
fn an_anthropic_app_is_served_by_openai_chat_with_the_openai_key_and_the_mapped_model() {
    let mut h = anthropic_served_by_openai();
    // A key for the called provider exists too: it must not be the one sent.
    h.add_key("anthropic", ANTHROPIC_KEY);
    let body = anthropic_request(false);
    let out = h.call_routed(
        &anthropic_call(&body),
        &Answer::json(OPENAI_ANSWER.as_bytes()),
    );
    let sent = out.outcome.sent.expect("sent");
    assert_eq!((sent.0.as_str(), sent.1.as_str()), ("POST", OPENAI_CHAT));
    assert_eq!(
        sent.2.last(),
        Some(&("authorization".to_string(), format!("Bearer {OPENAI_KEY}")))
    );
    for (name, value) in &sent.2 {
        assert!(
            !name.starts_with("anthropic-") && name != "x-api-key",
            "{name}"
        );
        assert!(
            !value.contains(ANTHROPIC_KEY) && !value.contains("kfs_"),
            "{name}"
        );
    }
    assert_eq!(header(&sent, "content-type"), Some("application/json"));
    let served = decode_request(Dialect::OpenAiChat, "chat/completions", &sent.3)
        .expect("the body is OpenAI Chat");
    assert_eq!(served.model, "gpt-4o-mini");
    assert_eq!(served.tools[0].name, "get_weather");
    assert_eq!(served.system, ["You are terse."]);
    assert_eq!(served.max_output_tokens, Some(256));

    // The page gets an Anthropic message naming the model it asked for.
    let head = out.head.expect("routed");
    assert_eq!(
        (head.content_type, head.status, head.whole),
        ("application/json", 200, true)
    );
    assert_eq!(out.status, Some(200));
    let answer = decode_response(Dialect::Anthropic, &out.page).expect("Anthropic JSON");
    assert_eq!(answer.model, "claude-sonnet-4-5");
    assert_eq!(answer.stop, Some(StopReason::ToolUse));
    assert_eq!(answer.parts[0], Part::Text("Checking.".into()));
    let Part::ToolCall {
        name, arguments, ..
    } = &answer.parts[1]
    else {
        panic!("a tool call: {:?}", answer.parts);
    };
    assert_eq!(name, "get_weather");
    let args: Value = serde_json::from_str(arguments).expect("json");
    assert_eq!(args, json!({"city": "Paris"}));
    assert_eq!((answer.usage.input, answer.usage.output), (20, 10));

    // Audited as the app's call, served and priced as the served model.
    let record = out.outcome.record.expect("audited");
    assert_eq!(record.provider, "anthropic");
    assert_eq!(record.model.as_deref(), Some("claude-sonnet-4-5"));
    assert_eq!(record.path, "/v1/messages");
    assert_eq!(
        record.routed,
        Some(Routed {
            provider: "openai".into(),
            model: Some("gpt-4o-mini-2024-07-18".into()),
            path: "/v1/chat/completions".into(),
        })
    );
    assert_eq!(
        (record.usage.input_tokens, record.usage.output_tokens),
        (20, 10)
    );
    let served_cost = metering::cost_of_usage("openai", Some("gpt-4o-mini"), &record.usage);
    let asked_cost = metering::cost_of_usage("anthropic", Some("claude-sonnet-4-5"), &record.usage);
    assert!(served_cost.is_some_and(|c| c > 0));
    assert_eq!(record.cost_nano_usd, served_cost);
    assert_ne!(record.cost_nano_usd, asked_cost);
    // The log shows and exports it.
    assert_eq!(records(&h)[0].routed, record.routed);
    let (_, _, csv) = h
        .wallet
        .export_audit(&AuditFilter::default(), "csv")
        .expect("csv");
    assert!(
        csv.contains(",anthropic->openai,claude-sonnet-4-5->gpt-4o-mini-2024-07-18,"),
        "{csv}"
    );
    let (_, _, exported) = h
        .wallet
        .export_audit(&AuditFilter::default(), "json")
        .expect("json");
    assert!(
        exported.contains(r#""routed":{"provider":"openai""#),
        "{exported}"
    );
}

#[test]
fn a_streamed_openai_answer_reaches_the_anthropic_app_as_anthropic_sse() {
    let mut h = anthropic_served_by_openai();
    let body = anthropic_request(true);
    let answer = Answer {
        status: 200,
        content_type: "text/event-stream; charset=utf-8",
        body: OPENAI_STREAM.as_bytes(),
        end: End::Finished,
    };
    let out = h.call_routed(&anthropic_call(&body), &answer);
    let sent = out.outcome.sent.expect("sent");
    let served = decode_request(Dialect::OpenAiChat, "chat/completions", &sent.3).expect("chat");
    assert!(
        served.stream && served.stream_usage,
        "usage is asked for, so it is metered"
    );
    let head = out.head.expect("routed");
    assert_eq!(
        (head.content_type, head.whole),
        ("text/event-stream", false)
    );
    let events = anthropic_events(&out.page);
    let model = events.iter().find_map(|e| match e {
        StreamEvent::Start { model, .. } => Some(model.clone()),
        _ => None,
    });
    assert_eq!(model.as_deref(), Some("claude-sonnet-4-5"));
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::TextDelta { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "Checking.");
    let call = events.iter().find_map(|e| match e {
        StreamEvent::ToolCallStart { id, name, .. } => Some((id.clone(), name.clone())),
        _ => None,
    });
    assert_eq!(call, Some(("call_1".into(), "get_weather".into())));
    let arguments: String = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallDelta { arguments, .. } => Some(arguments.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).ok(),
        Some(json!({"city": "Paris"}))
    );
    assert!(
        events.contains(&StreamEvent::Stop(StopReason::ToolUse)),
        "{events:?}"
    );
    let record = out.outcome.record.expect("audited");
    assert!(record.usage_complete);
    assert_eq!(
        (record.usage.input_tokens, record.usage.output_tokens),
        (20, 10)
    );
    assert_eq!(
        record.cost_nano_usd,
        metering::cost_of_usage("openai", Some("gpt-4o-mini"), &record.usage)
    );
}

#[test]
fn the_model_allow_list_judges_the_served_model() {
    let mut h = anthropic_served_by_openai();
    let now = h.now;
    let only = |exact: &str| GrantPolicy {
        models: ModelAllowList {
            exact: vec![exact.into()],
            prefixes: vec![],
        },
        ..GrantPolicy::default()
    };
    h.wallet
        .set_grant_policy(SITE, only("claude-sonnet-4-5"), now)
        .expect("policy");
    let body = anthropic_request(false);
    let out = h.call_routed(
        &anthropic_call(&body),
        &Answer::json(OPENAI_ANSWER.as_bytes()),
    );
    assert_eq!(
        out.outcome.refused,
        Some(CoreError::ModelNotAllowed("gpt-4o-mini".into()))
    );
    assert!(out.outcome.sent.is_none());
    let logged = &records(&h)[0];
    assert_eq!(logged.error_code.as_deref(), Some("MODEL_NOT_ALLOWED"));
    assert_eq!(
        logged.routed.as_ref().map(|r| r.provider.as_str()),
        Some("openai")
    );
    h.wallet
        .set_grant_policy(SITE, only("gpt-4o-mini"), now)
        .expect("policy");
    let out = h.call_routed(
        &anthropic_call(&body),
        &Answer::json(OPENAI_ANSWER.as_bytes()),
    );
    assert!(out.outcome.sent.is_some(), "{:?}", out.outcome.refused);
}

#[test]
fn a_budget_is_charged_and_enforced_on_the_served_model() {
    let mut h = anthropic_served_by_openai();
    let now = h.now;
    let budget = |max: u64| GrantPolicy {
        budgets: vec![BudgetLimit {
            period: Period::Month,
            max_tokens: None,
            max_cost_nano_usd: Some(max),
        }],
        ..GrantPolicy::default()
    };
    h.wallet
        .set_grant_policy(SITE, budget(1_000_000_000), now)
        .expect("policy");
    let body = anthropic_request(false);
    let out = h.call_routed(
        &anthropic_call(&body),
        &Answer::json(OPENAI_ANSWER.as_bytes()),
    );
    let record = out.outcome.record.expect("audited");
    let usage = h
        .wallet
        .site_usage(Some(SITE), 30, &h.clock())
        .expect("usage");
    let spent = usage[0].budgets[0].spent.cost_nano_usd;
    assert_eq!(
        Some(spent),
        metering::cost_of_usage("openai", Some("gpt-4o-mini"), &record.usage)
    );
    // The served estimate (gpt-4o-mini's prices, 256 output tokens at most) is about
    // $0.00016; the same request priced as claude-sonnet-4-5 would be 25 times that.
    let gpt = 1 + 256 * 600 + 40 * 150;
    h.wallet
        .set_grant_policy(SITE, budget(spent + gpt), now)
        .expect("policy");
    let out = h.call_routed(
        &anthropic_call(&body),
        &Answer::json(OPENAI_ANSWER.as_bytes()),
    );
    assert!(out.outcome.sent.is_some(), "{:?}", out.outcome.refused);
    h.wallet
        .set_grant_policy(SITE, budget(1), now)
        .expect("policy");
    let out = h.call_routed(
        &anthropic_call(&body),
        &Answer::json(OPENAI_ANSWER.as_bytes()),
    );
    assert!(matches!(
        out.outcome.refused,
        Some(CoreError::BudgetExceeded(_))
    ));
    assert!(out.outcome.sent.is_none());
}

#[test]
fn a_feature_the_served_dialect_lacks_is_refused_and_audited_with_nothing_sent() {
    let mut h = anthropic_served_by_openai();
    let mut body: Value = serde_json::from_slice(&anthropic_request(false)).expect("json");
    body["top_k"] = json!(5);
    let body = serde_json::to_vec(&body).expect("json");
    let out = h.call_routed(
        &anthropic_call(&body),
        &Answer::json(OPENAI_ANSWER.as_bytes()),
    );
    assert_eq!(
        out.outcome.refused,
        Some(CoreError::RouteUnsupported("top_k".into()))
    );
    assert!(out.outcome.sent.is_none());
    let logged = &records(&h)[0];
    assert_eq!(logged.error_code.as_deref(), Some("ROUTE_UNSUPPORTED"));
    assert_eq!(logged.cost_nano_usd, Some(0));
}

#[test]
fn a_body_over_8_mib_is_refused() {
    let mut h = anthropic_served_by_openai();
    let filler = "x".repeat(8 << 20);
    let body = serde_json::to_vec(&json!({"model": "claude-sonnet-4-5", "max_tokens": 1,
        "messages": [{"role": "user", "content": filler}]}))
    .expect("json");
    let out = h.call_routed(
        &anthropic_call(&body),
        &Answer::json(OPENAI_ANSWER.as_bytes()),
    );
    assert_eq!(
        out.outcome.refused,
        Some(CoreError::RouteUnsupported("a body over 8 MiB".into()))
    );
    assert!(out.outcome.sent.is_none());
}

#[test]
fn a_route_to_a_provider_without_a_key_is_provider_key_missing() {
    let mut h = anthropic_served_by_openai();
    set_routes(&mut h, json!([{"from": "anthropic", "to": "gemini"}])).expect("valid");
    let body = anthropic_request(false);
    let out = h.call_routed(&anthropic_call(&body), &Answer::json(b"{}"));
    assert_eq!(
        out.outcome.refused,
        Some(CoreError::ProviderKeyMissing("gemini".into()))
    );
    assert!(out.outcome.sent.is_none());
}

#[test]
fn other_calls_go_to_the_called_provider_or_are_refused_without_its_key() {
    let mut h = anthropic_served_by_openai();
    let count = Call::post(
        "anthropic",
        "https://api.anthropic.com/v1/messages/count_tokens",
        b"{}",
    );
    let out = h.call_routed(&count, &Answer::json(b"{\"input_tokens\":1}"));
    let Some(CoreError::RouteUnsupported(why)) = &out.outcome.refused else {
        panic!("refused: {:?}", out.outcome.refused);
    };
    assert!(why.contains("/v1/messages/count_tokens"), "{why}");
    assert!(out.outcome.sent.is_none());
    h.add_key("anthropic", ANTHROPIC_KEY);
    let models = Call::get("anthropic", "https://api.anthropic.com/v1/models");
    let out = h.call_routed(&models, &Answer::json(b"{\"data\":[]}"));
    let sent = out.outcome.sent.expect("sent to Anthropic itself");
    assert_eq!(sent.1, "https://api.anthropic.com/v1/models");
    assert_eq!(header(&sent, "x-api-key"), Some(ANTHROPIC_KEY));
    assert!(out.head.is_none(), "not routed: the answer goes as it is");
    assert_eq!(out.outcome.record.expect("audited").routed, None);
}

#[test]
fn without_a_key_for_the_app_its_model_list_is_written_by_the_wallet() {
    let mut h = anthropic_served_by_openai();
    let (_, step) = h.begin(&Call::get(
        "anthropic",
        "https://api.anthropic.com/v1/models",
    ));
    let Next::Answer(answer) = step else {
        panic!("not answered locally: {step:?}");
    };
    assert_eq!(
        (answer.status, answer.content_type),
        (200, "application/json")
    );
    let list: Value = serde_json::from_slice(&answer.body).expect("json");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["gpt-4o-mini"],
        "the served model, in Anthropic's shape"
    );
    assert_eq!(list["data"][0]["type"], "model");
    // A POST to the same path is not a model list.
    let (_, step) = h.begin(&Call::post(
        "anthropic",
        "https://api.anthropic.com/v1/models",
        b"{}",
    ));
    assert!(matches!(step, Next::Refuse(_)), "{step:?}");
}

#[test]
fn an_upstream_429_comes_back_in_the_apps_error_format() {
    let mut h = anthropic_served_by_openai();
    let body = anthropic_request(false);
    let error = br#"{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
    let answer = Answer {
        status: 429,
        content_type: "application/json",
        body: error,
        end: End::Finished,
    };
    let out = h.call_routed(&anthropic_call(&body), &answer);
    let head = out.head.expect("routed");
    assert_eq!((head.status, head.content_type), (429, "application/json"));
    assert_eq!(out.status, Some(429));
    let page: Value = serde_json::from_slice(&out.page).expect("json");
    assert_eq!(page["type"], "error");
    assert_eq!(page["error"]["type"], "rate_limit_error");
    let read = decode_error(Dialect::Anthropic, 429, &out.page);
    assert_eq!(read.kind, ErrorKind::RateLimited);
    assert!(
        read.message.contains("Rate limit reached"),
        "{}",
        read.message
    );
    assert_eq!(out.outcome.record.expect("audited").status, 429);
}

#[test]
fn an_answer_that_cannot_be_translated_is_the_apps_own_error() {
    let mut h = anthropic_served_by_openai();
    let body = anthropic_request(false);
    let out = h.call_routed(&anthropic_call(&body), &Answer::json(b"{\"not\":\"chat\"}"));
    assert_eq!(out.status, Some(502));
    let page: Value = serde_json::from_slice(&out.page).expect("json");
    assert_eq!(page["type"], "error", "{page}");
    assert!(!String::from_utf8_lossy(&out.page).contains("\"not\""));
}

#[test]
fn set_routes_refuses_bad_routes_with_typed_errors_and_lists_good_ones() {
    let mut h = anthropic_served_by_openai();
    let bad = [
        (
            json!([{"from": "anthropic", "to": "nope"}]),
            "UNKNOWN_PROVIDER",
        ),
        (
            json!([{"from": "anthropic", "to": "anthropic"}]),
            "INVALID_INPUT",
        ),
        (
            json!([{"from": "gemini", "to": "openai"}]),
            "PROVIDER_NOT_GRANTED",
        ),
        (
            json!([{"from": "anthropic", "to": "openai"}, {"from": "anthropic", "to": "gemini"}]),
            "INVALID_INPUT",
        ),
        (
            json!([{"from": "anthropic", "to": "cohere"}]),
            "INVALID_INPUT",
        ),
    ];
    for (routes, code) in bad {
        let error = set_routes(&mut h, routes.clone()).expect_err("refused");
        assert_eq!(error.code(), code, "{routes}");
    }
    let Step::Done(outcome) = run(&mut h, json!({"cmd": "grants.list"})).expect("list") else {
        panic!("no I/O");
    };
    let Reply::Json(text) = outcome.answer else {
        panic!("json");
    };
    let rows: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        rows[0]["routes"],
        json!([{"from": "anthropic", "to": "openai",
                "models": [{"pattern": "claude-*", "model": "gpt-4o-mini"}]}])
    );
    // Stored with the grant, and loaded by the next worker.
    h.restart_worker();
    h.wallet
        .unlock(
            &keyfob_core::secret::secret_string(PASSWORD.into()),
            &h.clock(),
        )
        .ok();
    let rows = h.wallet.grants(h.now);
    assert_eq!(rows[0].grant.routes.len(), 1);
}

#[test]
fn a_gemini_app_is_served_by_anthropic_with_the_model_from_its_path() {
    let mut h = Harness::connected();
    h.add_key("anthropic", ANTHROPIC_KEY);
    let now = h.now;
    h.wallet
        .set_grant_providers(SITE, vec!["gemini".into(), "openai".into()], now)
        .expect("providers");
    set_routes(
        &mut h,
        json!([{"from": "gemini", "to": "anthropic",
                "models": [{"pattern": "gemini-2.5-*", "model": "claude-haiku-4-5"}]}]),
    )
    .expect("valid");
    let body = br#"{"contents":[{"role":"user","parts":[{"text":"Say hi in French"}]}],"generationConfig":{"maxOutputTokens":64}}"#;
    let url =
        "https://generativelanguage.googleapis.com/v1/models/gemini-2.5-flash:generateContent";
    let mut call = Call::post("gemini", url, body);
    call.headers.extend(headers(&[
        ("x-goog-api-key", "kfs_session"),
        ("x-goog-api-client", "genai-js/3.1"),
    ]));
    let answer = br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[{"type":"text","text":"Bonjour"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":3}}"#;
    let out = h.call_routed(&call, &Answer::json(answer));
    let sent = out.outcome.sent.expect("sent");
    assert_eq!(sent.1, MESSAGES);
    assert_eq!(
        sent.2.last(),
        Some(&("x-api-key".to_string(), ANTHROPIC_KEY.to_string()))
    );
    assert!(
        sent.2.iter().all(|(n, _)| !n.starts_with("x-goog")),
        "{:?}",
        sent.2
    );
    assert_eq!(header(&sent, "anthropic-version"), Some("2023-06-01"));
    let served = decode_request(Dialect::Anthropic, "messages", &sent.3).expect("Anthropic");
    assert_eq!(served.model, "claude-haiku-4-5");
    assert_eq!(served.max_output_tokens, Some(64));
    let page = decode_response(Dialect::Gemini, &out.page).expect("Gemini JSON");
    assert_eq!(page.parts, vec![Part::Text("Bonjour".into())]);
    assert_eq!(page.model, "gemini-2.5-flash");
    let record = out.outcome.record.expect("audited");
    assert_eq!(
        (record.provider.as_str(), record.model.as_deref()),
        ("gemini", Some("gemini-2.5-flash"))
    );
    let routed = record.routed.clone().expect("routed");
    assert_eq!(routed.provider, "anthropic");
    assert_eq!(routed.path, "/v1/messages");
    assert_eq!(
        record.cost_nano_usd,
        metering::cost_of_usage("anthropic", Some("claude-haiku-4-5"), &record.usage)
    );
    assert!(record.cost_nano_usd.is_some_and(|c| c > 0));
}

#[test]
fn an_approval_shows_the_served_price_and_a_route_changed_meanwhile_refuses() {
    let mut h = anthropic_served_by_openai();
    let now = h.now;
    let ask = GrantPolicy {
        ask_above_nano_usd: Some(0),
        ..GrantPolicy::default()
    };
    h.wallet.set_grant_policy(SITE, ask, now).expect("policy");
    let body = anthropic_request(false);
    let call = anthropic_call(&body);
    let (id, step) = h.begin(&call);
    let keyfob_core::wallet::request::Step::Ask { approval, .. } = step else {
        panic!("asks: {step:?}");
    };
    let shown = h
        .wallet
        .request_approval(&approval)
        .expect("pending")
        .clone();
    assert_eq!(shown.provider, "openai");
    assert_eq!(shown.model.as_deref(), Some("gpt-4o-mini"));
    let requested = shown.requested.expect("routed");
    assert_eq!(requested.provider, "anthropic");
    assert_eq!(requested.model.as_deref(), Some("claude-sonnet-4-5"));
    // The user removes the route while the window is open, then approves.
    set_routes(&mut h, json!([])).expect("valid");
    h.wallet.decide_request(&approval, true).expect("waiting");
    let clock = h.clock();
    let step = h.wallet.continue_request(id, &clock);
    let keyfob_core::wallet::request::Step::Refuse(CoreError::RouteUnsupported(why)) = step else {
        panic!("refused: {step:?}");
    };
    assert!(why.contains("route changed"), "{why}");
}

#[test]
fn a_whole_answer_to_a_streamed_request_is_the_apps_error_not_the_providers_bytes() {
    let mut h = anthropic_served_by_openai();
    let body = anthropic_request(true);
    let out = h.call_routed(
        &anthropic_call(&body),
        &Answer::json(OPENAI_ANSWER.as_bytes()),
    );
    let head = out.head.expect("routed");
    assert_eq!(
        (head.status, head.content_type, head.whole),
        (502, "application/json", true)
    );
    assert_eq!(out.status, Some(502));
    let read = decode_error(Dialect::Anthropic, 502, &out.page);
    assert_eq!(read.kind, ErrorKind::Server);
    assert!(!String::from_utf8_lossy(&out.page).contains("chatcmpl"));
}

#[test]
fn a_gemini_stream_without_alt_sse_is_not_routed() {
    let mut h = Harness::connected();
    h.add_key("anthropic", ANTHROPIC_KEY);
    let now = h.now;
    h.wallet
        .set_grant_providers(SITE, vec!["gemini".into(), "openai".into()], now)
        .expect("providers");
    set_routes(&mut h, json!([{"from": "gemini", "to": "anthropic"}])).expect("valid");
    let body = br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#;
    let url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent";
    let out = h.call_routed(&Call::post("gemini", url, body), &Answer::json(b"{}"));
    assert_eq!(
        out.outcome.refused,
        Some(CoreError::RouteUnsupported(
            "streamGenerateContent without alt=sse".into()
        ))
    );
    assert!(out.outcome.sent.is_none());
    // With alt=sse it is served by Anthropic as a stream.
    let url = format!("{url}?alt=sse");
    let (_, step) = h.begin(&Call::post("gemini", &url, body));
    let keyfob_core::wallet::request::Step::Send(upstream) = step else {
        panic!("sent: {step:?}");
    };
    assert_eq!(upstream.url, MESSAGES);
    let keyfob_core::wallet::request::UpstreamBody::Replaced(sent) = &upstream.body else {
        panic!("the encoded body");
    };
    let served = decode_request(Dialect::Anthropic, "messages", sent).expect("Anthropic");
    assert!(served.stream);
    assert_eq!(served.model, "gemini-2.5-flash", "no rule: the app's model");
}

#[test]
fn a_route_via_openai_responses_sends_the_anthropic_app_there_and_a_via_the_provider_lacks_is_refused(
) {
    let mut h = anthropic_served_by_openai();
    let refused = set_routes(
        &mut h,
        json!([{"from": "anthropic", "to": "openai", "via": "gemini"}]),
    );
    let Err(CoreError::InvalidInput(why)) = refused else {
        panic!("accepted: {refused:?}");
    };
    assert!(why.contains("generateContent"), "{why}");
    set_routes(
        &mut h,
        json!([{"from": "anthropic", "to": "openai", "via": "open_ai_responses",
                "models": [{"pattern": "claude-*", "model": "gpt-4o-mini"}]}]),
    )
    .expect("OpenAI serves Responses");
    let body = anthropic_request(false);
    let answer = json!({
        "id": "resp_1", "object": "response", "status": "completed", "model": "gpt-4o-mini",
        "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": "via responses", "annotations": []}]}],
        "usage": {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}
    })
    .to_string();
    let out = h.call_routed(&anthropic_call(&body), &Answer::json(answer.as_bytes()));
    let sent = out.outcome.sent.expect("sent");
    assert_eq!(sent.1, "https://api.openai.com/v1/responses");
    let served = decode_request(Dialect::OpenAiResponses, "responses", &sent.3)
        .expect("the body is OpenAI Responses");
    assert_eq!(served.model, "gpt-4o-mini");
    let page: Value = serde_json::from_slice(&out.page).expect("the app's answer");
    assert_eq!(page["content"][0]["text"], "via responses");
    assert_eq!(page["type"], "message");
}
