//! One proxied request ("exchange"), as a state machine the glue drives.
//!
//! ```text
//! begin_request ──► Refuse                       (not authorised: not audited)
//!      │
//!      ├─► ReadBody ── request_body* ── request_body_end ─┐
//!      └──────────────────────────────────────────────────┤
//!                                                          ▼
//!                        policy: surface, model, pre-flight cost ──► Refuse (audited)
//!                                    │
//!                   above the site's threshold? ──► Ask ── decide_request ── continue_request
//!                                    │              (one open per caller; else Refuse,
//!                                    │               APPROVAL_PENDING, audited)
//!                        budget reservation ──► Refuse (audited)
//!                                    ▼
//!                      Send(exact upstream request, the key set last)
//!                                    │
//!          response_head ── response_body* ── end_request ──► settlement + audit record
//! ```
//!
//! Order of checks, for every caller: grant and session key, lock state and key
//! presence, URL and path allow-list with headers planned, the app's note, then the
//! body's facts, surface gates, model allow-list, estimate, per-request approval, budget
//! reservation. Nothing goes upstream before all have passed. From the reservation on,
//! every exchange ends in exactly one settlement ([`super::charge`]).
//!
//! A call the site's grant routes to another provider ([`super::route_step`]) is
//! translated once its body is in, before the body's facts: from there on every check
//! reads the served request, on the serving provider's path at its prices.

use litemap::LiteMap;

use zeroize::Zeroize;

use super::caller::Caller;
use super::route_step::{RouteCall, Routing};
use super::store::Record;
use super::Wallet;
use crate::clients::bridged_url;
use crate::metering::background::BackgroundCharges;
use crate::metering::body_scan::BodyReader;
use crate::metering::{
    self, audit::path_of, context::read_note, request_body, AppNote, GrantPolicy, LocalClock,
    RequestFacts, ReservationId, ResponseMeter,
};
use crate::providers::{self, Provider};
use crate::request::{plan, PageRequest, UpstreamPlan};
use crate::session::session_key_from_headers;
use crate::CoreError;

/// How stale a credential's stored "last used" may get before it is written again.
const LAST_USED_RESOLUTION_MS: u64 = 60_000;
/// Bodies up to this size are kept for the one rewrite Keyfob makes (usage reporting).
const MAX_REWRITTEN_BODY: usize = 4 << 20;

/// Identifies an exchange while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExchangeId(pub u64);

/// A request as the caller sent it (every field untrusted).
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    pub provider: &'a str,
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    /// The session key bound to the caller's `createFetch`; else the SDK's auth header.
    pub session_key: Option<&'a str>,
    pub has_body: bool,
}

/// What the glue does next.
#[derive(Debug)]
pub enum Step {
    /// Feed the body with [`Wallet::request_body`] while [`Wallet::wants_body`], then
    /// call [`Wallet::request_body_end`].
    ReadBody,
    /// Open the per-request approval window for `approval`; wait for
    /// [`Wallet::decide_request`] (or time out after `timeout_ms`), then call
    /// [`Wallet::continue_request`].
    Ask { approval: String, timeout_ms: u64 },
    /// Send exactly this upstream.
    Send(Upstream),
    /// Answer the caller with this error. The exchange is over.
    Refuse(CoreError),
    /// Answer the caller with this, written by the wallet; nothing goes upstream (a
    /// routed provider's model list). The exchange is over.
    Answer(LocalAnswer),
}

/// An answer the wallet writes itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAnswer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// What the checks before the body lead to.
enum Authorised {
    Open(Box<Exchange>),
    Answered(LocalAnswer),
}

/// The exact upstream request.
pub struct Upstream {
    pub method: &'static str,
    pub url: String,
    /// Forwarded headers, the credential header last. Zeroised when dropped.
    pub headers: Vec<(String, String)>,
    pub body: UpstreamBody,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers.len())
            .finish_non_exhaustive()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        for (_, value) in &mut self.headers {
            value.zeroize();
        }
    }
}

/// Which body goes upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamBody {
    None,
    /// The body exactly as the caller sent it.
    AsReceived,
    /// The caller's body with usage reporting switched on.
    Replaced(Vec<u8>),
}

/// A per-request approval waiting for the user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestApproval {
    pub id: String,
    #[serde(skip)]
    pub exchange: ExchangeId,
    pub origin: String,
    pub provider: String,
    pub model: Option<String>,
    /// The estimated maximum cost for people (`$0.42`), or `None` when unknown.
    pub estimated_max_usd: Option<String>,
    pub estimated_tokens: u64,
    /// For a routed call: the provider and model the app asked for (`provider` and
    /// `model` above are the ones that serve it and are priced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested: Option<Requested>,
    #[serde(skip)]
    pub window_id: Option<i32>,
}

/// What a routed call asked for, as its approval window shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Requested {
    pub provider: String,
    pub model: Option<String>,
}

/// No answer in this time is a rejection.
pub const REQUEST_APPROVAL_TIMEOUT_MS: u64 = 120_000;

#[derive(Default)]
pub(crate) struct Exchanges {
    pub(super) open: LiteMap<ExchangeId, Exchange>,
    pub(super) approvals: LiteMap<String, RequestApproval>,
    /// What each background response has been charged so far (worker memory).
    pub(super) background: BackgroundCharges,
    next: u64,
}

impl Exchanges {
    pub(crate) fn in_flight(&self) -> usize {
        self.open.len()
    }
}

pub(super) struct Exchange {
    pub(super) caller: Caller,
    /// The provider the request goes to (for a routed request, the one serving it).
    pub(super) provider: &'static Provider,
    pub(super) policy: GrantPolicy,
    pub(super) path: String,
    pub(super) note: AppNote,
    pub(super) started_ms: u64,
    pub(super) has_body: bool,
    pub(super) plan: Option<UpstreamPlan>,
    pub(super) reader: Option<BodyReader>,
    /// A copy of a small body that may need usage reporting switched on.
    pub(super) body_copy: Option<Vec<u8>>,
    pub(super) facts: Option<RequestFacts>,
    pub(super) estimate: metering::Amount,
    pub(super) reservation: Option<ReservationId>,
    pub(super) decision: Option<bool>,
    pub(super) meter: Option<ResponseMeter>,
    pub(super) status: Option<u16>,
    /// Set when the grant's route sends this call to another provider.
    pub(super) routing: Option<Box<Routing>>,
}

impl Exchange {
    /// An exchange that has been authorised and has read nothing yet.
    fn opened(
        caller: &Caller,
        provider: &'static Provider,
        policy: &GrantPolicy,
        path: String,
        now_ms: u64,
    ) -> Self {
        Self {
            caller: caller.clone(),
            provider,
            policy: policy.clone(),
            path,
            note: AppNote::default(),
            started_ms: now_ms,
            has_body: false,
            plan: None,
            reader: None,
            body_copy: None,
            facts: None,
            estimate: metering::Amount::ZERO,
            reservation: None,
            decision: None,
            meter: None,
            status: None,
            routing: None,
        }
    }
}

impl Exchange {
    /// A routed exchange goes on as a request to the serving provider: its plan, its
    /// path, and a reader already fed the encoded body.
    pub(super) fn set_served(&mut self, plan: UpstreamPlan, path: String, reader: BodyReader) {
        self.plan = Some(plan);
        self.path = path;
        self.reader = Some(reader);
    }
}

impl Wallet {
    /// A caller's request arrives: authorise it and say what to do next.
    pub fn begin_request(
        &mut self,
        caller: &Caller,
        head: &RequestHead<'_>,
        clock: &LocalClock,
    ) -> (ExchangeId, Step) {
        self.tick(clock);
        self.exchanges.next += 1;
        let id = ExchangeId(self.exchanges.next);
        let exchange = match self.authorise(caller, head, clock) {
            Ok(Authorised::Open(exchange)) => *exchange,
            Ok(Authorised::Answered(answer)) => return (id, Step::Answer(answer)),
            Err(error) => return (id, Step::Refuse(error)),
        };
        self.touch(clock.now_ms);
        let note = read_note(head.headers);
        self.exchanges.open.insert(id, exchange);
        let step = match note {
            Err(error) => self.refuse(id, error, clock),
            Ok(note) => {
                if let Some(ex) = self.exchanges.open.get_mut(&id) {
                    ex.note = note;
                }
                if head.has_body {
                    Step::ReadBody
                } else {
                    self.admit(id, 0, clock)
                }
            }
        };
        (id, step)
    }

    /// The checks that need no body: grant, session key, lock, key, URL and headers.
    fn authorise(
        &self,
        caller: &Caller,
        head: &RequestHead<'_>,
        clock: &LocalClock,
    ) -> Result<Authorised, CoreError> {
        let provider = providers::find(head.provider)?;
        let bridged;
        let head = match caller {
            // A client names only the provider's path; its token was checked when the
            // caller was made, so there is no session key.
            Caller::Client(_) => {
                bridged = bridged_url(provider, head.url)?;
                &RequestHead {
                    url: &bridged,
                    ..*head
                }
            }
            Caller::Site { .. } => head,
        };
        let grant = match caller {
            Caller::Client(_) => {
                self.grants
                    .check(caller.grant_key(), provider.id, clock.now_ms)?
            }
            Caller::Site { origin } => {
                let presented = head
                    .session_key
                    .filter(|k| !k.is_empty())
                    .or_else(|| session_key_from_headers(head.headers));
                self.grants.authorise(
                    &self.session_secret,
                    origin,
                    provider.id,
                    presented,
                    clock.now_ms,
                )?
            }
        };
        if let Some(route) = grant.route_from(provider.id) {
            match self.route_call(head, provider, route)? {
                RouteCall::Own => {}
                RouteCall::Answered(answer) => return Ok(Authorised::Answered(answer)),
                RouteCall::Routed(routing, served) => {
                    let path = routing.app_path.clone();
                    return Ok(Authorised::Open(Box::new(Exchange {
                        has_body: true,
                        routing: Some(routing),
                        ..Exchange::opened(caller, served, &grant.policy, path, clock.now_ms)
                    })));
                }
            }
        }
        let credential = self
            .open()?
            .vault
            .credential_for_provider(provider.id)
            .ok_or_else(|| CoreError::ProviderKeyMissing(provider.id.to_string()))?;
        let page = PageRequest {
            method: head.method,
            url: head.url,
            headers: head.headers,
        };
        let planned = plan(provider, credential.base_url(), &page)?;
        let content_type = head
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        let path = path_of(&planned.url);
        let rewritable = request_body::may_add_include_usage(provider.id, &path);
        Ok(Authorised::Open(Box::new(Exchange {
            has_body: head.has_body,
            plan: Some(planned),
            reader: head.has_body.then(|| BodyReader::new(content_type)),
            body_copy: (head.has_body && rewritable).then(Vec::new),
            ..Exchange::opened(caller, provider, &grant.policy, path, clock.now_ms)
        })))
    }

    /// Whether the body reader still needs bytes (the glue may stop copying them in).
    pub fn wants_body(&self, id: ExchangeId) -> bool {
        self.exchanges.open.get(&id).is_some_and(|ex| {
            ex.body_copy.is_some()
                || ex.reader.as_ref().is_some_and(BodyReader::wants_more)
                || ex.routing.as_ref().is_some_and(|r| r.wants_body())
        })
    }

    /// The next piece of the request body.
    pub fn request_body(&mut self, id: ExchangeId, chunk: &[u8]) {
        let Some(ex) = self.exchanges.open.get_mut(&id) else {
            return;
        };
        if let Some(routing) = &mut ex.routing {
            routing.body(chunk);
        }
        if let Some(reader) = ex.reader.as_mut().filter(|r| r.wants_more()) {
            reader.feed(chunk);
        }
        if let Some(copy) = &mut ex.body_copy {
            if copy.len() + chunk.len() <= MAX_REWRITTEN_BODY {
                copy.extend_from_slice(chunk);
            } else {
                ex.body_copy = None; // too large to rewrite: sent as received
            }
        }
    }

    /// The whole body has arrived (`total_bytes` long): run the policy.
    pub fn request_body_end(
        &mut self,
        id: ExchangeId,
        total_bytes: u64,
        clock: &LocalClock,
    ) -> Step {
        self.admit(id, total_bytes, clock)
    }

    /// Body facts, policy, estimate, approval, reservation.
    fn admit(&mut self, id: ExchangeId, total_bytes: u64, clock: &LocalClock) -> Step {
        // A routed call is translated first: the policy reads the served request.
        let total_bytes = match self.translate_routed(id) {
            Ok(served_bytes) => served_bytes.unwrap_or(total_bytes),
            Err(error) => return self.refuse(id, error, clock),
        };
        let Some(ex) = self.exchanges.open.get_mut(&id) else {
            return Step::Refuse(CoreError::BadRequest("unknown request".into()));
        };
        let read = match ex.reader.take() {
            Some(reader) => reader.finish(total_bytes),
            None => Ok(Default::default()),
        };
        let method = ex.plan.as_ref().map_or("GET", |p| p.method.as_str());
        let read =
            read.and_then(|body| request_body::facts(ex.provider.id, method, &ex.path, body));
        let facts = match read {
            Ok(facts) => facts,
            // A body the reader cannot read is refused where a policy needs its model, or
            // where it could start a background response the grant does not allow;
            // otherwise it goes on with its model unknown (and so its cost unknown).
            Err(error) if ex.policy.needs_body(&ex.path) => return self.refuse(id, error, clock),
            Err(error) => {
                let fallback =
                    request_body::facts(ex.provider.id, method, &ex.path, Default::default());
                match fallback {
                    Ok(facts) => facts,
                    Err(_) => return self.refuse(id, error, clock),
                }
            }
        };
        let checked = ex.policy.check_request(&ex.path, &facts);
        ex.estimate = metering::estimate(ex.provider.id, &facts);
        ex.facts = Some(facts);
        if let Err(error) = checked {
            return self.refuse(id, error, clock);
        }
        if ex.policy.needs_approval(&ex.estimate) {
            return self.ask(id, clock);
        }
        self.reserve_and_send(id, clock)
    }

    /// One per-request approval per caller at a time: a second call that needs one while
    /// the caller's window is open is refused `APPROVAL_PENDING` (audited, nothing
    /// reserved or sent), so a flood of calls cannot stack windows.
    fn ask(&mut self, id: ExchangeId, clock: &LocalClock) -> Step {
        let Some(key) = self.exchanges.open.get(&id).map(|ex| ex.caller.grant_key()) else {
            return Step::Refuse(CoreError::BadRequest("unknown request".into()));
        };
        let open = &self.exchanges.open;
        let waiting = self.exchanges.approvals.values().any(|a| {
            open.get(&a.exchange)
                .is_some_and(|ex| ex.caller.grant_key() == key)
        });
        if waiting {
            return self.refuse(id, CoreError::ApprovalPending, clock);
        }
        let approval = match crate::random::make_bytes::<12>(&mut *self.rng) {
            Ok(bytes) => format!("req_{}", base64_url(&bytes)),
            Err(error) => return self.refuse(id, error, clock),
        };
        let Some(ex) = self.exchanges.open.get(&id) else {
            return Step::Refuse(CoreError::BadRequest("unknown request".into()));
        };
        let model = ex.facts.as_ref().and_then(|f| f.model.clone());
        self.exchanges.approvals.insert(
            approval.clone(),
            RequestApproval {
                id: approval.clone(),
                exchange: id,
                origin: ex.caller.label().to_string(),
                provider: ex.provider.id.to_string(),
                model,
                estimated_max_usd: ex.estimate.cost_nano_usd.map(metering::format_usd),
                estimated_tokens: ex.estimate.tokens,
                requested: ex.routing.as_ref().map(|r| r.requested()),
                window_id: None,
            },
        );
        Step::Ask {
            approval,
            timeout_ms: REQUEST_APPROVAL_TIMEOUT_MS,
        }
    }

    /// The per-request approval `approval`, as its window shows it.
    pub fn request_approval(&self, approval: &str) -> Result<&RequestApproval, CoreError> {
        self.exchanges
            .approvals
            .get(approval)
            .ok_or(CoreError::ApprovalGone)
    }

    pub fn request_window_opened(&mut self, approval: &str, window_id: Option<i32>) {
        if let Some(a) = self.exchanges.approvals.get_mut(approval) {
            a.window_id = window_id;
        }
    }

    /// The user's answer (also a timeout or a closed window). Returns the exchange to
    /// wake, and the window to close; unknown ids are ignored.
    pub fn decide_request(
        &mut self,
        approval: &str,
        approve: bool,
    ) -> Option<(ExchangeId, Option<i32>)> {
        let waiting = self.exchanges.approvals.remove(approval)?;
        let ex = self.exchanges.open.get_mut(&waiting.exchange)?;
        ex.decision = Some(approve);
        Some((waiting.exchange, waiting.window_id))
    }

    /// The per-request approvals shown in window `window_id` (a closed window rejects them).
    pub fn request_approvals_in(&self, window_id: i32) -> Vec<String> {
        self.exchanges
            .approvals
            .values()
            .filter(|a| a.window_id == Some(window_id))
            .map(|a| a.id.clone())
            .collect()
    }

    /// After the user's answer: send, or refuse.
    pub fn continue_request(&mut self, id: ExchangeId, clock: &LocalClock) -> Step {
        let decision = self.exchanges.open.get(&id).and_then(|ex| ex.decision);
        match decision {
            Some(true) => self.reserve_and_send(id, clock),
            _ => self.refuse(id, CoreError::UserRejected, clock),
        }
    }

    fn reserve_and_send(&mut self, id: ExchangeId, clock: &LocalClock) -> Step {
        let Some(ex) = self.exchanges.open.get_mut(&id) else {
            return Step::Refuse(CoreError::BadRequest("unknown request".into()));
        };
        // Every request reserves and settles, with or without limits, so spending is
        // counted from the start and a budget set later sees what was already spent.
        let reserved = self.budgets.reserve(
            ex.caller.grant_key(),
            &ex.policy.budgets,
            ex.estimate,
            clock,
        );
        match reserved {
            Ok(reservation) => ex.reservation = Some(reservation),
            Err(error) => return self.refuse(id, error, clock),
        }
        match self.upstream(id, clock.now_ms) {
            Ok(upstream) => Step::Send(upstream),
            Err(error) => {
                if let Some(r) = self
                    .exchanges
                    .open
                    .get_mut(&id)
                    .and_then(|ex| ex.reservation.take())
                {
                    self.budgets.release(r);
                }
                self.refuse(id, error, clock)
            }
        }
    }

    /// The upstream request, built now: the grant, lock state and key are checked again
    /// (an approval may have waited minutes), and the key is set last.
    fn upstream(&mut self, id: ExchangeId, now: u64) -> Result<Upstream, CoreError> {
        let ex = self
            .exchanges
            .open
            .get_mut(&id)
            .ok_or_else(|| CoreError::BadRequest("unknown request".into()))?;
        let called = ex.routing.as_ref().map_or(ex.provider.id, |r| r.app.id);
        let grant = self.grants.check(ex.caller.grant_key(), called, now)?;
        if ex.routing.is_some()
            && grant.route_from(called).map(|r| r.to.as_str()) != Some(ex.provider.id)
        {
            return Err(CoreError::RouteUnsupported(
                "the site's route changed while the request waited".into(),
            ));
        }
        let provider = ex.provider;
        let plan = ex
            .plan
            .take()
            .ok_or_else(|| CoreError::Internal("request sent twice".into()))?;
        let rewritten = ex
            .body_copy
            .take()
            .and_then(|copy| request_body::add_include_usage(provider.id, &ex.path, &copy));
        let encoded = ex.routing.as_mut().and_then(|r| r.encoded.take());
        let body = match (encoded, ex.has_body, rewritten) {
            (Some(served), _, _) => UpstreamBody::Replaced(served),
            (None, false, _) => UpstreamBody::None,
            (None, true, Some(bytes)) => UpstreamBody::Replaced(bytes),
            (None, true, None) => UpstreamBody::AsReceived,
        };
        let WalletSlot::Unlocked(open) = &mut self.slot else {
            return Err(CoreError::WalletLocked);
        };
        let credential = open
            .vault
            .credential_for_provider(provider.id)
            .ok_or_else(|| CoreError::ProviderKeyMissing(provider.id.to_string()))?;
        let method = method_name(&plan.method);
        let url = plan.url.clone();
        let headers = plan.into_headers_with_key(credential.secret());
        let stale = credential
            .last_used_ms()
            .is_none_or(|t| now.saturating_sub(t) >= LAST_USED_RESOLUTION_MS);
        let credential_id = credential.id().to_string();
        open.vault.mark_used(&credential_id, now);
        if stale {
            self.persistence
                .mark(Record::Vault, now, super::persist::COALESCE_MS);
        }
        Ok(Upstream {
            method,
            url,
            headers,
            body,
        })
    }

    /// How many exchanges are running.
    pub fn requests_in_flight(&self) -> usize {
        self.exchanges.in_flight()
    }
}

use super::WalletSlot;

fn method_name(method: &str) -> &'static str {
    match method {
        "POST" => "POST",
        "DELETE" => "DELETE",
        _ => "GET",
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    URL_SAFE_NO_PAD.encode(bytes)
}
