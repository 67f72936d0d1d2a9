//! Connect: which providers a caller may use, decided by the user.
//!
//! Rules, in order:
//! 1. A caller asks for 1 to [`MAX_REQUESTED_PROVIDERS`] known providers.
//! 2. A live grant that covers every *required* provider connects at once; otherwise the
//!    user is asked in an extension window.
//! 3. At most one approval is pending in all ([`MAX_PENDING_APPROVALS`]): while one
//!    caller's window is open, any other `connect` or login gets `APPROVAL_PENDING`
//!    (answered at once rather than queued: a queue would keep hostile frames' requests
//!    alive and pop window after window; the caller simply asks again later). The
//!    caller whose window is open gets `APPROVAL_PENDING` too, unless it resumes that
//!    window after a worker restart.
//! 4. Back-off after a rejection: when the user rejects a caller's
//!    approval (Reject, the window closed, or it could not open), that caller may not
//!    open a new window for [`BACKOFF_BASE_MS`], doubled for each further rejection up
//!    to [`BACKOFF_MAX_MS`]; a new `connect` or login meanwhile gets `APPROVAL_BACKOFF`
//!    with the time left. Approving the caller resets it. A resumed connect whose window
//!    is still open is not a new window and is never held back.
//! 5. The user may approve only providers that were asked for (chosen ⊆ requested),
//!    and at least one of them; anything else is a rejection.
//! 6. A required provider that nothing can serve fails the connect with
//!    `PROVIDER_KEY_MISSING` (the grant stays, so adding the key is enough). A provider
//!    is served by its own key, or by the key of the provider the grant routes it to.
//! 7. The user may route an approved provider to another one in the same decision
//!    (offered, never applied unasked); the routes are checked like the popup's.
//!
//! Pending approvals live in session storage, so the window still works after a worker
//! restart; the waiting `connect` calls live in the glue.

use litemap::LiteMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::caller::Caller;
use super::store::Record;
use super::Wallet;
use crate::clients::ClientInfo;
use crate::grants::Grant;
use crate::metering::LocalClock;
use crate::providers;
use crate::random::make_bytes;
use crate::route::config::{validate_routes, Route};
use crate::session::derive_session_key;
use crate::CoreError;

/// Most providers one `connect` may ask for; more is a confused or hostile page.
pub const MAX_REQUESTED_PROVIDERS: usize = 20;
/// Most connect approvals waiting at once, across all callers: one window at a time.
pub const MAX_PENDING_APPROVALS: usize = 1;
/// How long a caller waits after its first rejected approval.
pub const BACKOFF_BASE_MS: u64 = 10_000;
/// The longest a caller waits, however often it was rejected.
pub const BACKOFF_MAX_MS: u64 = 600_000;

/// A provider a caller asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedProvider {
    pub id: String,
    #[serde(default)]
    pub required: bool,
}

/// A connect approval waiting for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingApproval {
    pub id: String,
    pub origin: String,
    pub providers: Vec<RequestedProvider>,
    pub window_id: Option<i32>,
    pub created_at_ms: u64,
    /// A local client logging in: its name and the verifier of the token it will get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
}

/// Pending connect approvals (stored in session storage), and each caller's back-off.
#[derive(Debug, Default)]
pub(crate) struct Approvals {
    pending: LiteMap<String, PendingApproval>,
    /// Rejections per caller key, in worker memory only: a worker restart forgets
    /// them, so a caller may then ask once more at once (the user sees one window and
    /// the back-off starts again from the next rejection).
    backoff: LiteMap<String, RejectionBackoff>,
}

/// A caller's rejected approvals: how many in a row, and until when it must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RejectionBackoff {
    rejections: u32,
    until_ms: u64,
}

impl RejectionBackoff {
    /// The wait after `rejections` rejections in a row: 10 s, 20 s, 40 s, … up to 10 min.
    fn delay_ms(rejections: u32) -> u64 {
        let doublings = rejections.saturating_sub(1).min(16);
        BACKOFF_BASE_MS
            .saturating_mul(1u64 << doublings)
            .min(BACKOFF_MAX_MS)
    }
}

impl Approvals {
    pub(crate) fn from_stored(list: Vec<PendingApproval>) -> Self {
        // Inserted one by one: collecting into a LiteMap adds a sort to the WASM per type.
        let mut pending = LiteMap::new();
        for p in list {
            pending.insert(p.id.clone(), p);
        }
        Self {
            pending,
            backoff: LiteMap::new(),
        }
    }

    pub(crate) fn stored(&self) -> Vec<&PendingApproval> {
        self.pending.values().collect()
    }

    pub(crate) fn pending_count(&self) -> usize {
        self.pending.len()
    }
}

/// What a `connect` leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectStep {
    Connected(Session),
    /// Wait for the user's decision on `approval`; open its window first unless it is
    /// already open (a resumed connect).
    Ask {
        approval: String,
        open_window: bool,
    },
}

/// What a connected page gets: its session key and its providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub session_key: String,
    pub origin: String,
    pub providers: LiteMap<String, Availability>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Availability {
    /// Granted, and a key is stored (true while locked: the page cannot know).
    pub available: bool,
}

/// The user's answer in the approval window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub approve: bool,
    #[serde(default)]
    pub providers: Vec<String>,
    pub expires_in_ms: Option<u64>,
    /// Routes the user chose for approved providers (added to the grant's).
    #[serde(default)]
    pub routes: Vec<Route>,
}

/// A decided approval: the caller it was for, and whether it was approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub approval: String,
    pub origin: String,
    pub approved: bool,
}

impl Wallet {
    /// A caller asks to connect with `requested` providers.
    pub fn connect(
        &mut self,
        caller: &Caller,
        requested: &[RequestedProvider],
        resume: bool,
        clock: &LocalClock,
    ) -> Result<ConnectStep, CoreError> {
        self.tick(clock);
        if requested.is_empty() || requested.len() > MAX_REQUESTED_PROVIDERS {
            return Err(CoreError::BadRequest(format!(
                "ask for between 1 and {MAX_REQUESTED_PROVIDERS} providers"
            )));
        }
        for p in requested {
            providers::find(&p.id)?;
        }
        if self.covers(caller, requested, clock.now_ms) {
            return self
                .session_with_keys(caller, requested)
                .map(ConnectStep::Connected);
        }
        self.open_approval(caller.grant_key(), requested, None, resume, clock)
    }

    /// A new pending approval for `key` (one at a time in all, none while `key` is
    /// backing off), or the one that is open when a `connect` resumes.
    pub(super) fn open_approval(
        &mut self,
        key: &str,
        requested: &[RequestedProvider],
        client: Option<ClientInfo>,
        resume: bool,
        clock: &LocalClock,
    ) -> Result<ConnectStep, CoreError> {
        if let Some(open) = self.approvals.pending.values().find(|p| p.origin == key) {
            if resume {
                return Ok(ConnectStep::Ask {
                    approval: open.id.clone(),
                    open_window: false,
                });
            }
            return Err(CoreError::ApprovalPending);
        }
        if let Some(b) = self.approvals.backoff.get(key) {
            if clock.now_ms < b.until_ms {
                return Err(CoreError::ApprovalBackoff {
                    retry_after_ms: b.until_ms - clock.now_ms,
                });
            }
        }
        if self.approvals.pending.len() >= MAX_PENDING_APPROVALS {
            return Err(CoreError::ApprovalPending);
        }
        let id = format!(
            "apr_{}",
            URL_SAFE_NO_PAD.encode(make_bytes::<12>(&mut *self.rng)?)
        );
        self.approvals.pending.insert(
            id.clone(),
            PendingApproval {
                id: id.clone(),
                origin: key.to_string(),
                providers: requested.to_vec(),
                window_id: None,
                created_at_ms: clock.now_ms,
                client,
            },
        );
        self.persistence
            .mark(Record::PendingApprovals, clock.now_ms, 0);
        Ok(ConnectStep::Ask {
            approval: id,
            open_window: true,
        })
    }

    /// After the user decided: the session, or why there is none.
    pub fn connect_decided(
        &mut self,
        caller: &Caller,
        requested: &[RequestedProvider],
        approved: bool,
        clock: &LocalClock,
    ) -> Result<Session, CoreError> {
        self.tick(clock);
        if !approved || !self.covers(caller, requested, clock.now_ms) {
            return Err(CoreError::UserRejected);
        }
        self.session_with_keys(caller, requested)
    }

    /// The session of a caller whose grant is live, if any (a page reloaded).
    pub fn reconnect(&mut self, caller: &Caller, clock: &LocalClock) -> Option<Session> {
        self.tick(clock);
        let live = self.grants.is_live(caller.grant_key(), clock.now_ms);
        live.then(|| self.session(caller)).and_then(Result::ok)
    }

    /// Whether a live grant covers every required provider.
    fn covers(&self, caller: &Caller, requested: &[RequestedProvider], now: u64) -> bool {
        let origin = caller.grant_key();
        self.grants.is_live(origin, now)
            && requested
                .iter()
                .filter(|p| p.required)
                .all(|p| self.grants.check(origin, &p.id, now).is_ok())
    }

    fn session_with_keys(
        &self,
        caller: &Caller,
        requested: &[RequestedProvider],
    ) -> Result<Session, CoreError> {
        let grant = self.grants.get(caller.grant_key());
        let missing = requested
            .iter()
            .find(|p| p.required && self.can_serve(grant, &p.id) == Some(false));
        if let Some(p) = missing {
            return Err(CoreError::ProviderKeyMissing(p.id.clone()));
        }
        self.session(caller)
    }

    /// `{sessionKey, origin, providers: {id: {available}}}` for a granted caller.
    pub fn session(&self, caller: &Caller) -> Result<Session, CoreError> {
        let origin = caller.grant_key();
        let grant = self
            .grants
            .get(origin)
            .ok_or(CoreError::OriginNotApproved)?;
        Ok(Session {
            session_key: derive_session_key(&self.session_secret, origin, &grant.nonce),
            origin: origin.to_string(),
            providers: self.availability(origin),
        })
    }

    /// Each granted provider, and whether a key can serve it.
    pub fn availability(&self, origin: &str) -> LiteMap<String, Availability> {
        let Some(grant) = self.grants.get(origin) else {
            return LiteMap::new();
        };
        let mut providers = LiteMap::new();
        for id in &grant.providers {
            let available = self.can_serve(Some(grant), id) != Some(false);
            providers.insert(id.clone(), Availability { available });
        }
        providers
    }

    /// Whether a stored key serves calls to `provider`: its own, or that of the
    /// provider `grant` routes it to. `None` while locked (no one can know).
    pub fn can_serve(&self, grant: Option<&Grant>, provider: &str) -> Option<bool> {
        let vault = &self.open().ok()?.vault;
        let has_key = |id: &str| vault.credential_for_provider(id).is_some();
        let routed = grant
            .and_then(|g| g.route_from(provider))
            .is_some_and(|r| has_key(&r.to));
        Some(has_key(provider) || routed)
    }

    /// The glue opened the approval's window.
    pub fn approval_window_opened(&mut self, approval: &str, window_id: Option<i32>, now: u64) {
        if let Some(p) = self.approvals.pending.get_mut(approval) {
            p.window_id = window_id;
            self.persistence.mark(Record::PendingApprovals, now, 0);
        }
    }

    /// The pending approval `id`, if it is still waiting.
    pub fn pending_approval(&self, id: &str) -> Result<&PendingApproval, CoreError> {
        self.approvals
            .pending
            .get(id)
            .ok_or(CoreError::ApprovalGone)
    }

    /// Every pending approval, oldest first.
    pub fn pending_approvals(&self) -> Vec<&PendingApproval> {
        let mut list: Vec<_> = self.approvals.pending.values().collect();
        list.sort_by_key(|p| p.created_at_ms);
        list
    }

    /// The user's answer. An approval must name only requested providers.
    pub fn decide_approval(
        &mut self,
        id: &str,
        decision: &Decision,
        clock: &LocalClock,
    ) -> Result<Decided, CoreError> {
        let pending = self.pending_approval(id)?.clone();
        let approved = decision.approve && !decision.providers.is_empty();
        let now = clock.now_ms;
        if approved {
            let requested = |c: &String| pending.providers.iter().any(|p| &p.id == c);
            if let Some(extra) = decision.providers.iter().find(|c| !requested(c)) {
                return Err(CoreError::InvalidInput(format!(
                    "{} was not requested",
                    providers::truncate_for_message(extra)
                )));
            }
            validate_routes(&decision.providers, &decision.routes)?;
            let expires = decision.expires_in_ms.map(|ms| now.saturating_add(ms));
            self.grants.approve(
                &pending.origin,
                decision.providers.clone(),
                now,
                expires,
                &mut *self.rng,
            )?;
            if !decision.routes.is_empty() {
                self.grants
                    .merge_routes(&pending.origin, decision.routes.clone())?;
            }
            if let Some(client) = &pending.client {
                // A new login replaces the client's token: the old one stops working.
                self.grants.set_client(&pending.origin, client.clone())?;
            }
            self.persistence.mark(Record::Grants, now, 0);
        }
        self.approvals.pending.remove(id);
        self.persistence.mark(Record::PendingApprovals, now, 0);
        if approved {
            self.approvals.backoff.remove(&pending.origin);
        } else {
            let rejections = self
                .approvals
                .backoff
                .get(&pending.origin)
                .map_or(0, |b| b.rejections)
                .saturating_add(1);
            let until_ms = now.saturating_add(RejectionBackoff::delay_ms(rejections));
            self.approvals.backoff.insert(
                pending.origin.clone(),
                RejectionBackoff {
                    rejections,
                    until_ms,
                },
            );
        }
        Ok(Decided {
            approval: id.to_string(),
            origin: pending.origin,
            approved,
        })
    }

    /// A window closed: every approval shown in it is rejected.
    pub fn connect_window_closed(&mut self, window_id: i32, clock: &LocalClock) -> Vec<Decided> {
        let ids: Vec<String> = self
            .approvals
            .pending
            .values()
            .filter(|p| p.window_id == Some(window_id))
            .map(|p| p.id.clone())
            .collect();
        ids.iter()
            .filter_map(|id| self.decide_approval(id, &Decision::default(), clock).ok())
            .collect()
    }
}
