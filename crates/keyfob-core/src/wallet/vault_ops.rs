//! The vault's commands: create, unlock, lock, password change, auto-lock, backup, and
//! the credentials in it.
//!
//! - **The unlock attempt is counted before the key is derived** (and taken back on
//!   success), so however unlock calls interleave, no more than the throttle allows run
//!   Argon2id with a wrong password.
//! - **A backup export asks for the master password again**, and a guess there is an
//!   unlock attempt: counted and stored before Argon2id runs, under the same throttle, so
//!   an unlocked browser is no faster a way to guess it than the lock screen.
//! - The master password is used and dropped; only the derived key is kept (written to
//!   session storage once the vault it opens is stored).
//! - A locked wallet keeps no history in memory: the audit log is sealed as it locks.

use super::store::{Aside, Record};
use super::{LedgerSlot, Open, Wallet, WalletSlot};
use crate::metering::{AuditLedger, LocalClock};
use crate::providers::{self, Provider};
use crate::request::{plan_key_test, UpstreamPlan};
use crate::secret::{ExposeSecret, SecretString};
use crate::vault::{
    derive_vault_key, open_record, seal_record, CredentialInfo, KdfParams, NewCredential, Vault,
    VaultKey,
};
use crate::CoreError;

impl Wallet {
    /// Argon2id parameters for keys derived from now on.
    pub fn set_kdf_params(&mut self, params: KdfParams) {
        self.kdf = params;
    }

    /// Creates the wallet under `password` (which must pass the password policy).
    pub fn create(&mut self, password: &SecretString, clock: &LocalClock) -> Result<(), CoreError> {
        if !matches!(self.slot, WalletSlot::Missing) {
            return Err(CoreError::VaultExists);
        }
        let (vault, key, sealed) = Vault::create(password, &self.kdf, &mut *self.rng)?;
        self.slot = WalletSlot::Unlocked(Box::new(Open {
            vault,
            key,
            durable: Vec::new(),
            durable_key: None,
        }));
        self.persistence.mark(Record::Vault, clock.now_ms, 0);
        self.persistence.mark(Record::VaultKey, clock.now_ms, 0);
        let _ = sealed; // sealed again when written, with a fresh nonce
        self.after_unlock(clock);
        Ok(())
    }

    /// Unlocks with the master password, within the throttle's limits
    /// ([`Wallet::begin_unlock`] then [`Wallet::finish_unlock`]).
    pub fn unlock(&mut self, password: &SecretString, clock: &LocalClock) -> Result<(), CoreError> {
        match self.begin_unlock(clock)? {
            Some(attempt) => self.finish_unlock(attempt, password, clock),
            None => Ok(()),
        }
    }

    /// Counts an unlock attempt, before any key is derived: the glue stores the count,
    /// then derives. `None` when already unlocked. Attempts that are still running count
    /// as failures, so at most the throttle's free attempts run at once.
    pub fn begin_unlock(&mut self, clock: &LocalClock) -> Result<Option<UnlockAttempt>, CoreError> {
        let now = clock.now_ms;
        let sealed = match &self.slot {
            WalletSlot::Missing => return Err(CoreError::VaultMissing),
            WalletSlot::Unlocked(_) => return Ok(None),
            WalletSlot::Locked { sealed } => sealed.clone(),
        };
        self.throttle.check(now)?;
        let before = self.throttle;
        self.throttle.record_failure(now);
        self.persistence.mark(Record::Throttle, now, 0);
        Ok(Some(UnlockAttempt { sealed, before }))
    }

    /// Derives the key for a counted attempt and opens the vault. A success takes the
    /// count back; a damaged vault is not a guess and does not count either.
    pub fn finish_unlock(
        &mut self,
        attempt: UnlockAttempt,
        password: &SecretString,
        clock: &LocalClock,
    ) -> Result<(), CoreError> {
        let now = clock.now_ms;
        let UnlockAttempt { sealed, before } = attempt;
        if self.is_unlocked() {
            return Ok(());
        }
        match Vault::unlock(&sealed, password) {
            Ok((vault, key)) => {
                self.throttle.reset();
                // The attempt was stored as a failure when it began: store the reset too.
                self.persistence.mark(Record::Throttle, now, 0);
                self.slot = WalletSlot::Unlocked(Box::new(Open {
                    vault,
                    key,
                    durable: sealed,
                    durable_key: None,
                }));
                self.persistence.mark(Record::VaultKey, now, 0);
                self.after_unlock(clock);
                Ok(())
            }
            Err(CoreError::WrongPassword) => Err(CoreError::WrongPassword),
            Err(other) => {
                self.throttle = before;
                self.persistence.mark(Record::Throttle, now, 0);
                Err(other)
            }
        }
    }

    fn after_unlock(&mut self, clock: &LocalClock) {
        if let WalletSlot::Unlocked(open) = &self.slot {
            self.activity.auto_lock_minutes = open.vault.auto_lock_minutes();
        }
        self.activity.saved_ms = 0; // store the activity now
        self.touch(clock.now_ms);
        self.open_ledger(clock);
    }

    /// Opens the audit log with the vault key (a log that does not open is set aside),
    /// and rebuilds damaged budgets from it.
    pub(crate) fn open_ledger(&mut self, clock: &LocalClock) {
        let WalletSlot::Unlocked(open) = &self.slot else {
            return;
        };
        let ledger = match std::mem::replace(&mut self.ledger, LedgerSlot::Empty) {
            LedgerSlot::Open(ledger) => ledger,
            LedgerSlot::Empty => AuditLedger::default(),
            LedgerSlot::Sealed(sealed) => {
                let opened = open_record(&sealed, &open.key)
                    .ok()
                    .and_then(|plain| serde_json::from_slice::<AuditLedger>(&plain).ok());
                match opened {
                    Some(ledger) => ledger,
                    None => {
                        self.set_aside(Aside::Audit, sealed, clock.now_ms);
                        self.persistence.mark(Record::Audit, clock.now_ms, 0);
                        AuditLedger::default()
                    }
                }
            }
        };
        let mut ledger = ledger;
        for record in std::mem::take(&mut self.audit_backlog) {
            ledger.record(record, clock, &crate::metering::RollupPolicy::default());
            self.persistence.mark(Record::Audit, clock.now_ms, 0);
        }
        if self.budgets_need_rebuild {
            self.budgets.rebuild_from(&ledger, clock);
            self.budgets_need_rebuild = false;
            self.persistence.mark(Record::Budgets, clock.now_ms, 0);
        }
        self.ledger = LedgerSlot::Open(ledger);
    }

    /// Locks now: the key leaves memory and session storage, the log is sealed.
    pub fn lock(&mut self, now: u64) {
        let slot = std::mem::replace(&mut self.slot, WalletSlot::Missing);
        let WalletSlot::Unlocked(open) = slot else {
            self.slot = slot;
            return;
        };
        if let LedgerSlot::Open(ledger) = &self.ledger {
            let sealed = serde_json::to_vec(ledger)
                .ok()
                .map(zeroize::Zeroizing::new)
                .and_then(|plain| seal_record(&open.key, &plain, &mut *self.rng).ok());
            // A log that could not be sealed stays unwritten: what is stored is kept.
            self.ledger = match sealed {
                Some(bytes) => {
                    self.persistence.mark(Record::Audit, now, 0);
                    LedgerSlot::Sealed(bytes)
                }
                None => LedgerSlot::Empty,
            };
        }
        // Unsaved vault changes ("last used") are sealed now, with the key that goes.
        let sealed = if self.persistence.is_pending(Record::Vault) {
            open.vault
                .seal(&open.key, &mut *self.rng)
                .unwrap_or_else(|_| open.durable.clone())
        } else {
            open.durable.clone()
        };
        self.slot = WalletSlot::Locked { sealed };
        // Requests in flight finish and settle; their records wait for the log to reopen.
        self.persistence.mark(Record::VaultKey, now, 0);
    }

    /// Changes the master password. The vault and the re-sealed log are written in one
    /// batch; until it is stored, the old password still opens what is on disk.
    pub fn change_password(
        &mut self,
        old: &SecretString,
        new: &SecretString,
        now: u64,
    ) -> Result<(), CoreError> {
        let kdf = self.kdf;
        let WalletSlot::Unlocked(open) = &mut self.slot else {
            return Err(CoreError::WalletLocked);
        };
        let (key, _sealed) =
            open.vault
                .change_password(&open.durable, old, new, &kdf, &mut *self.rng)?;
        let old_key = std::mem::replace(&mut open.key, key);
        open.durable_key.get_or_insert(old_key);
        self.persistence.mark(Record::Vault, now, 0);
        self.persistence.mark(Record::Audit, now, 0);
        self.persistence.mark(Record::VaultKey, now, 0);
        Ok(())
    }

    pub fn set_auto_lock(&mut self, minutes: u32, now: u64) -> Result<(), CoreError> {
        self.open_mut()?.vault.set_auto_lock_minutes(minutes)?;
        self.activity.auto_lock_minutes = minutes;
        self.persistence.mark(Record::Vault, now, 0);
        Ok(())
    }

    /// Counts a guess at the master password made while unlocked (the backup export asks
    /// for it again), before any key is derived, exactly as [`Wallet::begin_unlock`]
    /// counts one: the glue stores the count, then calls
    /// [`Wallet::finish_export_backup`].
    pub fn begin_password_check(
        &mut self,
        clock: &LocalClock,
    ) -> Result<PasswordAttempt, CoreError> {
        let now = clock.now_ms;
        self.open()?;
        self.throttle.check(now)?;
        self.throttle.record_failure(now);
        self.persistence.mark(Record::Throttle, now, 0);
        Ok(PasswordAttempt { _counted: () })
    }

    /// The backup, sealed under its own password, for a counted attempt whose `current`
    /// is the master password. A wrong one is [`CoreError::WrongPassword`] and stays
    /// counted; the right one takes the count back, as an unlock does.
    pub fn export_backup(
        &mut self,
        attempt: PasswordAttempt,
        current: &SecretString,
        backup_password: &SecretString,
        now: u64,
    ) -> Result<Vec<u8>, CoreError> {
        let PasswordAttempt { _counted: () } = attempt;
        let kdf = self.kdf;
        let WalletSlot::Unlocked(open) = &self.slot else {
            return Err(self.open().err().unwrap_or(CoreError::WalletLocked));
        };
        if !derives(&open.key, current)? {
            return Err(CoreError::WrongPassword);
        }
        self.throttle.reset();
        self.persistence.mark(Record::Throttle, now, 0);
        open.vault
            .export_backup(backup_password, &kdf, &mut *self.rng)
    }

    /// Merges a backup in; returns how many credentials it added or restored.
    pub fn import_backup(
        &mut self,
        blob: &[u8],
        password: &SecretString,
        now: u64,
    ) -> Result<usize, CoreError> {
        let count = self.open_mut()?.vault.import_backup(blob, password, now)?;
        self.persistence.mark(Record::Vault, now, 0);
        Ok(count)
    }

    /// Every credential, without secrets, in the order they were added.
    pub fn credentials(&self) -> Result<Vec<CredentialInfo>, CoreError> {
        Ok(self.open()?.vault.credentials())
    }

    /// Stores a new key for `provider`; returns its id. Providers that need a base URL
    /// get it checked against their rules.
    pub fn add_credential(
        &mut self,
        provider: &str,
        label: String,
        secret: SecretString,
        base_url: Option<&str>,
        now: u64,
    ) -> Result<String, CoreError> {
        let found = providers::find(provider)?;
        let base_url = checked_base_url(found, base_url)?;
        // EXPOSE: only to see whether anything but blanks was pasted.
        let trimmed = secret.expose_secret().trim();
        if trimmed.is_empty() {
            return Err(CoreError::InvalidInput("the key is empty".into()));
        }
        let secret = SecretString::from(trimmed.to_string());
        let new = NewCredential {
            provider: found.id.to_string(),
            label,
            secret,
            base_url,
        };
        let WalletSlot::Unlocked(open) = &mut self.slot else {
            return Err(self.open().err().unwrap_or(CoreError::WalletLocked));
        };
        let id = open.vault.add_credential(new, now, &mut *self.rng)?;
        self.persistence.mark(Record::Vault, now, 0);
        Ok(id)
    }

    pub fn rename_credential(
        &mut self,
        id: &str,
        label: String,
        now: u64,
    ) -> Result<(), CoreError> {
        self.open_mut()?.vault.rename_credential(id, label, now)?;
        self.persistence.mark(Record::Vault, now, 0);
        Ok(())
    }

    /// Rotates a stored key; the credential keeps its id, label and base URL.
    pub fn replace_secret(
        &mut self,
        id: &str,
        secret: SecretString,
        now: u64,
    ) -> Result<(), CoreError> {
        // EXPOSE: trimmed once, the copy moves straight into a new secret.
        let secret = SecretString::from(secret.expose_secret().trim().to_string());
        self.open_mut()?.vault.replace_secret(id, secret, now)?;
        self.persistence.mark(Record::Vault, now, 0);
        Ok(())
    }

    /// Changes where a per-credential provider's key is sent (checked like on add).
    pub fn set_base_url(&mut self, id: &str, base_url: &str, now: u64) -> Result<(), CoreError> {
        let vault = &mut self.open_mut()?.vault;
        let provider = providers::find(vault.credential(id)?.provider())?;
        let checked = providers::validate_base_url(provider, base_url)?;
        vault.set_base_url(id, Some(checked), now)?;
        self.persistence.mark(Record::Vault, now, 0);
        Ok(())
    }

    pub fn remove_credential(&mut self, id: &str, now: u64) -> Result<(), CoreError> {
        self.open_mut()?.vault.remove_credential(id)?;
        self.persistence.mark(Record::Vault, now, 0);
        Ok(())
    }

    /// The read-only request that tests a stored key (a models list), with the key set.
    pub fn key_test(&self, id: &str) -> Result<KeyTest, CoreError> {
        let credential = self.open()?.vault.credential(id)?;
        let provider = providers::find(credential.provider())?;
        let plan: UpstreamPlan = plan_key_test(provider, credential.base_url())?;
        let url = plan.url.clone();
        Ok(KeyTest {
            provider,
            url,
            headers: plan.into_headers_with_key(credential.secret()),
        })
    }
}

/// An unlock attempt that has been counted (see [`Wallet::begin_unlock`]).
pub struct UnlockAttempt {
    sealed: Vec<u8>,
    before: crate::vault::UnlockThrottle,
}

/// A guess at the master password, made while unlocked, that has been counted (see
/// [`Wallet::begin_password_check`]).
pub struct PasswordAttempt {
    _counted: (),
}

/// Whether `password` is the master password `key` was derived from: Argon2id with the
/// key's own salt and parameters, then the key checks compared in constant time. It is
/// the proof an unlock makes against the stored header, made against the key in memory,
/// so it also holds before a new vault is first stored and right after a password change.
fn derives(key: &VaultKey, password: &SecretString) -> Result<bool, CoreError> {
    let candidate = derive_vault_key(password, key.params(), key.salt())?;
    Ok(key.check_matches(&candidate.key_check()))
}

/// A key test for the glue to send: one GET, then judge the answer with
/// [`crate::request::judge_key_test`].
pub struct KeyTest {
    pub provider: &'static Provider,
    pub url: String,
    /// The headers, the key last. Zeroise them once handed to `fetch`.
    pub headers: Vec<(String, String)>,
}

/// A base URL checked against the provider's rules; required where the provider needs one.
pub fn checked_base_url(
    provider: &Provider,
    raw: Option<&str>,
) -> Result<Option<String>, CoreError> {
    match raw.map(str::trim).filter(|u| !u.is_empty()) {
        Some(raw) => providers::validate_base_url(provider, raw).map(Some),
        None if provider.needs_base_url() => Err(CoreError::InvalidInput(format!(
            "{} needs a base URL",
            provider.name
        ))),
        None => Ok(None),
    }
}
