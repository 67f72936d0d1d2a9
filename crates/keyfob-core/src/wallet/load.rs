//! Loading the wallet from its records.
//!
//! A stored record is hostile input (it may be damaged, or edited offline). A damaged
//! record never stops the wallet from opening and never means "allowed" or "free":
//! - **grants** → set aside, no site is connected (each must be approved again);
//! - **budgets** → set aside, rebuilt from the audit log when it opens (spending is
//!   never forgotten);
//! - **throttle** → set aside, and a back-off applies as if the free attempts were used;
//! - **audit log** (sealed) → set aside when it does not open, a new log starts;
//! - **vault** → kept as it is, never overwritten: unlocking reports `VAULT_CORRUPTED`;
//! - session records → dropped (the wallet is locked, sites reconnect).
//!
//! Each set-aside record is reported as a [`super::Problem`].

use litemap::LiteMap;

use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::connect::Approvals;
use super::persist::Persistence;
use super::request::Exchanges;
use super::store::{Aside, Record, Store, StoreError};
use super::{Activity, LedgerSlot, Open, Wallet, WalletSlot};
use crate::autolock::DEFAULT_AUTO_LOCK_MINUTES;
use crate::grants::GrantBook;
use crate::metering::{BudgetBook, LocalClock};
use crate::random::{make_bytes, RandomSource};
use crate::vault::{KdfParams, UnlockThrottle, Vault, VaultKey};

impl Wallet {
    /// Reads every record and builds the wallet. Fails only if the store cannot be read
    /// at all (then nothing may act as if no wallet existed).
    pub fn load(
        store: &dyn Store,
        clock: &LocalClock,
        mut rng: Box<dyn RandomSource>,
    ) -> Result<Wallet, StoreError> {
        let now = clock.now_ms;
        let mut loader = Loader {
            store,
            asides: LiteMap::new(),
            persistence: Persistence::default(),
        };
        let grants: GrantBook = loader.json(Record::Grants)?.or_default();
        let (budgets, budgets_need_rebuild) = match loader.json::<BudgetBook>(Record::Budgets)? {
            Loaded::Damaged => (BudgetBook::default(), true),
            found => (found.or_default(), false),
        };
        let throttle = match loader.json::<UnlockThrottle>(Record::Throttle)? {
            Loaded::Damaged => UnlockThrottle::after_damage(now),
            found => found.or_default(),
        };
        let approvals = match loader.json(Record::PendingApprovals)? {
            Loaded::Found(stored) => Approvals::from_stored(stored),
            _ => Approvals::default(),
        };
        let sealed_vault = store.get(Record::Vault)?;
        let sealed_ledger = store.get(Record::Audit)?;
        let session_secret = match store.get(Record::SessionSecret)? {
            Some(bytes) if bytes.len() == 32 => {
                let mut secret = Zeroizing::new([0u8; 32]);
                secret.copy_from_slice(&bytes);
                secret
            }
            _ => {
                let secret = make_bytes::<32>(&mut *rng)
                    .map(Zeroizing::new)
                    .map_err(|e| StoreError::Failed(e.to_string()))?;
                loader.persistence.mark(Record::SessionSecret, now, 0);
                secret
            }
        };
        let last_ms = store
            .get(Record::LastActivity)?
            .and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse::<f64>().ok())
            .map_or(now, |ms| ms as u64);
        let key = store
            .get(Record::VaultKey)?
            .and_then(|bytes| VaultKey::from_session_bytes(&bytes).ok());
        let had_key = key.is_some();
        let slot = match (sealed_vault, key) {
            (None, _) => WalletSlot::Missing,
            (Some(sealed), Some(key)) if key.opens(&sealed) => match Vault::open(&sealed, &key) {
                Ok(vault) => WalletSlot::Unlocked(Box::new(Open {
                    vault,
                    key,
                    durable: sealed,
                    durable_key: None,
                })),
                Err(_) => WalletSlot::Locked { sealed },
            },
            (Some(sealed), _) => WalletSlot::Locked { sealed },
        };
        let Loader {
            asides,
            mut persistence,
            ..
        } = loader;
        if had_key && !matches!(slot, WalletSlot::Unlocked(_)) {
            persistence.mark(Record::VaultKey, now, 0); // a stale key is removed
        }
        let mut wallet = Wallet {
            activity: Activity {
                last_ms,
                saved_ms: last_ms,
                auto_lock_minutes: match &slot {
                    WalletSlot::Unlocked(open) => open.vault.auto_lock_minutes(),
                    _ => DEFAULT_AUTO_LOCK_MINUTES,
                },
            },
            slot,
            grants,
            budgets,
            budgets_need_rebuild,
            throttle,
            ledger: sealed_ledger.map_or(LedgerSlot::Empty, LedgerSlot::Sealed),
            audit_backlog: Vec::new(),
            session_secret,
            approvals,
            exchanges: Exchanges::default(),
            persistence,
            asides: LiteMap::new(),
            kdf: KdfParams::DEFAULT,
            rng,
        };
        for (aside, bytes) in asides {
            wallet.set_aside(aside, bytes, now);
        }
        if !wallet.tick(clock) && wallet.is_unlocked() {
            wallet.open_ledger(clock);
        }
        Ok(wallet)
    }

    /// Keeps a damaged record under its set-aside name and tells the user.
    pub(crate) fn set_aside(&mut self, aside: Aside, bytes: Vec<u8>, now: u64) {
        let record = Record::SetAside(aside);
        let what = match aside {
            Aside::Grants => {
                "The list of connected sites was damaged: sites must be approved again."
            }
            Aside::Budgets => {
                "Spending totals were damaged: they are rebuilt from the activity log."
            }
            Aside::Throttle => {
                "The unlock attempt counter was damaged: a short wait applies before the next try."
            }
            Aside::Audit => "The activity log could not be opened: a new one was started.",
        };
        self.asides.insert(aside, bytes);
        self.persistence.mark(record, now, 0);
        self.persistence
            .note("STATE_SET_ASIDE", record, what.to_string(), now);
    }
}

/// What a JSON record held.
enum Loaded<T> {
    Absent,
    Found(T),
    /// Present but unreadable (and set aside, unless it is a session record).
    Damaged,
}

impl<T: Default> Loaded<T> {
    fn or_default(self) -> T {
        match self {
            Loaded::Found(value) => value,
            Loaded::Absent | Loaded::Damaged => T::default(),
        }
    }
}

struct Loader<'a> {
    store: &'a dyn Store,
    asides: LiteMap<Aside, Vec<u8>>,
    persistence: Persistence,
}

impl Loader<'_> {
    /// Reads a JSON record. A store that cannot be read at all is the error.
    fn json<T: DeserializeOwned>(&mut self, record: Record) -> Result<Loaded<T>, StoreError> {
        let Some(bytes) = self.store.get(record)? else {
            return Ok(Loaded::Absent);
        };
        if let Ok(value) = serde_json::from_slice(&bytes) {
            return Ok(Loaded::Found(value));
        }
        let aside = match record {
            Record::Grants => Some(Aside::Grants),
            Record::Budgets => Some(Aside::Budgets),
            Record::Throttle => Some(Aside::Throttle),
            _ => None, // session records are simply dropped
        };
        if let Some(aside) = aside {
            self.asides.insert(aside, bytes);
        }
        Ok(Loaded::Damaged)
    }
}
