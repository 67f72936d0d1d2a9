//! The `chrome.storage` adapter: where each piece of state lives.
//!
//! - `local` (survives restarts): the sealed vault (base64), grants and the unlock
//!   throttle (JSON). Nothing in it is a plaintext secret.
//! - `session` (memory only, cleared when the browser restarts or the extension reloads):
//!   the derived vault key, the session-key secret, pending approvals, last activity.
//!
//! Both areas are restricted to trusted contexts (not content scripts) by background.js.

use crate::chrome;
use crate::error::EngineResult;
use js_sys::Array;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

#[derive(Clone, Copy)]
pub enum Area {
    Local,
    Session,
}

impl Area {
    fn name(self) -> &'static str {
        match self {
            Area::Local => "local",
            Area::Session => "session",
        }
    }
}

pub const VAULT: &str = "vault";
pub const GRANTS: &str = "grants";
pub const THROTTLE: &str = "unlockThrottle";
pub const BUDGETS: &str = "budgets";
pub const AUDIT: &str = "auditLedger";
pub const AUDIT_UNREADABLE: &str = "auditLedgerUnreadable";
pub const VAULT_KEY: &str = "vaultKey";
pub const SESSION_SECRET: &str = "sessionSecret";
pub const LAST_ACTIVITY: &str = "lastActivityMs";
pub const PENDING: &str = "pendingApprovals";

/// Reads several keys at once (one storage round trip); missing keys are `undefined`.
pub async fn get_many(area: Area, keys: &[&str]) -> EngineResult<Vec<JsValue>> {
    let list: Array = keys.iter().map(|k| JsValue::from_str(k)).collect();
    let found = chrome::call(&["storage", area.name()], "get", &[list.into()]).await?;
    Ok(keys.iter().map(|k| chrome::field(&found, k)).collect())
}

pub async fn get(area: Area, key: &str) -> EngineResult<JsValue> {
    Ok(get_many(area, &[key])
        .await?
        .pop()
        .unwrap_or(JsValue::UNDEFINED))
}

/// Writes all pairs in one `set` call: chrome applies one call atomically.
pub async fn set(area: Area, pairs: &[(&str, JsValue)]) -> EngineResult<()> {
    chrome::call(&["storage", area.name()], "set", &[chrome::object(pairs)]).await?;
    Ok(())
}

pub async fn remove(area: Area, keys: &[&str]) -> EngineResult<()> {
    let list: Array = keys.iter().map(|k| JsValue::from_str(k)).collect();
    chrome::call(&["storage", area.name()], "remove", &[list.into()]).await?;
    Ok(())
}

/// Decodes a JSON string value; a missing value is `None`, a damaged one an error.
pub fn decode_json<T: DeserializeOwned>(value: &JsValue) -> EngineResult<Option<T>> {
    match value.as_string() {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            keyfob_core::CoreError::Internal(format!("stored state unreadable: {e}")).into()
        }),
    }
}

pub fn encode_json<T: Serialize>(value: &T) -> EngineResult<JsValue> {
    serde_json::to_string(value)
        .map(|s| JsValue::from_str(&s))
        .map_err(|e| keyfob_core::CoreError::Internal(e.to_string()).into())
}
