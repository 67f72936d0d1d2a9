//! Where the wallet's state is kept: named records, each in one of two areas.
//!
//! The core decides *what* is stored (these records, their bytes, which area, which
//! writes belong together); the platform decides *how* (a [`Store`]). keyfob-wasm stores
//! records in `chrome.storage`; native tests use [`MemoryStore`].
//!
//! - **Disk** records survive a browser restart: the sealed vault, grants, budgets, the
//!   unlock throttle, the sealed audit log, and any record set aside because it could
//!   not be read.
//! - **Session** records last until the browser restarts: the derived vault key, the
//!   session-key secret, the last activity and the pending approvals.
//!
//! A [`Batch`] is written all or nothing within an area, and its disk writes go before
//! its session writes: the derived key of a new vault is never kept unless the vault it
//! opens was stored.

use litemap::LiteMap;

/// One named record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Record {
    Vault,
    Grants,
    Budgets,
    Throttle,
    Audit,
    /// A stored record that could not be read, kept for the user instead of overwritten.
    SetAside(Aside),
    VaultKey,
    SessionSecret,
    LastActivity,
    PendingApprovals,
}

/// The records that are set aside when damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Aside {
    Grants,
    Budgets,
    Throttle,
    Audit,
}

/// Which storage area a record lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Disk,
    Session,
}

/// How a record's bytes are kept by a store that holds text values (`chrome.storage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Binary bytes, kept as a base64 string.
    Base64,
    /// UTF-8 JSON text, kept as a string.
    JsonText,
    /// UTF-8 JSON text, kept as the JSON value itself (a number, say).
    JsonValue,
}

impl Record {
    /// Every record the wallet reads when it loads.
    pub const ALL: [Record; 13] = [
        Record::Vault,
        Record::Grants,
        Record::Budgets,
        Record::Throttle,
        Record::Audit,
        Record::SetAside(Aside::Grants),
        Record::SetAside(Aside::Budgets),
        Record::SetAside(Aside::Throttle),
        Record::SetAside(Aside::Audit),
        Record::VaultKey,
        Record::SessionSecret,
        Record::LastActivity,
        Record::PendingApprovals,
    ];

    /// The storage key. Kept stable: existing wallets are read with these names.
    pub fn key(self) -> &'static str {
        match self {
            Record::Vault => "vault",
            Record::Grants => "grants",
            Record::Budgets => "budgets",
            Record::Throttle => "unlockThrottle",
            Record::Audit => "auditLedger",
            Record::SetAside(Aside::Grants) => "grantsUnreadable",
            Record::SetAside(Aside::Budgets) => "budgetsUnreadable",
            Record::SetAside(Aside::Throttle) => "unlockThrottleUnreadable",
            Record::SetAside(Aside::Audit) => "auditLedgerUnreadable",
            Record::VaultKey => "vaultKey",
            Record::SessionSecret => "sessionSecret",
            Record::LastActivity => "lastActivityMs",
            Record::PendingApprovals => "pendingApprovals",
        }
    }

    pub fn area(self) -> Area {
        match self {
            Record::VaultKey
            | Record::SessionSecret
            | Record::LastActivity
            | Record::PendingApprovals => Area::Session,
            _ => Area::Disk,
        }
    }

    pub fn encoding(self) -> Encoding {
        match self {
            Record::Vault
            | Record::Audit
            | Record::VaultKey
            | Record::SessionSecret
            | Record::SetAside(Aside::Audit) => Encoding::Base64,
            Record::LastActivity => Encoding::JsonValue,
            _ => Encoding::JsonText,
        }
    }

    /// The record for a storage key, if it is one of the wallet's.
    pub fn from_key(key: &str) -> Option<Record> {
        Record::ALL.into_iter().find(|r| r.key() == key)
    }
}

/// One write: new bytes for a record, or `None` to remove it.
#[derive(Clone, PartialEq, Eq)]
pub struct Write {
    pub record: Record,
    pub value: Option<Vec<u8>>,
}

impl std::fmt::Debug for Write {
    /// Record names and sizes only: values can be sealed secrets or private history.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{} ({} bytes)", self.record.key(), v.len()),
            None => write!(f, "{} (removed)", self.record.key()),
        }
    }
}

/// Writes that go together, identified so a store that writes later can report back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub id: u64,
    pub writes: Vec<Write>,
}

impl Batch {
    /// The records this batch writes.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        self.writes.iter().map(|w| w.record)
    }
}

/// Why a store could not read or write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("storage is full")]
    QuotaExceeded,
    #[error("storage failed: {0}")]
    Failed(String),
}

/// What [`Store::put`] did with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Stored.
    Done,
    /// Accepted; the outcome arrives later through [`super::Wallet::write_done`].
    Queued,
}

/// Named-record storage, implemented per platform.
pub trait Store {
    /// The stored bytes of `record`, if any.
    fn get(&self, record: Record) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes a batch: all or nothing within an area, disk before session.
    fn put(&mut self, batch: &Batch) -> Result<Written, StoreError>;
}

/// An in-memory store for native tests, with an optional size quota (the sum of key
/// and value lengths, as `chrome.storage.local` counts it) for the disk area.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    records: LiteMap<Record, Vec<u8>>,
    /// Bytes the disk area may hold; `None` for no limit.
    pub disk_quota: Option<usize>,
    /// Bytes held outside the wallet's records (other data filling the quota).
    pub foreign_bytes: usize,
    /// How many batches were written.
    pub writes: usize,
    /// Makes every write fail (a storage API that breaks).
    pub fail_writes: bool,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a record directly (a test that tampers with storage).
    pub fn set(&mut self, record: Record, value: &[u8]) {
        self.records.insert(record, value.to_vec());
    }

    /// The bytes of a record, for assertions.
    pub fn bytes(&self, record: Record) -> Option<&[u8]> {
        self.records.get(&record).map(Vec::as_slice)
    }

    /// Removes a record (session storage cleared by a browser restart, say).
    pub fn remove(&mut self, record: Record) {
        self.records.remove(&record);
    }

    /// Drops every session record, as a browser restart does.
    pub fn restart_browser(&mut self) {
        self.records.retain(|r, _| r.area() == Area::Disk);
    }

    fn disk_bytes(records: &LiteMap<Record, Vec<u8>>) -> usize {
        records
            .iter()
            .filter(|(r, _)| r.area() == Area::Disk)
            .map(|(r, v)| r.key().len() + v.len())
            .sum()
    }
}

impl Store for MemoryStore {
    fn get(&self, record: Record) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.records.get(&record).cloned())
    }

    fn put(&mut self, batch: &Batch) -> Result<Written, StoreError> {
        if self.fail_writes {
            return Err(StoreError::Failed("the test store refuses writes".into()));
        }
        let mut next = self.records.clone();
        for write in &batch.writes {
            match &write.value {
                Some(v) => next.insert(write.record, v.clone()),
                None => next.remove(&write.record),
            };
        }
        if let Some(quota) = self.disk_quota {
            let grows = Self::disk_bytes(&next) > Self::disk_bytes(&self.records);
            if grows && Self::disk_bytes(&next) + self.foreign_bytes > quota {
                return Err(StoreError::QuotaExceeded);
            }
        }
        self.records = next;
        self.writes += 1;
        Ok(Written::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_round_trip() {
        for (i, r) in Record::ALL.iter().enumerate() {
            assert_eq!(Record::from_key(r.key()), Some(*r));
            let dup = Record::ALL[..i]
                .iter()
                .any(|o| o.key() == r.key() && o != r);
            assert!(!dup, "{}", r.key());
        }
        assert_eq!(Record::from_key("nope"), None);
    }

    #[test]
    fn secrets_and_sealed_records_are_binary() {
        for r in [Record::Vault, Record::Audit, Record::VaultKey] {
            assert_eq!(r.encoding(), Encoding::Base64);
        }
        assert_eq!(Record::VaultKey.area(), Area::Session);
        assert_eq!(Record::Budgets.area(), Area::Disk);
    }

    #[test]
    fn a_full_quota_refuses_the_whole_batch() {
        let mut store = MemoryStore {
            disk_quota: Some(40),
            ..MemoryStore::default()
        };
        let batch = |id, record, n| Batch {
            id,
            writes: vec![Write {
                record,
                value: Some(vec![b'x'; n]),
            }],
        };
        assert_eq!(store.put(&batch(1, Record::Budgets, 10)), Ok(Written::Done));
        assert_eq!(
            store.put(&batch(2, Record::Audit, 30)),
            Err(StoreError::QuotaExceeded)
        );
        assert_eq!(store.bytes(Record::Audit), None);
        assert_eq!(store.bytes(Record::Budgets).map(<[u8]>::len), Some(10));
        // Shrinking is always allowed, even over the quota.
        store.foreign_bytes = 100;
        assert_eq!(store.put(&batch(3, Record::Budgets, 5)), Ok(Written::Done));
    }

    #[test]
    fn debug_shows_sizes_not_values() {
        let w = Write {
            record: Record::VaultKey,
            value: Some(b"secret-bytes".to_vec()),
        };
        let shown = format!("{w:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("vaultKey"), "{shown}");
    }
}
