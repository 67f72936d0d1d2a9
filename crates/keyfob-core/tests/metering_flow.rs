//! One request at a time through the public API, in the order the service worker calls
//! it (see the `keyfob_core::metering` module docs): policy and budget before, the
//! meter during, settlement and audit after. Every refusal is checked for its stable
//! code and HTTP status, and for happening before anything would be sent.

use keyfob_core::metering::{
    self, audit, context, policy, request_body, AuditLedger, AuditRecord, BudgetBook, BudgetLimit,
    GrantPolicy, LocalClock, ModelAllowList, Period, ResponseMeter, RollupPolicy, Settlement,
    Surface,
};
use keyfob_core::providers;
use keyfob_core::request::{plan, PageRequest};
use keyfob_core::CoreError;

const SITE: &str = "https://app.example";
const T0: u64 = 20_454 * 86_400_000; // 2026-01-01T00:00Z
const OPENAI_STREAM: &[u8] = include_bytes!("data/metering/openai_chat_stream.sse");
const ANTHROPIC_CUT: &[u8] = include_bytes!("data/metering/fail_anthropic_cut.sse");

struct Wallet {
    policy: GrantPolicy,
    grant_expires_at_ms: Option<u64>,
    budgets: BudgetBook,
    ledger: AuditLedger,
    /// Bodies that "went upstream".
    sent: Vec<Vec<u8>>,
}

struct Page<'a> {
    provider: &'a str,
    url: &'a str,
    headers: Vec<(String, String)>,
    body: &'a [u8],
}

struct Upstream<'a> {
    status: u16,
    content_type: &'a str,
    body: &'a [u8],
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Wallet {
    fn new(policy: GrantPolicy) -> Self {
        policy.validate().expect("valid policy");
        Self {
            policy,
            grant_expires_at_ms: policy::expiry_after(T0, Some(24)).expect("1 day"),
            budgets: BudgetBook::default(),
            ledger: AuditLedger::default(),
            sent: Vec::new(),
        }
    }

    /// What the glue does for one request; `Err` is the wallet's error response.
    fn handle(&mut self, page: &Page, upstream: &Upstream, now_ms: u64) -> Result<(), CoreError> {
        let clock = LocalClock {
            now_ms,
            utc_offset_minutes: 60,
        };
        let provider = providers::find(page.provider)?;
        policy::check_expiry(self.grant_expires_at_ms, now_ms)?;
        let planned = plan(
            provider,
            None,
            &PageRequest {
                method: "POST",
                url: page.url,
                headers: &page.headers,
            },
        )?;
        assert!(planned
            .headers()
            .iter()
            .all(|(k, _)| !context::is_keyfob_header(k)));
        let path = audit::path_of(&planned.url);
        let note = context::read_note(&page.headers)?;
        let content_type = page
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        let facts = request_body::read_request(provider.id, &path, content_type, page.body)?;
        self.policy.check_request(&path, &facts)?;
        let estimate = metering::estimate(provider.id, &facts);
        if self.policy.needs_approval(&estimate) {
            return Err(CoreError::UserRejected); // the test user says no
        }
        let id = self
            .budgets
            .reserve(SITE, &self.policy.budgets, estimate, &clock)?;
        let body = request_body::add_include_usage(provider.id, &path, page.body)
            .unwrap_or_else(|| page.body.to_vec());
        self.sent.push(body);

        let mut meter =
            ResponseMeter::for_request(provider.id, &path, &facts, Some(upstream.content_type));
        for chunk in upstream.body.chunks(5) {
            meter.feed(chunk);
        }
        let metered = meter.finish();
        let model = metered.model.clone().or(facts.model.clone());
        let outcome =
            metering::settlement(provider.id, model.as_deref(), &metered, upstream.status);
        let committed = self.budgets.settle(id, outcome, &clock).expect("open");
        self.ledger.record(
            AuditRecord {
                time_ms: now_ms,
                origin: SITE.into(),
                provider: provider.id.into(),
                model,
                path,
                status: upstream.status,
                usage: metered.usage.unwrap_or_default(),
                usage_complete: metered.complete,
                cost_nano_usd: committed.cost_nano_usd,
                duration_ms: 1200,
                note,
                ..AuditRecord::default()
            },
            &clock,
            &RollupPolicy::default(),
        );
        Ok(())
    }
}

fn openai_page(body: &[u8]) -> Page<'_> {
    Page {
        provider: "openai",
        url: "https://api.openai.com/v1/chat/completions",
        headers: headers(&[
            ("content-type", "application/json"),
            ("x-keyfob-reason", "draft a reply"),
            ("x-keyfob-context", r#"{"ticket":"T-42","attempt":1}"#),
        ]),
        body,
    }
}

const STREAM_OK: Upstream = Upstream {
    status: 200,
    content_type: "text/event-stream; charset=utf-8",
    body: OPENAI_STREAM,
};

fn policy() -> GrantPolicy {
    GrantPolicy {
        models: ModelAllowList {
            exact: vec!["gpt-4o-mini".into()],
            prefixes: vec!["claude-".into()],
        },
        surfaces: vec![],
        budgets: vec![BudgetLimit {
            period: Period::Day,
            max_tokens: Some(3_000),
            max_cost_nano_usd: Some(1_000_000_000),
        }],
        ask_above_nano_usd: Some(100_000_000),
    }
}

const CHAT: &[u8] = br#"{"model":"gpt-4o-mini","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"hi"}]}"#;

#[test]
fn a_streamed_request_is_metered_priced_and_audited() {
    let mut wallet = Wallet::new(policy());
    wallet
        .handle(&openai_page(CHAT), &STREAM_OK, T0)
        .expect("allowed");

    // The body went up with include_usage added and nothing else changed.
    let sent: serde_json::Value = serde_json::from_slice(&wallet.sent[0]).expect("json");
    assert_eq!(sent["stream_options"]["include_usage"], true);
    assert_eq!(sent["max_tokens"], 100);

    // 1117 input (1024 cached) + 12 output on GPT-4o mini:
    // (93 × 0.15 + 1024 × 0.075 + 12 × 0.60) / 10⁶ USD = 97 950 nano-USD.
    let summary = wallet.ledger.summary(SITE);
    assert_eq!(summary.total.totals.requests, 1);
    assert_eq!(summary.total.totals.input_tokens, 1117);
    assert_eq!(summary.total.totals.output_tokens, 12);
    assert_eq!(summary.total.totals.cost_nano_usd, 97_950);
    let clock = LocalClock {
        now_ms: T0,
        utc_offset_minutes: 60,
    };
    let spent = wallet.budgets.spent(SITE, Period::Day, &clock);
    assert_eq!((spent.tokens, spent.cost_nano_usd), (1129, 97_950));

    let record = wallet.ledger.records().next().expect("recorded");
    assert_eq!(record.path, "/v1/chat/completions");
    assert_eq!(record.model.as_deref(), Some("gpt-4o-mini-2024-07-18"));
    assert!(record.usage_complete);
    assert_eq!(record.note.reason.as_deref(), Some("draft a reply"));
    assert_eq!(
        record.note.context.as_ref().map(|c| c["ticket"].clone()),
        Some("T-42".into())
    );
    let json = serde_json::to_value(&summary).expect("serialises");
    assert_eq!(json["byProvider"]["openai"]["inputTokens"], 1117);
}

fn refused(wallet: &mut Wallet, page: &Page, now_ms: u64) -> (&'static str, u16) {
    let before = wallet.sent.len();
    let err = wallet
        .handle(page, &STREAM_OK, now_ms)
        .expect_err("refused");
    assert_eq!(
        wallet.sent.len(),
        before,
        "{err:?}: something went upstream"
    );
    assert_eq!(
        wallet.budgets.open_reservations(),
        0,
        "a refusal left a reservation"
    );
    (err.code(), err.http_status())
}

#[test]
fn refusals_carry_their_codes_and_send_nothing() {
    let mut wallet = Wallet::new(policy());
    let other_model = br#"{"model":"gpt-4o","stream":true,"messages":[]}"#;
    assert_eq!(
        refused(&mut wallet, &openai_page(other_model), T0),
        ("MODEL_NOT_ALLOWED", 403)
    );

    let hidden = br#"{"model":"gpt-4o-mini","model":"o1","messages":[]}"#;
    assert_eq!(
        refused(&mut wallet, &openai_page(hidden), T0),
        ("BAD_REQUEST", 400)
    );

    let mut files = openai_page(b"");
    files.url = "https://api.openai.com/v1/files";
    assert_eq!(
        refused(&mut wallet, &files, T0),
        ("AGENT_SCOPE_MISSING", 403)
    );

    let mut agents = openai_page(br#"{"model":"claude-haiku-4-5"}"#);
    agents.provider = "anthropic";
    agents.url = "https://api.anthropic.com/v1/messages/batches";
    assert_eq!(
        refused(&mut wallet, &agents, T0),
        ("AGENT_SCOPE_MISSING", 403)
    );

    let mut bad_context = openai_page(CHAT);
    bad_context
        .headers
        .push(("X-Keyfob-Context".into(), r#"{"nested":{"a":1}}"#.into()));
    bad_context
        .headers
        .retain(|(k, v)| k != "x-keyfob-context" || v.contains("nested"));
    assert_eq!(
        refused(&mut wallet, &bad_context, T0),
        ("INVALID_CONTEXT", 400)
    );

    let expensive = br#"{"model":"gpt-4o-mini","max_tokens":1000000,"messages":[]}"#;
    assert_eq!(
        refused(&mut wallet, &openai_page(expensive), T0),
        ("USER_REJECTED", 403)
    );

    let a_day_later = T0 + 24 * 3_600_000;
    assert_eq!(
        refused(&mut wallet, &openai_page(CHAT), a_day_later),
        ("GRANT_EXPIRED", 401)
    );

    // Ticking the surface lets the same file request through to the next check.
    wallet.policy.surfaces.push(Surface::Files);
    assert!(wallet
        .handle(
            &files,
            &Upstream {
                status: 200,
                content_type: "application/json",
                body: b"{\"data\":[]}"
            },
            T0
        )
        .is_ok());
}

#[test]
fn the_budget_blocks_at_the_limit_and_reopens_the_next_day() {
    let mut wallet = Wallet::new(policy());
    wallet.grant_expires_at_ms = None;
    // Each streamed request uses 1129 tokens: two fit under 3000, the third starts
    // with 2258 spent (headroom left), the fourth is refused.
    for _ in 0..3 {
        wallet
            .handle(&openai_page(CHAT), &STREAM_OK, T0)
            .expect("headroom");
    }
    assert_eq!(
        refused(&mut wallet, &openai_page(CHAT), T0),
        ("BUDGET_EXCEEDED", 402)
    );
    let clock = LocalClock {
        now_ms: T0,
        utc_offset_minutes: 60,
    };
    assert_eq!(
        wallet.budgets.spent(SITE, Period::Day, &clock).tokens,
        3 * 1129
    );
    // Local midnight (UTC+1) has passed 23 hours later.
    wallet
        .handle(&openai_page(CHAT), &STREAM_OK, T0 + 23 * 3_600_000)
        .expect("new day");
    assert_eq!(wallet.ledger.summary(SITE).total.totals.requests, 4);
}

#[test]
fn a_stream_cut_short_is_settled_at_least_at_its_reservation() {
    let mut wallet = Wallet::new(policy());
    let body = br#"{"model":"claude-sonnet-4-5","max_tokens":50,"stream":true,"messages":[]}"#;
    let page = Page {
        provider: "anthropic",
        url: "https://api.anthropic.com/v1/messages",
        headers: headers(&[("content-type", "application/json")]),
        body,
    };
    let cut = Upstream {
        status: 200,
        content_type: "text/event-stream",
        body: ANTHROPIC_CUT,
    };
    wallet.handle(&page, &cut, T0).expect("allowed");
    // Seen so far: 3544 input + 2 output; reserved: ⌈74 / 4⌉ = 19 input + 50 output.
    // The larger of each is committed: 3546 tokens, and the partial usage's cost.
    let clock = LocalClock {
        now_ms: T0,
        utc_offset_minutes: 60,
    };
    let spent = wallet.budgets.spent(SITE, Period::Day, &clock);
    assert_eq!(spent.tokens, 3546);
    let record = wallet.ledger.records().next().expect("recorded");
    assert!(!record.usage_complete);
    assert_eq!(record.usage.input_tokens, 3544);
    let estimate = metering::estimate(
        "anthropic",
        &request_body::read_request("anthropic", "/v1/messages", Some("application/json"), body)
            .expect("reads"),
    );
    assert_eq!(estimate.tokens, 19 + 50);
    assert!(matches!(
        metering::settlement(
            "anthropic",
            Some("claude-sonnet-4-5"),
            &metering::Metered {
                usage: None,
                model: None,
                complete: false
            },
            200
        ),
        Settlement::AtLeast(_)
    ));
}
