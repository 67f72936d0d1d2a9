//! Local clients through the bridge: login, token checks, the request rules applied to
//! a client as to a page, status and logout.

mod common;

use common::wallet::*;
use keyfob_core::clients::derive_token_verifier;
use keyfob_core::metering::{BudgetLimit, GrantPolicy, Period};
use keyfob_core::secret::ExposeSecret;
use keyfob_core::wallet::clients::Login;
use keyfob_core::wallet::connect::Decision;
use keyfob_core::wallet::request::Step;
use keyfob_core::wallet::{Caller, WalletState};
use keyfob_core::CoreError;

const BODY: &[u8] = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
const ANSWER: &[u8] = br#"{"id":"x","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#;

fn login(h: &mut Harness, name: &str, providers: &[&str]) -> Result<Login, CoreError> {
    let wanted: Vec<String> = providers.iter().map(|p| p.to_string()).collect();
    let clock = h.clock();
    h.wallet.client_login(name, &wanted, &clock)
}

fn decide(h: &mut Harness, login: &Login, approve: bool, providers: &[&str]) {
    let decision = Decision {
        approve,
        providers: providers.iter().map(|p| p.to_string()).collect(),
        expires_in_ms: Some(86_400_000),
        routes: Vec::new(),
    };
    let clock = h.clock();
    h.wallet
        .decide_approval(&login.approval, &decision, &clock)
        .expect("decided");
}

/// A client `name` approved for `providers`: its token.
fn logged_in(h: &mut Harness, name: &str, providers: &[&str]) -> String {
    let pending = login(h, name, providers).expect("login");
    decide(h, &pending, true, providers);
    let clock = h.clock();
    let view = h
        .wallet
        .client_login_decided(name, true, &clock)
        .expect("approved");
    assert_eq!(view.name, name);
    pending.token.expose_secret().to_string()
}

fn bearer(token: &str) -> Vec<(String, String)> {
    headers(&[("authorization", &format!("Bearer {token}"))])
}

fn client(h: &Harness, token: &str) -> Result<Caller, CoreError> {
    h.wallet.client_caller(&bearer(token))
}

fn client_call<'a>(token: &str, path: &'a str) -> Call<'a> {
    let mut call = Call::post("openai", path, BODY);
    call.headers
        .push(("authorization".into(), format!("Bearer {token}")));
    call
}

fn run_as_client(h: &mut Harness, token: &str, path: &str) -> Outcome {
    let call = client_call(token, path);
    let caller = client(h, token).expect("a good token");
    let (id, step) = h.begin_as(&caller, None, &call);
    h.finish(id, step, &call, &Answer::json(ANSWER))
}

#[test]
fn a_login_asks_the_user_and_only_an_approval_makes_the_token_work() {
    let mut h = Harness::connected();
    let pending = login(&mut h, "my-agent", &["openai", "anthropic"]).expect("login");
    assert!(pending.open_window);
    let token = pending.token.expose_secret().to_string();
    assert!(token.starts_with("kf-agent-"), "{token}");
    // The approval window names the client; the token does not work before approval.
    let view = h
        .wallet
        .approval_view(&pending.approval, h.now)
        .expect("view");
    assert_eq!(view.client.as_deref(), Some("my-agent"));
    assert_eq!(view.origin, "client:my-agent");
    assert!(view.providers.iter().all(|p| !p.required));
    assert_eq!(client(&h, &token), Err(CoreError::ClientTokenInvalid));
    // A second login under the same name while the first waits is refused.
    assert_eq!(
        login(&mut h, "my-agent", &["openai"]).map(|_| ()),
        Err(CoreError::ApprovalPending)
    );
    // The user approves only OpenAI.
    decide(&mut h, &pending, true, &["openai"]);
    let clock = h.clock();
    let view = h
        .wallet
        .client_login_decided("my-agent", true, &clock)
        .expect("approved");
    assert_eq!(view.providers, vec!["openai".to_string()]);
    let caller = client(&h, &token).expect("now it works");
    assert_eq!(caller.grant_key(), "client:my-agent");
    // The stored grant holds the verifier, never the token.
    let grants = serde_json::to_string(&h.wallet.grants(h.now)).expect("json");
    assert!(!grants.contains(&token[9..]), "the token was stored");
    assert!(grants.contains(&derive_token_verifier(&token)));
}

#[test]
fn a_rejected_login_gives_no_working_token() {
    let mut h = Harness::connected();
    let pending = login(&mut h, "bot", &["openai"]).expect("login");
    decide(&mut h, &pending, false, &[]);
    let clock = h.clock();
    assert_eq!(
        h.wallet.client_login_decided("bot", false, &clock),
        Err(CoreError::UserRejected)
    );
    assert_eq!(
        client(&h, pending.token.expose_secret()),
        Err(CoreError::ClientTokenInvalid)
    );
    // Logging in again at once opens no new window: the client backs off like a site.
    assert_eq!(
        login(&mut h, "bot", &["openai"]).map(|_| ()),
        Err(CoreError::ApprovalBackoff {
            retry_after_ms: 10_000
        })
    );
    h.advance(10_000);
    assert!(login(&mut h, "bot", &["openai"]).is_ok_and(|l| l.open_window));
}

#[test]
fn bad_logins_are_refused_before_anyone_is_asked() {
    let mut h = Harness::connected();
    for (name, providers) in [
        ("", &["openai"][..]),
        ("a b", &["openai"][..]),
        ("x".repeat(65).as_str(), &["openai"][..]),
        ("bot", &[][..]),
        ("bot", &["no-such-provider"][..]),
    ] {
        assert!(login(&mut h, name, providers).is_err(), "{name:?}");
    }
    assert!(h.wallet.pending_approvals().is_empty());
}

#[test]
fn a_client_request_goes_through_every_rule_with_the_real_key_only_upstream() {
    let mut h = Harness::connected();
    let token = logged_in(&mut h, "my-agent", &["openai"]);
    let out = run_as_client(&mut h, &token, "/v1/chat/completions");
    let (method, url, sent_headers, body) = out.sent.expect("sent");
    assert_eq!(method, "POST");
    assert_eq!(url, "https://api.openai.com/v1/chat/completions");
    assert_eq!(body, BODY);
    let auth: Vec<_> = sent_headers
        .iter()
        .filter(|(n, _)| n == "authorization")
        .collect();
    assert_eq!(auth.len(), 1);
    assert_eq!(auth[0].1, format!("Bearer {OPENAI_KEY}"));
    assert!(sent_headers.iter().all(|(_, v)| !v.contains(&token)));
    let record = out.record.expect("audited");
    assert_eq!(record.origin, "client:my-agent");
    assert_eq!(record.status, 200);
    // Paths the provider does not allow, and paths that try to leave it, are refused.
    for path in [
        "/v1/../../etc",
        "//evil.example/v1/chat/completions",
        "v1/chat/completions",
        "/v1/chat/completions#x",
        "/admin",
    ] {
        let out = run_as_client(&mut h, &token, path);
        assert!(out.sent.is_none(), "{path} went upstream");
    }
}

#[test]
fn a_client_is_limited_to_its_grant_and_its_budget() {
    let mut h = Harness::connected();
    h.add_key("anthropic", ANTHROPIC_KEY);
    let token = logged_in(&mut h, "my-agent", &["openai"]);
    let caller = client(&h, &token).expect("good token");
    let mut call = Call::post("anthropic", "/v1/messages", BODY);
    call.headers.push(("x-api-key".into(), token.clone()));
    let (_, step) = h.begin_as(&caller, None, &call);
    assert!(
        matches!(step, Step::Refuse(CoreError::ProviderNotGranted(_))),
        "{step:?}"
    );
    // A budget of 4 tokens a day: a 5-token answer spends it, the next call is refused.
    let policy = GrantPolicy {
        budgets: vec![BudgetLimit {
            period: Period::Day,
            max_tokens: Some(4),
            max_cost_nano_usd: None,
        }],
        ..GrantPolicy::default()
    };
    h.wallet
        .set_grant_policy("client:my-agent", policy, h.now)
        .expect("set");
    let first = run_as_client(&mut h, &token, "/v1/chat/completions");
    let second = run_as_client(&mut h, &token, "/v1/chat/completions");
    let refused = [first.refused, second.refused];
    assert!(
        refused
            .iter()
            .any(|r| matches!(r, Some(CoreError::BudgetExceeded(_)))),
        "{refused:?}"
    );
}

#[test]
fn a_locked_wallet_and_a_revoked_client_refuse() {
    let mut h = Harness::connected();
    let token = logged_in(&mut h, "my-agent", &["openai"]);
    h.wallet.lock(h.now);
    let out = run_as_client(&mut h, &token, "/v1/chat/completions");
    assert_eq!(out.refused, Some(CoreError::WalletLocked));
    assert!(out.sent.is_none());
    let status = h.wallet.bridge_status(Some(&token), h.now);
    assert_eq!(status.wallet, WalletState::Locked);
    assert_eq!(status.client.map(|c| c.name), Some("my-agent".into()));

    let caller = client(&h, &token).expect("good token");
    assert!(h.wallet.disconnect(&caller, h.now).is_some(), "logout");
    assert_eq!(client(&h, &token), Err(CoreError::ClientTokenInvalid));
    assert_eq!(h.wallet.bridge_status(Some(&token), h.now).client, None);
}

#[test]
fn logging_in_again_replaces_the_token_and_clients_are_listed_by_name() {
    let mut h = Harness::connected();
    let old = logged_in(&mut h, "my-agent", &["openai"]);
    let other = logged_in(&mut h, "ci", &["openai"]);
    let new = logged_in(&mut h, "my-agent", &["openai"]);
    assert_ne!(old, new);
    assert_eq!(client(&h, &old), Err(CoreError::ClientTokenInvalid));
    assert!(client(&h, &new).is_ok());
    let caller = client(&h, &other).expect("good token");
    let names: Vec<String> = h
        .wallet
        .clients(&caller, h.now)
        .expect("list")
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["ci".to_string(), "my-agent".to_string()]);
    // A page can never list clients, nor pass for one.
    assert_eq!(
        h.wallet.clients(&site(SITE), h.now),
        Err(CoreError::ClientTokenInvalid)
    );
    assert_eq!(
        h.wallet.client_caller(&bearer(&h.session_key())),
        Err(CoreError::ClientTokenInvalid)
    );
}

#[test]
fn a_client_grant_survives_a_restart_and_its_token_keeps_working() {
    let mut h = Harness::connected();
    let token = logged_in(&mut h, "my-agent", &["openai"]);
    h.persist();
    h.restart_worker();
    assert!(client(&h, &token).is_ok());
}

#[test]
fn bridge_commands_are_decided_by_the_wallet_and_need_a_good_token() {
    use keyfob_core::wallet::clients::{BridgeArgs, BridgeStep};
    let mut h = Harness::connected();
    let token = logged_in(&mut h, "my-agent", &["openai"]);
    let clock = h.clock();
    let none = BridgeArgs::default();
    let answer = |step| match step {
        Ok(BridgeStep::Answer {
            json,
            stored_grants,
        }) => (json, stored_grants),
        other => panic!("{other:?}"),
    };
    let (status, _) = answer(h.wallet.bridge_command("status", None, &none, &clock));
    assert_eq!(status["wallet"], "unlocked");
    assert!(status.get("client").is_none());
    for cmd in ["clients", "logout"] {
        assert_eq!(
            h.wallet
                .bridge_command(cmd, Some("kf-agent-nope"), &none, &clock)
                .err(),
            Some(CoreError::ClientTokenInvalid),
            "{cmd}"
        );
    }
    let (clients, _) = answer(
        h.wallet
            .bridge_command("clients", Some(&token), &none, &clock),
    );
    assert_eq!(clients["clients"][0]["name"], "my-agent");
    let (out, stored) = answer(
        h.wallet
            .bridge_command("logout", Some(&token), &none, &clock),
    );
    assert_eq!((out["revoked"].as_bool(), stored), (Some(true), true));
    assert!(client(&h, &token).is_err());
    assert!(matches!(
        h.wallet.bridge_command("shutdown", None, &none, &clock),
        Err(CoreError::BadRequest(_))
    ));
}
