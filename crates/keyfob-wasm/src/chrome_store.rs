//! The wallet's [`Store`] on `chrome.storage`: the core names the records, their area
//! and encoding; this only moves bytes.
//!
//! - [`Snapshot`]: every record, read in one `get` per area when the worker starts.
//! - [`Outbox`]: what the wallet asks to store, queued; [`write`] stores one batch, its
//!   disk writes in one `set` (chrome applies one call atomically) before its session
//!   writes, and turns a full quota into [`StoreError::QuotaExceeded`].

use std::collections::VecDeque;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use js_sys::{Array, Object, Reflect};
use keyfob_core::wallet::{Area, Batch, Encoding, Record, Store, StoreError, Write, Written};
use litemap::LiteMap;
use wasm_bindgen::JsValue;

use crate::chrome;
use crate::error::EngineResult;

fn area_name(area: Area) -> &'static str {
    match area {
        Area::Disk => "local",
        Area::Session => "session",
    }
}

/// Every stored record, as read when the worker started.
pub struct Snapshot(LiteMap<Record, Vec<u8>>);

impl Snapshot {
    pub async fn read() -> EngineResult<Snapshot> {
        let mut records = LiteMap::new();
        for area in [Area::Disk, Area::Session] {
            let wanted: Vec<Record> = Record::ALL
                .into_iter()
                .filter(|r| r.area() == area)
                .collect();
            let keys: Array = wanted.iter().map(|r| JsValue::from_str(r.key())).collect();
            let found = chrome::call(&["storage", area_name(area)], "get", &[keys.into()]).await?;
            for record in wanted {
                let value = chrome::field(&found, record.key());
                if let Some(bytes) = decode(record, &value) {
                    records.insert(record, bytes);
                }
            }
        }
        Ok(Snapshot(records))
    }
}

impl Store for Snapshot {
    fn get(&self, record: Record) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.get(&record).cloned())
    }

    fn put(&mut self, _batch: &Batch) -> Result<Written, StoreError> {
        Err(StoreError::Failed("a snapshot is read-only".into()))
    }
}

/// A stored value as bytes. A value of the wrong shape is kept as it is (its text), so
/// the core sets it aside instead of losing it.
fn decode(record: Record, value: &JsValue) -> Option<Vec<u8>> {
    if value.is_undefined() || value.is_null() {
        return None;
    }
    let text = value.as_string().or_else(|| {
        js_sys::JSON::stringify(value)
            .ok()
            .and_then(|s| s.as_string())
    })?;
    match record.encoding() {
        Encoding::Base64 => Some(
            B64.decode(text.as_bytes())
                .unwrap_or_else(|_| text.into_bytes()),
        ),
        Encoding::JsonText => Some(text.into_bytes()),
        Encoding::JsonValue => match value.as_string() {
            Some(s) => Some(s.into_bytes()),
            None => Some(text.into_bytes()),
        },
    }
}

fn encode(record: Record, bytes: &[u8]) -> JsValue {
    match record.encoding() {
        Encoding::Base64 => JsValue::from_str(&B64.encode(bytes)),
        Encoding::JsonText => JsValue::from_str(&String::from_utf8_lossy(bytes)),
        Encoding::JsonValue => js_sys::JSON::parse(&String::from_utf8_lossy(bytes))
            .unwrap_or_else(|_| JsValue::from_str(&String::from_utf8_lossy(bytes))),
    }
}

/// Batches the wallet asked to store, in order.
#[derive(Default)]
pub struct Outbox(VecDeque<Batch>);

impl Outbox {
    pub fn next(&mut self) -> Option<Batch> {
        self.0.pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Store for Outbox {
    fn get(&self, _record: Record) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(None)
    }

    fn put(&mut self, batch: &Batch) -> Result<Written, StoreError> {
        self.0.push_back(batch.clone());
        Ok(Written::Queued)
    }
}

/// Stores one batch: disk writes first, then session writes.
pub async fn write(batch: &Batch) -> Result<(), StoreError> {
    for area in [Area::Disk, Area::Session] {
        let writes: Vec<&Write> = batch
            .writes
            .iter()
            .filter(|w| w.record.area() == area)
            .collect();
        let set = Object::new();
        let removed = Array::new();
        for w in &writes {
            match &w.value {
                Some(bytes) => {
                    let _ = Reflect::set(&set, &w.record.key().into(), &encode(w.record, bytes));
                }
                None => {
                    removed.push(&w.record.key().into());
                }
            }
        }
        let path = ["storage", area_name(area)];
        if Object::keys(&set).length() > 0 {
            chrome::call(&path, "set", &[set.into()])
                .await
                .map_err(store_error)?;
        }
        if removed.length() > 0 {
            chrome::call(&path, "remove", &[removed.into()])
                .await
                .map_err(store_error)?;
        }
    }
    Ok(())
}

fn store_error(error: JsValue) -> StoreError {
    let message = chrome::string_field(&error, "message")
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into());
    if message.contains("QUOTA_BYTES") || message.to_ascii_lowercase().contains("quota") {
        StoreError::QuotaExceeded
    } else {
        StoreError::Failed(message)
    }
}
