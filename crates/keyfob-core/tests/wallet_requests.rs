//! The request flow of the Wallet, end to end through its public API: what goes upstream,
//! what is refused (and whether it is audited), and what is charged.

mod common;

use common::wallet::*;
use keyfob_core::metering::{
    self, request_body, AuditFilter, BudgetLimit, GrantPolicy, ModelAllowList, Period, Surface,
    Usage,
};
use keyfob_core::wallet::charge::End;
use keyfob_core::wallet::request::Step;
use keyfob_core::CoreError;

const CHAT: &str = "https://api.openai.com/v1/chat/completions";
const CHAT_JSON: &[u8] = include_bytes!("data/metering/openai_chat.json");
const CHAT_SSE: &[u8] = include_bytes!("data/metering/openai_chat_stream.sse");

fn policy(h: &mut Harness, policy: GrantPolicy) {
    let now = h.now;
    h.wallet
        .set_grant_policy(SITE, policy, now)
        .expect("valid policy");
}

fn mini_only() -> GrantPolicy {
    GrantPolicy {
        models: ModelAllowList {
            exact: vec!["gpt-4o-mini".into()],
            prefixes: vec![],
        },
        ..GrantPolicy::default()
    }
}

fn records(h: &Harness) -> usize {
    h.wallet
        .audit(&AuditFilter::default(), 5_000)
        .expect("unlocked")
        .total
}

#[test]
fn an_allowed_call_goes_upstream_with_the_real_key_last_and_is_audited() {
    let mut h = Harness::connected();
    let body = br#"{"model":"gpt-4o-mini","messages":[]}"#;
    let mut call = Call::post("openai", CHAT, body);
    let session = format!("Bearer {}", h.session_key());
    call.headers.push(("authorization".into(), session.clone()));
    call.headers
        .push(("x-keyfob-reason".into(), "summarise".into()));
    let out = h.call(&call, &Answer::json(CHAT_JSON));
    let (method, url, headers, sent) = out.sent.expect("sent");
    assert_eq!((method.as_str(), url.as_str()), ("POST", CHAT));
    assert_eq!(
        headers.last(),
        Some(&("authorization".to_string(), format!("Bearer {OPENAI_KEY}")))
    );
    assert!(headers
        .iter()
        .all(|(n, v)| *v != session && !n.starts_with("x-keyfob")));
    assert_eq!(sent, body);
    let record = out.record.expect("audited");
    assert_eq!(record.model.as_deref(), Some("gpt-5-mini-2025-08-07"));
    assert_eq!(
        (record.usage.input_tokens, record.usage.output_tokens),
        (19, 523)
    );
    assert!(record.usage_complete);
    assert_eq!(record.note.reason.as_deref(), Some("summarise"));
}

#[test]
fn the_upstream_method_is_the_planned_one() {
    let mut h = Harness::connected();
    let mut call = Call::get("openai", "https://api.openai.com/v1/models");
    call.method = "get";
    let out = h.call(&call, &Answer::json(b"{\"data\":[]}"));
    assert_eq!(out.sent.expect("sent").0, "GET");
    call.method = "";
    assert_eq!(
        h.call(&call, &Answer::json(b"{}")).sent.expect("sent").0,
        "GET"
    );
}

#[test]
fn unauthorised_calls_are_refused_without_an_audit_record() {
    let mut h = Harness::connected();
    let mut call = Call::get("openai", "https://api.openai.com/v1/models");
    h.session = None; // no session key
    let out = h.call(&call, &Answer::json(b"{}"));
    assert_eq!(out.refused, Some(CoreError::SessionInvalid));
    call.provider = "anthropic";
    h.session = Some(h.approve(SITE, &["openai"]));
    let out = h.call(&call, &Answer::json(b"{}"));
    assert!(matches!(
        out.refused,
        Some(CoreError::ProviderNotGranted(_))
    ));
    let call = Call::get("openai", "https://evil.test/v1/models");
    assert!(matches!(
        h.call(&call, &Answer::json(b"{}")).refused,
        Some(CoreError::UrlNotAllowed(_))
    ));
    assert_eq!(records(&h), 0);
}

#[test]
fn policy_refusals_happen_before_sending_and_are_audited() {
    let mut h = Harness::connected();
    policy(&mut h, mini_only());
    let out = h.call(
        &Call::post("openai", CHAT, br#"{"model":"gpt-4o"}"#),
        &Answer::json(CHAT_JSON),
    );
    assert!(out.sent.is_none());
    assert_eq!(
        out.refused,
        Some(CoreError::ModelNotAllowed("gpt-4o".into()))
    );
    let files = Call::post("openai", "https://api.openai.com/v1/files", b"{}");
    let out = h.call(&files, &Answer::json(b"{}"));
    assert!(matches!(out.refused, Some(CoreError::AgentScopeMissing(_))));
    let page = h.wallet.audit(&AuditFilter::default(), 10).expect("log");
    assert_eq!(page.total, 2);
    assert_eq!(
        page.records[1].error_code.as_deref(),
        Some("MODEL_NOT_ALLOWED")
    );
    assert_eq!(page.records[1].model.as_deref(), Some("gpt-4o"));
    assert_eq!(page.records[1].cost_nano_usd, Some(0));
    let mut allowed = mini_only();
    allowed.surfaces.push(Surface::Files);
    policy(&mut h, allowed);
    assert!(h.call(&files, &Answer::json(b"{}")).sent.is_some());
}

#[test]
fn a_model_after_megabytes_of_body_is_still_found() {
    // Hole: bodies over the meter's old 4 MiB read cap skipped every policy.
    let mut h = Harness::connected();
    policy(&mut h, mini_only());
    let padding = "x".repeat(5 << 20);
    let body = format!(r#"{{"messages":[{{"role":"user","content":"{padding}"}}],"model":"o3"}}"#);
    let out = h.call(
        &Call::post("openai", CHAT, body.as_bytes()),
        &Answer::json(CHAT_JSON),
    );
    assert_eq!(out.refused, Some(CoreError::ModelNotAllowed("o3".into())));
    assert!(out.sent.is_none());
}

#[test]
fn a_budget_and_the_audit_log_agree_to_the_nano_dollar() {
    let mut h = Harness::connected();
    policy(
        &mut h,
        GrantPolicy {
            budgets: vec![BudgetLimit {
                period: Period::Month,
                max_tokens: None,
                max_cost_nano_usd: Some(1_000_000_000),
            }],
            ..GrantPolicy::default()
        },
    );
    let chat = br#"{"model":"gpt-4o-mini","stream":true,"max_tokens":50,"messages":[]}"#;
    let endings = [
        (200, CHAT_SSE, End::Finished),
        (200, &CHAT_SSE[..CHAT_SSE.len() / 2], End::Broken),
        (200, &CHAT_SSE[..100], End::Aborted),
        (429, &b"{\"error\":{}}"[..], End::Finished),
    ];
    for (status, body, end) in endings {
        let answer = Answer {
            status,
            content_type: "text/event-stream",
            body,
            end,
        };
        h.call(&Call::post("openai", CHAT, chat), &answer)
            .record
            .expect("audited");
    }
    // Sent, but no answer: timed out; and nobody answered at all.
    for end in [End::TimedOut, End::Unreachable] {
        let (id, step) = h.begin(&Call::post("openai", CHAT, chat));
        assert!(matches!(step, Step::Send(_)));
        let clock = h.clock();
        h.wallet.end_request(id, end, &clock).expect("audited");
    }
    let usage = h
        .wallet
        .site_usage(Some(SITE), 30, &h.clock())
        .expect("usage");
    let spent = usage[0].budgets[0].spent.cost_nano_usd;
    let page = h.wallet.audit(&AuditFilter::default(), 100).expect("log");
    let logged: u64 = page
        .records
        .iter()
        .map(|r| r.cost_nano_usd.unwrap_or(0))
        .sum();
    assert_eq!(spent, logged, "budget and audit log disagree");
    assert_eq!(usage[0].summary.total.totals.cost_nano_usd, spent);
    assert_eq!(
        usage[0].budgets[0].reserved.tokens, 0,
        "a reservation was left open"
    );
    let unreachable = page.records[0];
    assert_eq!(
        unreachable.cost_nano_usd,
        Some(0),
        "nothing reached the provider"
    );
    assert_eq!(
        unreachable.error_code.as_deref(),
        Some("UPSTREAM_UNREACHABLE")
    );
    assert!(
        page.records[1].cost_nano_usd > Some(0),
        "a timed-out request may be billed"
    );
}

#[test]
fn an_unknown_model_is_never_free_under_a_usd_budget() {
    let mut h = Harness::connected();
    policy(
        &mut h,
        GrantPolicy {
            budgets: vec![BudgetLimit {
                period: Period::Day,
                max_tokens: None,
                max_cost_nano_usd: Some(5_000_000_000),
            }],
            ..GrantPolicy::default()
        },
    );
    let out = h.call(
        &Call::post("openai", CHAT, br#"{"model":"my-finetune"}"#),
        &Answer::json(CHAT_JSON),
    );
    assert!(matches!(out.refused, Some(CoreError::BudgetExceeded(m)) if m.contains("unknown")));
}

#[test]
fn streaming_chat_gets_usage_reporting_switched_on() {
    let mut h = Harness::connected();
    let body = br#"{"model":"gpt-4o-mini","stream":true,"messages":[]}"#;
    let answer = Answer {
        status: 200,
        content_type: "text/event-stream",
        body: CHAT_SSE,
        end: End::Finished,
    };
    let out = h.call(&Call::post("openai", CHAT, body), &answer);
    let sent = String::from_utf8(out.sent.expect("sent").3).expect("utf-8");
    assert!(
        sent.contains(r#""stream_options":{"include_usage":true}"#),
        "{sent}"
    );
    assert!(out.record.expect("audited").usage_complete);
}

#[test]
fn per_request_approval_waits_for_the_user() {
    let mut h = Harness::connected();
    policy(
        &mut h,
        GrantPolicy {
            ask_above_nano_usd: Some(0),
            ..GrantPolicy::default()
        },
    );
    let call = Call::post("openai", CHAT, br#"{"model":"gpt-4o","max_tokens":10}"#);
    for approve in [true, false] {
        let (id, step) = h.begin(&call);
        let Step::Ask {
            approval,
            timeout_ms,
        } = step
        else {
            panic!("expected an approval, got {step:?}");
        };
        assert_eq!(timeout_ms, 120_000);
        let shown = h.wallet.request_approval(&approval).expect("waiting");
        assert_eq!(
            (shown.origin.as_str(), shown.model.as_deref()),
            (SITE, Some("gpt-4o"))
        );
        assert!(shown.estimated_max_usd.is_some());
        h.wallet.request_window_opened(&approval, Some(9));
        if approve {
            assert_eq!(
                h.wallet.decide_request(&approval, true),
                Some((id, Some(9)))
            );
        } else {
            assert_eq!(h.wallet.request_approvals_in(9), vec![approval.clone()]);
            assert_eq!(
                h.wallet.decide_request(&approval, false),
                Some((id, Some(9)))
            );
        }
        let clock = h.clock();
        let step = h.wallet.continue_request(id, &clock);
        let out = h.finish(id, step, &call, &Answer::json(CHAT_JSON));
        assert_eq!(out.sent.is_some(), approve);
        assert_eq!(out.refused.is_some(), !approve);
        assert!(h.wallet.request_approval(&approval).is_err());
    }
}

#[test]
fn a_flood_of_calls_needing_approval_opens_one_window_per_caller() {
    let mut h = Harness::connected();
    let ask_always = GrantPolicy {
        ask_above_nano_usd: Some(0),
        ..GrantPolicy::default()
    };
    policy(&mut h, ask_always.clone());
    let other = h.approve(OTHER, &["openai"]);
    h.wallet
        .set_grant_policy(OTHER, ask_always, h.now)
        .expect("valid policy");
    let call = Call::post("openai", CHAT, br#"{"model":"gpt-4o","max_tokens":10}"#);
    let before = records(&h);
    let (first, step) = h.begin(&call);
    let Step::Ask { approval, .. } = step else {
        panic!("expected an approval, got {step:?}");
    };
    for _ in 0..5 {
        let out = h.call(&call, &Answer::json(CHAT_JSON));
        assert!(out.sent.is_none());
        assert_eq!(out.refused, Some(CoreError::ApprovalPending));
    }
    // Refused after authorisation, so audited, at no cost.
    assert_eq!(records(&h), before + 5);
    let page = h.wallet.audit(&AuditFilter::default(), 1).expect("log");
    assert_eq!(
        page.records[0].error_code.as_deref(),
        Some("APPROVAL_PENDING")
    );
    assert_eq!(page.records[0].cost_nano_usd, Some(0));
    // Another caller's approval is its own.
    let (theirs, step) = h.begin_as(&site(OTHER), Some(&other.session_key), &call);
    let Step::Ask {
        approval: their_approval,
        ..
    } = step
    else {
        panic!("expected an approval for the other site, got {step:?}");
    };
    assert!(h.wallet.decide_request(&their_approval, false).is_some());
    let clock = h.clock();
    let _ = h.wallet.continue_request(theirs, &clock);
    // The waiting call is still answered by the user's decision, and then the caller
    // may be asked again.
    assert_eq!(
        h.wallet.decide_request(&approval, true),
        Some((first, None))
    );
    let clock = h.clock();
    let step = h.wallet.continue_request(first, &clock);
    let out = h.finish(first, step, &call, &Answer::json(CHAT_JSON));
    assert!(out.sent.is_some());
    assert!(matches!(h.begin(&call).1, Step::Ask { .. }));
}

#[test]
fn last_used_is_stored_at_most_once_a_minute() {
    let mut h = Harness::connected();
    let call = Call::get("openai", "https://api.openai.com/v1/models");
    let writes = h.store.writes;
    for _ in 0..5 {
        h.call(&call, &Answer::json(b"{}"));
        h.persist();
    }
    let vault_writes = h.store.writes - writes;
    h.restart_worker();
    let used = h.wallet.credentials().expect("unlocked")[0].last_used_ms;
    assert!(used.is_some(), "last used survives a worker restart");
    // Per call: budgets and log (coalesced), plus the vault once.
    assert!(vault_writes <= 5 * 2 + 1, "{vault_writes} writes");
}

#[test]
fn a_locked_wallet_refuses_and_in_flight_calls_still_settle() {
    let mut h = Harness::connected();
    let call = Call::post("openai", CHAT, br#"{"model":"gpt-4o-mini"}"#);
    let (id, step) = h.begin(&call);
    assert!(matches!(step, Step::Send(_)));
    h.wallet.lock(h.now);
    assert_eq!(
        h.call(&call, &Answer::json(CHAT_JSON)).refused,
        Some(CoreError::WalletLocked)
    );
    let clock = h.clock();
    assert!(h.wallet.response_head(id, 200, Some("application/json")));
    h.wallet.response_body(id, CHAT_JSON);
    assert!(h.wallet.end_request(id, End::Finished, &clock).is_some());
    h.wallet
        .unlock(&keyfob_core::secret::secret_string(PASSWORD.into()), &clock)
        .expect("unlock");
    assert_eq!(records(&h), 1, "the record made while locked is kept");
}

// ---- Background responses (OpenAI Responses `"background": true`) ----
//
// The answers follow OpenAI's "Background mode" guide: the create call answers at once
// with `status: "queued"` and `usage: null`; `GET /v1/responses/{id}` answers
// `in_progress`, then `completed` with the usage.

const RESPONSES: &str = "https://api.openai.com/v1/responses";
const BG_BODY: &[u8] =
    br#"{"model":"gpt-4o-mini","input":"work on it later","background":true,"max_output_tokens":64}"#;
const BG_ID: &str = "resp_68af4030592c81938ec0a5fbab4a3e9f";
const BG_QUEUED: &[u8] = br#"{"id":"resp_68af4030592c81938ec0a5fbab4a3e9f","object":"response","created_at":1756315696,"status":"queued","background":true,"model":"gpt-4o-mini-2024-07-18","output":[],"usage":null}"#;
const BG_RUNNING: &[u8] = br#"{"id":"resp_68af4030592c81938ec0a5fbab4a3e9f","object":"response","created_at":1756315696,"status":"in_progress","background":true,"model":"gpt-4o-mini-2024-07-18","output":[],"usage":null}"#;
const BG_DONE: &[u8] = br#"{"id":"resp_68af4030592c81938ec0a5fbab4a3e9f","object":"response","created_at":1756315696,"status":"completed","background":true,"model":"gpt-4o-mini-2024-07-18","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"done","annotations":[]}]}],"usage":{"input_tokens":90000,"input_tokens_details":{"cached_tokens":0},"output_tokens":30000,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":120000}}"#;

fn with_surfaces(surfaces: &[Surface]) -> GrantPolicy {
    GrantPolicy {
        surfaces: surfaces.to_vec(),
        // A budget, so the spent total can be read back (it is never reached).
        budgets: vec![BudgetLimit {
            period: Period::Month,
            max_tokens: None,
            max_cost_nano_usd: Some(1_000_000_000_000),
        }],
        ..GrantPolicy::default()
    }
}

fn spent(h: &Harness) -> u64 {
    let usage = h
        .wallet
        .site_usage(Some(SITE), 30, &h.clock())
        .expect("usage");
    usage[0].budgets[0].spent.cost_nano_usd
}

fn bg_url() -> String {
    format!("{RESPONSES}/{BG_ID}")
}

#[test]
fn a_background_response_is_refused_without_its_surface_and_nothing_is_sent() {
    let mut h = Harness::connected();
    policy(&mut h, with_surfaces(&[Surface::Files, Surface::Batches]));
    let out = h.call(
        &Call::post("openai", RESPONSES, BG_BODY),
        &Answer::json(BG_QUEUED),
    );
    assert!(out.sent.is_none());
    let Some(CoreError::AgentScopeMissing(what)) = &out.refused else {
        panic!("{:?}", out.refused);
    };
    assert!(what.starts_with("background responses"), "{what}");
    let page = h.wallet.audit(&AuditFilter::default(), 10).expect("log");
    assert_eq!(
        page.records[0].error_code.as_deref(),
        Some("AGENT_SCOPE_MISSING")
    );
    // In the foreground the same call needs no surface.
    let foreground = br#"{"model":"gpt-4o-mini","input":"now","background":false}"#;
    let out = h.call(
        &Call::post("openai", RESPONSES, foreground),
        &Answer::json(b"{}"),
    );
    assert!(out.sent.is_some(), "{:?}", out.refused);
    // A body that cannot be read could be one: refused while the surface is off ...
    let twice = br#"{"model":"gpt-4o-mini","background":false,"background":true}"#;
    let out = h.call(
        &Call::post("openai", RESPONSES, twice),
        &Answer::json(b"{}"),
    );
    assert!(out.sent.is_none());
    assert!(matches!(out.refused, Some(CoreError::BadRequest(_))));
    // ... and sent, its model unknown, once it is on and no budget or allow-list needs
    // the model.
    policy(
        &mut h,
        GrantPolicy {
            surfaces: vec![Surface::Background],
            ..GrantPolicy::default()
        },
    );
    let out = h.call(
        &Call::post("openai", RESPONSES, twice),
        &Answer::json(b"{}"),
    );
    assert!(out.sent.is_some(), "{:?}", out.refused);
}

#[test]
fn a_background_response_is_charged_once_at_the_larger_of_reservation_and_usage() {
    let mut h = Harness::connected();
    policy(&mut h, with_surfaces(&[Surface::Background]));
    let facts =
        request_body::read_request("openai", "/v1/responses", Some("application/json"), BG_BODY)
            .expect("facts");
    assert!(facts.background);
    let reserved = metering::estimate("openai", &facts)
        .cost_nano_usd
        .expect("priced");
    let usage = Usage {
        input_tokens: 90_000,
        output_tokens: 30_000,
        ..Usage::default()
    };
    let actual =
        metering::cost_of_usage("openai", Some("gpt-4o-mini-2024-07-18"), &usage).expect("priced");
    assert!(
        actual > reserved,
        "the usage must exceed the reservation here"
    );

    // Created: `queued`, no usage. Charged its reservation, never $0.
    let out = h.call(
        &Call::post("openai", RESPONSES, BG_BODY),
        &Answer::json(BG_QUEUED),
    );
    assert_eq!(
        out.sent.as_ref().map(|s| s.3.as_slice()),
        Some(BG_BODY),
        "sent as received"
    );
    let created = out.record.expect("audited");
    assert_eq!(created.cost_nano_usd, Some(reserved));
    assert!(!created.usage_complete);

    // Polled while running: nothing reported, nothing charged.
    let url = bg_url();
    let polled = h
        .call(&Call::get("openai", &url), &Answer::json(BG_RUNNING))
        .record
        .expect("audited");
    assert_eq!(
        (polled.cost_nano_usd, polled.usage.total_tokens()),
        (Some(0), 0)
    );

    // Completed: metered with the answer's usage and model, charged beyond the creation.
    let done = h
        .call(&Call::get("openai", &url), &Answer::json(BG_DONE))
        .record
        .expect("audited");
    assert_eq!(done.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    assert_eq!(done.path, format!("/v1/responses/{BG_ID}"));
    assert_eq!(
        (done.usage.input_tokens, done.usage.output_tokens),
        (90_000, 30_000)
    );
    assert!(done.usage_complete);
    assert_eq!(done.cost_nano_usd, Some(actual - reserved));
    assert_eq!(spent(&h), actual, "charged once, at the usage");

    // Read again: nothing more.
    let again = h
        .call(&Call::get("openai", &url), &Answer::json(BG_DONE))
        .record
        .expect("audited");
    assert_eq!(again.cost_nano_usd, Some(0));
    assert_eq!(spent(&h), actual);

    // The memory is the worker's: after a restart the whole usage is charged again
    // (counted twice, never zero times).
    h.restart_worker();
    let after = h
        .call(&Call::get("openai", &url), &Answer::json(BG_DONE))
        .record
        .expect("audited");
    assert_eq!(after.cost_nano_usd, Some(actual));
}

#[test]
fn a_cheap_background_response_costs_its_reservation_and_a_stream_its_usage() {
    let mut h = Harness::connected();
    policy(&mut h, with_surfaces(&[Surface::Background]));
    let reserved = h
        .call(
            &Call::post("openai", RESPONSES, BG_BODY),
            &Answer::json(BG_QUEUED),
        )
        .record
        .and_then(|r| r.cost_nano_usd)
        .expect("charged");
    let small = br#"{"id":"resp_68af4030592c81938ec0a5fbab4a3e9f","status":"completed","background":true,"model":"gpt-4o-mini","usage":{"input_tokens":5,"output_tokens":5}}"#;
    let done = h
        .call(&Call::get("openai", &bg_url()), &Answer::json(small))
        .record
        .expect("audited");
    assert_eq!(
        (done.cost_nano_usd, done.usage.total_tokens()),
        (Some(0), 10)
    );
    assert_eq!(spent(&h), reserved);

    // Streamed in the background: the stream itself reports the usage, so reading the
    // response afterwards charges nothing more.
    let body = br#"{"model":"gpt-4o-mini","input":"x","background":true,"stream":true}"#;
    let sse = b"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_stream1\",\"status\":\"queued\",\"background\":true,\"model\":\"gpt-4o-mini\",\"usage\":null}}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_stream1\",\"status\":\"completed\",\"background\":true,\"model\":\"gpt-4o-mini\",\"usage\":{\"input_tokens\":7,\"output_tokens\":9}}}\n\n";
    let answer = Answer {
        status: 200,
        content_type: "text/event-stream",
        body: sse,
        end: End::Finished,
    };
    let streamed = h
        .call(&Call::post("openai", RESPONSES, body), &answer)
        .record
        .expect("audited");
    assert!(streamed.usage_complete);
    let read = br#"{"id":"resp_stream1","status":"completed","background":true,"model":"gpt-4o-mini","usage":{"input_tokens":7,"output_tokens":9}}"#;
    let again = h
        .call(
            &Call::get("openai", &format!("{RESPONSES}/resp_stream1")),
            &Answer::json(read),
        )
        .record
        .expect("audited");
    assert_eq!(again.cost_nano_usd, Some(0));
}

#[test]
fn reading_a_stored_foreground_response_again_costs_nothing() {
    let mut h = Harness::connected();
    let body = br#"{"model":"gpt-4o-mini","input":"now"}"#;
    let stored = br#"{"id":"resp_fg1","object":"response","status":"completed","background":false,"model":"gpt-4o-mini","usage":{"input_tokens":900,"output_tokens":300}}"#;
    let created = h
        .call(
            &Call::post("openai", RESPONSES, body),
            &Answer::json(stored),
        )
        .record
        .expect("audited");
    assert!(created.cost_nano_usd.is_some_and(|c| c > 0));
    let read = h
        .call(
            &Call::get("openai", &format!("{RESPONSES}/resp_fg1")),
            &Answer::json(stored),
        )
        .record
        .expect("audited");
    assert_eq!(
        (read.cost_nano_usd, read.usage.total_tokens()),
        (Some(0), 0)
    );
    // Another site's background response read here is charged here, whole: its
    // creation's charge belongs to the site that made it.
    let other = br#"{"id":"resp_elsewhere","status":"completed","background":true,"model":"gpt-4o-mini","usage":{"input_tokens":900,"output_tokens":300}}"#;
    let read = h
        .call(
            &Call::get("openai", &format!("{RESPONSES}/resp_elsewhere")),
            &Answer::json(other),
        )
        .record
        .expect("audited");
    assert_eq!(read.cost_nano_usd, created.cost_nano_usd);
}
