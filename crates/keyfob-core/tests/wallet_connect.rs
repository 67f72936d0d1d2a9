//! The connect flow of the Wallet: grants, approvals and their limits.

mod common;

use common::wallet::*;
use keyfob_core::route::config::{ModelRule, Route};
use keyfob_core::wallet::connect::{
    ConnectStep, Decision, RequestedProvider, MAX_PENDING_APPROVALS,
};
use keyfob_core::CoreError;

fn ask(h: &mut Harness, origin: &str, providers: &[&str]) -> Result<ConnectStep, CoreError> {
    let clock = h.clock();
    h.wallet
        .connect(&site(origin), &requested(providers), false, &clock)
}

fn approval_id(step: ConnectStep) -> String {
    match step {
        ConnectStep::Ask {
            approval,
            open_window,
        } => {
            assert!(open_window);
            approval
        }
        ConnectStep::Connected(_) => panic!("connected without asking"),
    }
}

fn decide(h: &mut Harness, id: &str, approve: bool, providers: &[&str]) -> Result<bool, CoreError> {
    let decision = Decision {
        approve,
        providers: providers.iter().map(|p| p.to_string()).collect(),
        expires_in_ms: None,
        routes: Vec::new(),
    };
    let clock = h.clock();
    h.wallet
        .decide_approval(id, &decision, &clock)
        .map(|d| d.approved)
}

#[test]
fn a_covering_grant_connects_without_asking() {
    let mut h = Harness::connected();
    let step = ask(&mut h, SITE, &["openai"]).expect("connect");
    let ConnectStep::Connected(session) = step else {
        panic!("asked again");
    };
    assert_eq!(session.session_key, h.session_key());
    assert!(session.providers.get("openai").is_some_and(|a| a.available));
    // An optional provider that is not granted does not make it ask.
    let clock = h.clock();
    let optional = [
        RequestedProvider {
            id: "openai".into(),
            required: true,
        },
        RequestedProvider {
            id: "gemini".into(),
            required: false,
        },
    ];
    let step = h
        .wallet
        .connect(&site(SITE), &optional, false, &clock)
        .expect("connect");
    assert!(matches!(step, ConnectStep::Connected(_)));
}

#[test]
fn one_pending_approval_per_site_and_a_cap_on_all() {
    let mut h = Harness::connected();
    let first = approval_id(ask(&mut h, OTHER, &["openai"]).expect("ask"));
    assert_eq!(
        ask(&mut h, OTHER, &["openai"]),
        Err(CoreError::ApprovalPending)
    );
    let clock = h.clock();
    let resumed = h
        .wallet
        .connect(&site(OTHER), &requested(&["openai"]), true, &clock);
    assert_eq!(
        resumed,
        Ok(ConnectStep::Ask {
            approval: first.clone(),
            open_window: false
        })
    );
    // One window at a time in all: any other caller is told to wait.
    assert_eq!(MAX_PENDING_APPROVALS, 1);
    assert_eq!(
        ask(&mut h, "https://second.example", &["openai"]),
        Err(CoreError::ApprovalPending)
    );
    assert_eq!(h.wallet.status(h.now).pending_approvals, 1);
    // Once the first is decided, the next caller gets its window.
    assert_eq!(decide(&mut h, &first, true, &["openai"]), Ok(true));
    approval_id(ask(&mut h, "https://second.example", &["openai"]).expect("its turn"));
}

fn backoff_ms(result: Result<ConnectStep, CoreError>) -> u64 {
    match result {
        Err(CoreError::ApprovalBackoff { retry_after_ms }) => retry_after_ms,
        other => panic!("expected APPROVAL_BACKOFF, got {other:?}"),
    }
}

#[test]
fn a_rejected_caller_backs_off_doubling_up_to_a_cap() {
    let mut h = Harness::connected();
    let id = approval_id(ask(&mut h, OTHER, &["openai"]).expect("ask"));
    assert_eq!(decide(&mut h, &id, false, &[]), Ok(false));
    let err = ask(&mut h, OTHER, &["openai"]).expect_err("backs off");
    assert_eq!(err.code(), "APPROVAL_BACKOFF");
    assert_eq!(err.http_status(), 429);
    assert!(err.to_string().contains("10 s"), "{err}");
    assert_eq!(backoff_ms(Err(err)), 10_000);
    h.advance(4_000);
    assert_eq!(backoff_ms(ask(&mut h, OTHER, &["openai"])), 6_000);
    // Another caller is not held back by this one's rejection.
    let other = approval_id(ask(&mut h, "https://third.example", &["openai"]).expect("ask"));
    assert_eq!(decide(&mut h, &other, true, &["openai"]), Ok(true));
    h.advance(6_000);
    // Each further rejection doubles the wait: 20 s, 40 s, … and never more than 10 min.
    let mut expected = 20_000;
    for _ in 0..8 {
        let id = approval_id(ask(&mut h, OTHER, &["openai"]).expect("the wait is over"));
        assert_eq!(decide(&mut h, &id, false, &[]), Ok(false));
        assert_eq!(backoff_ms(ask(&mut h, OTHER, &["openai"])), expected);
        h.advance(expected - 1);
        assert_eq!(backoff_ms(ask(&mut h, OTHER, &["openai"])), 1);
        h.advance(1);
        expected = (expected * 2).min(600_000);
    }
    assert_eq!(expected, 600_000, "the cap was reached");
}

#[test]
fn approving_resets_the_backoff() {
    let mut h = Harness::connected();
    for _ in 0..3 {
        let id = approval_id(ask(&mut h, OTHER, &["openai"]).expect("ask"));
        assert_eq!(decide(&mut h, &id, false, &[]), Ok(false));
        h.advance(600_000);
    }
    let id = approval_id(ask(&mut h, OTHER, &["openai"]).expect("ask"));
    assert_eq!(decide(&mut h, &id, true, &["openai"]), Ok(true));
    // An approved caller asking for more is asked at once, and after a rejection starts
    // again at 10 s.
    let id = approval_id(ask(&mut h, OTHER, &["openai", "gemini"]).expect("no back-off"));
    assert_eq!(decide(&mut h, &id, false, &[]), Ok(false));
    assert_eq!(backoff_ms(ask(&mut h, OTHER, &["gemini"])), 10_000);
}

#[test]
fn a_closed_window_backs_off_but_a_resumed_connect_is_not_held_back() {
    let mut h = Harness::connected();
    let id = approval_id(ask(&mut h, OTHER, &["openai"]).expect("ask"));
    h.wallet.approval_window_opened(&id, Some(7), h.now);
    let clock = h.clock();
    assert_eq!(h.wallet.connect_window_closed(7, &clock).len(), 1);
    assert_eq!(backoff_ms(ask(&mut h, OTHER, &["openai"])), 10_000);
    // A resume with no window left open would open a new one: it backs off too.
    let clock = h.clock();
    let resumed = h
        .wallet
        .connect(&site(OTHER), &requested(&["openai"]), true, &clock);
    assert_eq!(backoff_ms(resumed), 10_000);
    // A page re-asking for its open window after a worker restart always gets it.
    h.advance(10_000);
    let id = approval_id(ask(&mut h, OTHER, &["openai"]).expect("ask"));
    h.restart_worker();
    let clock = h.clock();
    let resumed = h
        .wallet
        .connect(&site(OTHER), &requested(&["openai"]), true, &clock);
    assert_eq!(
        resumed,
        Ok(ConnectStep::Ask {
            approval: id,
            open_window: false
        })
    );
}

#[test]
fn only_requested_providers_can_be_approved() {
    let mut h = Harness::connected();
    let id = approval_id(ask(&mut h, OTHER, &["openai"]).expect("ask"));
    assert!(
        matches!(decide(&mut h, &id, true, &["openai", "anthropic"]), Err(CoreError::InvalidInput(m)) if m.contains("anthropic"))
    );
    assert!(
        h.wallet.pending_approval(&id).is_ok(),
        "a bad answer leaves it pending"
    );
    assert_eq!(
        decide(&mut h, &id, true, &[]),
        Ok(false),
        "approving nothing is a rejection"
    );
    let clock = h.clock();
    let after = h
        .wallet
        .connect_decided(&site(OTHER), &requested(&["openai"]), false, &clock);
    assert_eq!(after, Err(CoreError::UserRejected));
    assert!(h
        .wallet
        .grants(h.now)
        .iter()
        .all(|g| g.grant.origin != OTHER));
}

#[test]
fn a_closed_window_rejects_and_pending_approvals_survive_a_worker_restart() {
    let mut h = Harness::connected();
    let id = approval_id(ask(&mut h, OTHER, &["openai"]).expect("ask"));
    h.wallet.approval_window_opened(&id, Some(42), h.now);
    h.restart_worker();
    assert_eq!(
        h.wallet.pending_approval(&id).map(|p| p.window_id),
        Ok(Some(42))
    );
    let clock = h.clock();
    let closed = h.wallet.connect_window_closed(42, &clock);
    assert_eq!(closed.len(), 1);
    assert!(!closed[0].approved);
    assert!(h.wallet.pending_approval(&id).is_err());
}

#[test]
fn a_required_provider_without_a_key_fails_but_the_grant_stays() {
    let mut h = Harness::connected();
    let id = approval_id(ask(&mut h, OTHER, &["gemini"]).expect("ask"));
    assert_eq!(decide(&mut h, &id, true, &["gemini"]), Ok(true));
    let clock = h.clock();
    let after = h
        .wallet
        .connect_decided(&site(OTHER), &requested(&["gemini"]), true, &clock);
    assert_eq!(after, Err(CoreError::ProviderKeyMissing("gemini".into())));
    assert!(h
        .wallet
        .grants(h.now)
        .iter()
        .any(|g| g.grant.origin == OTHER));
    let availability = h.wallet.availability(OTHER);
    assert!(availability.get("gemini").is_some_and(|a| !a.available));
}

#[test]
fn revoking_tells_the_site_and_kills_its_session_key() {
    let mut h = Harness::connected();
    let notice = h.wallet.revoke(SITE, h.now).expect("was granted");
    assert_eq!(
        notice,
        keyfob_core::wallet::views::Notice::Disconnected {
            origin: SITE.into()
        }
    );
    let out = h.call(
        &Call::get("openai", "https://api.openai.com/v1/models"),
        &Answer::json(b"{}"),
    );
    assert_eq!(out.refused, Some(CoreError::SessionInvalid));
    let clock = h.clock();
    assert_eq!(h.wallet.reconnect(&site(SITE), &clock), None);
    let again = h.approve(SITE, &["openai"]);
    assert_ne!(
        again.session_key,
        h.session_key(),
        "a new grant has a new nonce"
    );
}

#[test]
fn bad_connect_requests_are_refused() {
    let mut h = Harness::connected();
    assert!(matches!(
        ask(&mut h, OTHER, &[]),
        Err(CoreError::BadRequest(_))
    ));
    let many: Vec<&str> = std::iter::repeat_n("openai", 21).collect();
    assert!(matches!(
        ask(&mut h, OTHER, &many),
        Err(CoreError::BadRequest(_))
    ));
    assert!(matches!(
        ask(&mut h, OTHER, &["nope"]),
        Err(CoreError::UnknownProvider(_))
    ));
}

#[test]
fn a_provider_without_a_key_connects_when_the_user_routes_it_to_one_with_a_key() {
    let mut h = Harness::connected();
    let id = approval_id(ask(&mut h, OTHER, &["anthropic"]).expect("ask"));
    let view = h.wallet.approval_view(&id, h.now).expect("view");
    let anthropic = &view.providers[0];
    assert_eq!((anthropic.has_key, anthropic.routable), (Some(false), true));
    let targets: Vec<_> = view.route_targets.iter().map(|t| t.id).collect();
    assert_eq!(targets, ["openai"], "only providers with a key are offered");
    assert!(view.route_targets[0].models.contains(&"gpt-4o-mini"));

    let route = Route {
        from: "anthropic".into(),
        to: "openai".into(),
        models: vec![ModelRule {
            pattern: "claude-*".into(),
            model: "gpt-4o-mini".into(),
        }],
        via: None,
    };
    let clock = h.clock();
    // A route for a provider the user did not approve is refused, and nothing is granted.
    let stray = Decision {
        approve: true,
        providers: vec!["anthropic".into()],
        expires_in_ms: None,
        routes: vec![Route {
            from: "gemini".into(),
            ..route.clone()
        }],
    };
    let refused = h.wallet.decide_approval(&id, &stray, &clock);
    assert_eq!(
        refused.map(|d| d.approved),
        Err(CoreError::ProviderNotGranted("gemini".into()))
    );
    assert!(h
        .wallet
        .grants(h.now)
        .iter()
        .all(|g| g.grant.origin != OTHER));

    let decision = Decision {
        routes: vec![route.clone()],
        ..stray
    };
    let decided = h
        .wallet
        .decide_approval(&id, &decision, &clock)
        .expect("decide");
    assert!(decided.approved);
    let session = h
        .wallet
        .connect_decided(&site(OTHER), &requested(&["anthropic"]), true, &clock)
        .expect("served by the OpenAI key");
    assert!(session
        .providers
        .get("anthropic")
        .is_some_and(|a| a.available));
    let grants = h.wallet.grants(h.now);
    let grant = grants
        .iter()
        .find(|g| g.grant.origin == OTHER)
        .expect("grant");
    assert_eq!(grant.grant.routes, vec![route]);

    // Without the route, the same site would have failed for want of a key.
    h.wallet
        .set_grant_routes(OTHER, Vec::new(), h.now)
        .expect("clear");
    let clock = h.clock();
    let after = h
        .wallet
        .connect_decided(&site(OTHER), &requested(&["anthropic"]), true, &clock);
    assert_eq!(
        after,
        Err(CoreError::ProviderKeyMissing("anthropic".into()))
    );
}
