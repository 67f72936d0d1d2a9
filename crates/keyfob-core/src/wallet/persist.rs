//! What the wallet writes, when, and what happens when a write fails.
//!
//! Invariants:
//! - **Separate records, separate writes.** Budgets, grants, the throttle and the audit
//!   log are each written on their own, so one that cannot be stored (a log that no
//!   longer fits the quota) never keeps another from being stored.
//! - **The vault is written before its key is kept.** The derived key goes to session
//!   storage only once the vault it opens is on disk; a password change writes the vault
//!   and the re-sealed log in one batch, so the log always opens with the stored vault.
//! - **A failed vault write is undone in memory**: the wallet reopens the vault it last
//!   stored, so memory never runs ahead of disk (the caller reports the error).
//! - **Nothing fails silently.** A failed write becomes a [`Problem`] the popup shows, and
//!   is retried with a growing delay; the next success clears it.

use litemap::LiteMap;

use serde::Serialize;

use super::store::{Batch, Record, Store, StoreError, Write, Written};
use super::{Wallet, WalletSlot};
use crate::vault::{seal_record, Vault};
use crate::CoreError;

/// How long bookkeeping writes wait, so a burst of requests costs one write.
pub const COALESCE_MS: u64 = 500;
/// First retry delay after a failed write; doubles up to [`MAX_RETRY_MS`].
const RETRY_MS: u64 = 5_000;
const MAX_RETRY_MS: u64 = 300_000;

/// Something the user should know about the stored state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// `WRITE_FAILED` or `STATE_SET_ASIDE`.
    pub code: &'static str,
    /// The storage key concerned.
    pub record: &'static str,
    pub message: String,
    pub since_ms: u64,
}

/// Due writes, writes in flight and the problems they caused.
#[derive(Debug, Default)]
pub(crate) struct Persistence {
    /// Records to write, with the time each is due.
    due: LiteMap<Record, u64>,
    /// Batches a store accepted but has not confirmed, with the vault bytes they carry.
    in_flight: LiteMap<u64, InFlight>,
    next_batch: u64,
    /// Consecutive failures per record (for the retry delay).
    failures: LiteMap<Record, u32>,
    pub(crate) problems: Vec<Problem>,
}

#[derive(Debug)]
struct InFlight {
    records: Vec<Record>,
    vault: Option<Vec<u8>>,
}

impl Persistence {
    /// Asks for `record` to be written `delay_ms` from `now` (sooner if already due).
    pub(crate) fn mark(&mut self, record: Record, now: u64, delay_ms: u64) {
        let at = now.saturating_add(delay_ms);
        let due = self.due.entry(record).or_insert(at);
        *due = (*due).min(at);
    }

    pub(crate) fn is_pending(&self, record: Record) -> bool {
        self.due.contains_key(&record)
            || self.in_flight.values().any(|f| f.records.contains(&record))
    }

    /// Whether any change waits to be written or confirmed.
    pub(crate) fn unsaved(&self) -> bool {
        !self.due.is_empty() || !self.in_flight.is_empty()
    }

    pub(crate) fn note(&mut self, code: &'static str, record: Record, message: String, now: u64) {
        self.problems
            .retain(|p| !(p.record == record.key() && p.code == code));
        self.problems.push(Problem {
            code,
            record: record.key(),
            message,
            since_ms: now,
        });
    }

    fn clear_write_problem(&mut self, record: Record) {
        self.problems
            .retain(|p| !(p.record == record.key() && p.code == "WRITE_FAILED"));
        self.failures.remove(&record);
    }
}

/// What one call of [`Wallet::persist`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Persisted {
    /// Batches the store queued: report each with [`Wallet::write_done`].
    pub queued: Vec<u64>,
    /// Milliseconds until the next write is due, if one is waiting.
    pub next_in_ms: Option<u64>,
}

impl Wallet {
    /// Writes every record that is due at `now`. Call after each change (the wallet marks
    /// what changed) and again when `next_in_ms` has passed.
    pub fn persist(&mut self, store: &mut dyn Store, now: u64) -> Persisted {
        let mut out = Persisted::default();
        for batch in self.due_batches(now) {
            let id = batch.id;
            match store.put(&batch) {
                Ok(Written::Done) => self.write_done(id, Ok(()), now),
                Ok(Written::Queued) => out.queued.push(id),
                Err(error) => self.write_done(id, Err(error), now),
            }
        }
        // A confirmed vault write makes its key due: write it in the same call.
        if self
            .persistence
            .due
            .get(&Record::VaultKey)
            .is_some_and(|&t| t <= now)
            && !self.persistence.is_pending(Record::Vault)
        {
            let more = self.persist(store, now);
            out.queued.extend(more.queued);
        }
        out.next_in_ms = self
            .persistence
            .due
            .iter()
            .filter(|(r, _)| !self.blocked(**r))
            .map(|(_, &t)| t.saturating_sub(now))
            .min();
        out
    }

    /// A store's report on a batch it queued (or [`Wallet::persist`]'s on one it wrote).
    pub fn write_done(&mut self, batch: u64, result: Result<(), StoreError>, now: u64) {
        let Some(flight) = self.persistence.in_flight.remove(&batch) else {
            return;
        };
        match result {
            Ok(()) => {
                for record in &flight.records {
                    self.persistence.clear_write_problem(*record);
                }
                if let (Some(sealed), WalletSlot::Unlocked(open)) = (flight.vault, &mut self.slot) {
                    open.durable = sealed;
                    open.durable_key = None;
                }
            }
            Err(error) => {
                for &record in &flight.records {
                    let failures = self.persistence.failures.entry(record).or_insert(0);
                    *failures = failures.saturating_add(1);
                    let delay = RETRY_MS
                        .saturating_mul(1 << (*failures - 1).min(10))
                        .min(MAX_RETRY_MS);
                    let message = format!("{} could not be saved: {error}", what(record));
                    self.persistence.note("WRITE_FAILED", record, message, now);
                    if record != Record::Vault {
                        self.persistence.mark(record, now, delay);
                    }
                }
                if flight.vault.is_some() {
                    self.revert_vault(now);
                }
            }
        }
    }

    /// Whether a batch carrying `record` failed or is still unconfirmed (for callers
    /// that must know a change was stored before they answer).
    pub fn write_failed(&self, record: Record) -> Option<CoreError> {
        self.persistence
            .problems
            .iter()
            .find(|p| p.code == "WRITE_FAILED" && p.record == record.key())
            .map(|p| CoreError::StorageFailed(p.message.clone()))
    }

    /// The vault write failed: go back to the vault that is on disk.
    fn revert_vault(&mut self, now: u64) {
        let WalletSlot::Unlocked(open) = &mut self.slot else {
            return;
        };
        if let Some(old_key) = open.durable_key.take() {
            open.key = old_key;
        }
        match Vault::open(&open.durable, &open.key) {
            Ok(vault) => open.vault = vault,
            // The stored vault does not open with the key in memory: lock, so the
            // password (which still opens what is stored) decides.
            Err(_) => self.lock(now),
        }
        self.persistence.due.remove(&Record::VaultKey);
    }

    /// A record waits for another: the key for its vault.
    fn blocked(&self, record: Record) -> bool {
        record == Record::VaultKey && self.persistence.is_pending(Record::Vault)
    }

    fn due_batches(&mut self, now: u64) -> Vec<Batch> {
        let due: Vec<Record> = self
            .persistence
            .due
            .iter()
            .filter(|(r, &t)| t <= now && !self.blocked(**r))
            .map(|(r, _)| *r)
            .collect();
        let in_flight: Vec<Record> = self
            .persistence
            .in_flight
            .values()
            .flat_map(|f| f.records.clone())
            .collect();
        let mut groups: Vec<Vec<Record>> = Vec::new();
        for record in due {
            // One batch per record at a time: a newer value waits for the older write.
            if in_flight.contains(&record) {
                continue;
            }
            self.persistence.due.remove(&record);
            let joins_vault = record == Record::Audit && self.key_changed();
            match groups
                .iter_mut()
                .find(|g| joins_vault && g.contains(&Record::Vault))
            {
                Some(group) => group.push(record),
                None => groups.push(vec![record]),
            }
        }
        // The audit log joins a key-changing vault write even if it was due later.
        if let Some(group) = groups.iter_mut().find(|g| g.contains(&Record::Vault)) {
            if self.key_changed() && !group.contains(&Record::Audit) {
                self.persistence.due.remove(&Record::Audit);
                group.push(Record::Audit);
                groups.retain(|g| g != &vec![Record::Audit]);
            }
        }
        let mut batches = Vec::new();
        for group in groups {
            let mut writes = Vec::new();
            let mut vault = None;
            for record in &group {
                match self.encode(*record) {
                    Ok(value) => {
                        if *record == Record::Vault {
                            vault.clone_from(&value);
                        }
                        writes.push(Write {
                            record: *record,
                            value,
                        });
                    }
                    Err(error) => {
                        let message = format!("{} could not be prepared: {error}", what(*record));
                        self.persistence.note("WRITE_FAILED", *record, message, now);
                    }
                }
            }
            if writes.is_empty() {
                continue;
            }
            self.persistence.next_batch += 1;
            let id = self.persistence.next_batch;
            self.persistence.in_flight.insert(
                id,
                InFlight {
                    records: writes.iter().map(|w| w.record).collect(),
                    vault,
                },
            );
            batches.push(Batch { id, writes });
        }
        batches
    }

    fn key_changed(&self) -> bool {
        matches!(&self.slot, WalletSlot::Unlocked(open) if open.durable_key.is_some())
    }

    /// The bytes to store for `record` now (`None`: remove it).
    fn encode(&mut self, record: Record) -> Result<Option<Vec<u8>>, CoreError> {
        match record {
            Record::Vault => match &self.slot {
                WalletSlot::Unlocked(open) => open.vault.seal(&open.key, &mut *self.rng).map(Some),
                // Changes sealed when the wallet locked.
                WalletSlot::Locked { sealed } => Ok(Some(sealed.clone())),
                WalletSlot::Missing => Err(CoreError::VaultMissing),
            },
            Record::VaultKey => Ok(match &self.slot {
                WalletSlot::Unlocked(open) => Some(open.key.to_session_bytes().to_vec()),
                _ => None,
            }),
            Record::Audit => self.sealed_ledger(),
            Record::Grants => to_json(&self.grants),
            Record::Budgets => to_json(&self.budgets),
            Record::Throttle => to_json(&self.throttle),
            Record::PendingApprovals => to_json(&self.approvals.stored()),
            Record::SessionSecret => Ok(Some(self.session_secret.to_vec())),
            Record::LastActivity => Ok(Some(self.activity.last_ms.to_string().into_bytes())),
            Record::SetAside(aside) => Ok(self.asides.remove(&aside)),
        }
    }

    /// The audit log sealed under the vault key: the open log while unlocked, or the
    /// bytes sealed when the wallet locked.
    fn sealed_ledger(&mut self) -> Result<Option<Vec<u8>>, CoreError> {
        match (&self.slot, &self.ledger) {
            (WalletSlot::Unlocked(open), super::LedgerSlot::Open(ledger)) => {
                let plain = zeroize::Zeroizing::new(
                    serde_json::to_vec(ledger).map_err(|e| CoreError::Internal(e.to_string()))?,
                );
                seal_record(&open.key, &plain, &mut *self.rng).map(Some)
            }
            (_, super::LedgerSlot::Sealed(bytes)) => Ok(Some(bytes.clone())),
            // Never opened (or none): nothing new to write, and what is stored stays.
            _ => Err(CoreError::WalletLocked),
        }
    }
}

/// A record's name for people.
fn what(record: Record) -> &'static str {
    match record {
        Record::Vault => "Your keys",
        Record::Grants => "Connected sites",
        Record::Budgets => "Spending totals",
        Record::Throttle => "The unlock attempt counter",
        Record::Audit => "The activity log",
        Record::SetAside(_) => "A damaged record kept aside",
        Record::VaultKey | Record::SessionSecret => "The unlocked session",
        Record::LastActivity => "The auto-lock timer",
        Record::PendingApprovals => "Pending approvals",
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Option<Vec<u8>>, CoreError> {
    serde_json::to_vec(value)
        .map(Some)
        .map_err(|e| CoreError::Internal(e.to_string()))
}
