//! The wallet engine: one sans-I/O state machine that every entry point drives.
//!
//! Like a rustls connection, the [`Wallet`] never does I/O. The glue tells it what
//! happened (a command from the popup, a page's request head, body bytes, a response,
//! the user's answer, the time) and does what it answers (send this exact request,
//! open an approval window, refuse with this error, store these records). Every rule
//! that makes the wallet trustworthy runs here, in one order, for every caller:
//!
//! - **connect** ([`connect`]): grant lookup, required providers, missing keys, the
//!   approval and its decision (chosen ⊆ requested), one pending approval at a time in
//!   all, and a back-off for a caller after its approval is rejected;
//! - **request** ([`request`]): grant and session key, URL and path allow-list, surface
//!   gates, model allow-list, pre-flight cost, budget reservation, per-request approval,
//!   upstream headers with the key set last; then the response meter, one settlement
//!   rule ([`charge`]) and the audit record;
//! - **vault** ([`vault_ops`]): create, unlock (the attempt counted before the key is
//!   derived), idle lock, password change, backup, credentials;
//! - **persistence** ([`persist`]): what is written when, damaged records set aside.
//!
//! Time comes in as a [`LocalClock`], randomness as a [`RandomSource`]; state is loaded
//! from and written to a [`Store`].

pub mod caller;
pub mod charge;
pub mod clients;
pub mod commands;
pub mod connect;
mod load;
pub mod persist;
pub mod request;
mod response;
pub mod route_reply;
pub mod route_step;
pub mod store;
pub mod vault_ops;
pub mod views;

use litemap::LiteMap;

use serde::Serialize;
use zeroize::Zeroizing;

pub use caller::Caller;
pub use commands::{After, Answer, BridgeAction, Command, Outcome, Step};
pub use persist::{Persisted, Problem};
pub use store::{
    Area, Aside, Batch, Encoding, MemoryStore, Record, Store, StoreError, Write, Written,
};

use crate::autolock::idle_expired;
use crate::grants::GrantBook;
use crate::metering::{AuditLedger, BudgetBook, LocalClock};
use crate::random::RandomSource;
use crate::vault::{KdfParams, UnlockThrottle, Vault, VaultKey};
use crate::CoreError;
use connect::Approvals;
use persist::Persistence;
use request::Exchanges;

/// Last activity is stored at most this often: a write per request would be waste.
const ACTIVITY_WRITE_INTERVAL_MS: u64 = 20_000;

/// The whole wallet: vault, grants, budgets, throttle, approvals, the audit log.
pub struct Wallet {
    slot: WalletSlot,
    grants: GrantBook,
    budgets: BudgetBook,
    /// The stored budgets were damaged: rebuild them from the audit log once it opens.
    budgets_need_rebuild: bool,
    throttle: UnlockThrottle,
    ledger: LedgerSlot,
    /// Records of requests that ended while the log was sealed (appended when it opens).
    audit_backlog: Vec<crate::metering::AuditRecord>,
    session_secret: Zeroizing<[u8; 32]>,
    activity: Activity,
    approvals: Approvals,
    exchanges: Exchanges,
    /// Damaged records waiting to be written aside.
    asides: LiteMap<Aside, Vec<u8>>,
    persistence: Persistence,
    /// Argon2id parameters for new keys (tests use small ones).
    kdf: KdfParams,
    rng: Box<dyn RandomSource>,
}

/// The vault, as far as the wallet knows it.
enum WalletSlot {
    /// No wallet was created.
    Missing,
    /// A stored vault, locked (its bytes may be unreadable: unlocking says so).
    Locked {
        sealed: Vec<u8>,
    },
    Unlocked(Box<Open>),
}

struct Open {
    vault: Vault,
    key: VaultKey,
    /// The sealed vault as last stored.
    durable: Vec<u8>,
    /// The key that opens `durable`, while a password change is not yet stored.
    durable_key: Option<VaultKey>,
}

/// The audit log: sealed under the vault key while locked, open while unlocked.
enum LedgerSlot {
    /// Nothing stored yet.
    Empty,
    Sealed(Vec<u8>),
    Open(AuditLedger),
}

#[derive(Debug, Clone, Copy)]
struct Activity {
    last_ms: u64,
    saved_ms: u64,
    auto_lock_minutes: u32,
}

/// `missing`, `locked` or `unlocked`, as pages and the popup name the wallet's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum WalletState {
    Missing,
    Locked,
    Unlocked,
}

/// What the popup's status line shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub state: WalletState,
    pub auto_lock_minutes: u32,
    pub failed_attempts: u32,
    /// Wrong passwords still allowed before the back-off starts.
    pub free_attempts_left: u32,
    pub retry_after_ms: u64,
    pub pending_approvals: usize,
    /// Stored state that was damaged or could not be written.
    pub problems: Vec<Problem>,
    /// Changes not yet confirmed stored (a coalesced write waits, or one is in flight).
    pub unsaved: bool,
}

impl Wallet {
    pub fn state(&self) -> WalletState {
        match self.slot {
            WalletSlot::Missing => WalletState::Missing,
            WalletSlot::Locked { .. } => WalletState::Locked,
            WalletSlot::Unlocked(_) => WalletState::Unlocked,
        }
    }

    pub fn is_unlocked(&self) -> bool {
        matches!(self.slot, WalletSlot::Unlocked(_))
    }

    pub fn status(&self, now_ms: u64) -> Status {
        Status {
            state: self.state(),
            auto_lock_minutes: self.activity.auto_lock_minutes,
            failed_attempts: self.throttle.failures(),
            free_attempts_left: self.throttle.free_attempts_left(),
            retry_after_ms: match self.throttle.check(now_ms) {
                Err(CoreError::UnlockBackoff { retry_after_ms }) => retry_after_ms,
                _ => 0,
            },
            pending_approvals: self.approvals.pending_count(),
            problems: self.persistence.problems.clone(),
            unsaved: self.persistence.unsaved(),
        }
    }

    /// Forgets a problem the user has read (a damaged record stays set aside).
    pub fn dismiss_problem(&mut self, record: &str) -> bool {
        let before = self.persistence.problems.len();
        self.persistence
            .problems
            .retain(|p| !(p.record == record && p.code == "STATE_SET_ASIDE"));
        before != self.persistence.problems.len()
    }

    /// Locks if the idle time has run out. Every entry point calls this first, so a
    /// worker that slept through the deadline locks before serving anything.
    pub fn tick(&mut self, clock: &LocalClock) -> bool {
        let idle = idle_expired(
            self.activity.last_ms,
            clock.now_ms,
            self.activity.auto_lock_minutes,
        );
        if self.is_unlocked() && idle {
            self.lock(clock.now_ms);
            return true;
        }
        false
    }

    /// Counts as activity for auto-lock; stored every so often.
    pub fn touch(&mut self, now_ms: u64) {
        self.activity.last_ms = now_ms;
        if now_ms.saturating_sub(self.activity.saved_ms) >= ACTIVITY_WRITE_INTERVAL_MS {
            self.activity.saved_ms = now_ms;
            self.persistence.mark(Record::LastActivity, now_ms, 0);
        }
    }

    fn open(&self) -> Result<&Open, CoreError> {
        match &self.slot {
            WalletSlot::Unlocked(open) => Ok(open),
            WalletSlot::Missing => Err(CoreError::VaultMissing),
            WalletSlot::Locked { .. } => Err(CoreError::WalletLocked),
        }
    }

    fn open_mut(&mut self) -> Result<&mut Open, CoreError> {
        match &mut self.slot {
            WalletSlot::Unlocked(open) => Ok(open),
            WalletSlot::Missing => Err(CoreError::VaultMissing),
            WalletSlot::Locked { .. } => Err(CoreError::WalletLocked),
        }
    }

    /// The open audit log (only while unlocked).
    fn ledger_mut(&mut self) -> Result<&mut AuditLedger, CoreError> {
        match &mut self.ledger {
            LedgerSlot::Open(ledger) => Ok(ledger),
            _ => Err(CoreError::WalletLocked),
        }
    }

    fn ledger(&self) -> Result<&AuditLedger, CoreError> {
        match &self.ledger {
            LedgerSlot::Open(ledger) => Ok(ledger),
            _ => Err(CoreError::WalletLocked),
        }
    }
}
