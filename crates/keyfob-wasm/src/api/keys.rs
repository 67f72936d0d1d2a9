//! Credential and provider commands. A key enters once (add or replace) and never comes
//! back: listings carry only the masked tail the core computes.

use super::to_js;
use crate::chrome::{self, now_ms};
use crate::error::EngineResult;
use crate::random::BrowserRandom;
use crate::state;
use keyfob_core::request::key_test_path;
use keyfob_core::secret::secret_string;
use keyfob_core::vault::NewCredential;
use keyfob_core::{providers, CoreError};
use serde::Serialize;
use wasm_bindgen::JsValue;

/// Every credential, without secrets, in the order they were added.
pub fn list() -> EngineResult<JsValue> {
    let list = state::with(|e| Ok(e.unlocked_mut()?.vault.credentials()))?;
    to_js(&list)
}

/// `{id}` of the new credential. The base URL is checked against the provider's rules.
pub async fn add(
    provider: String,
    label: String,
    secret: String,
    base_url: Option<String>,
) -> EngineResult<JsValue> {
    let found = providers::find(&provider)?;
    let base_url = match base_url.filter(|u| !u.trim().is_empty()) {
        Some(raw) => Some(providers::validate_base_url(found, &raw)?),
        None if found.needs_base_url() => {
            return Err(CoreError::InvalidInput(format!("{} needs a base URL", found.name)).into())
        }
        None => None,
    };
    if secret.trim().is_empty() {
        return Err(CoreError::InvalidInput("the key is empty".into()).into());
    }
    let new = NewCredential {
        provider,
        label,
        secret: secret_string(secret.trim().to_string()),
        base_url,
    };
    let id = state::with(|e| {
        Ok(e.unlocked_mut()?
            .vault
            .add_credential(new, now_ms(), &mut BrowserRandom)?)
    })?;
    state::save_vault().await?;
    Ok(chrome::object(&[("id", id.into())]))
}

pub async fn rename(id: &str, label: String) -> EngineResult<JsValue> {
    state::with(|e| {
        Ok(e.unlocked_mut()?
            .vault
            .rename_credential(id, label, now_ms())?)
    })?;
    state::save_vault().await?;
    Ok(JsValue::TRUE)
}

/// Rotates the stored key; the credential keeps its id, label and base URL.
pub async fn replace(id: &str, secret: String) -> EngineResult<JsValue> {
    let secret = secret_string(secret.trim().to_string());
    state::with(|e| {
        Ok(e.unlocked_mut()?
            .vault
            .replace_secret(id, secret, now_ms())?)
    })?;
    state::save_vault().await?;
    Ok(JsValue::TRUE)
}

/// Changes where a per-credential provider's key is sent (checked like on add).
pub async fn set_base_url(id: &str, base_url: String) -> EngineResult<JsValue> {
    state::with(|e| {
        let vault = &mut e.unlocked_mut()?.vault;
        let provider = providers::find(vault.credential(id)?.provider())?;
        let checked = providers::validate_base_url(provider, &base_url)?;
        vault.set_base_url(id, Some(checked), now_ms())?;
        Ok(())
    })?;
    state::save_vault().await?;
    Ok(JsValue::TRUE)
}

pub async fn remove(id: &str) -> EngineResult<JsValue> {
    state::with(|e| Ok(e.unlocked_mut()?.vault.remove_credential(id)?))?;
    state::save_vault().await?;
    Ok(JsValue::TRUE)
}

/// `[{id, name, needsBaseUrl, testable, keyPrefixes}]` in display order. The prefixes
/// let the add form suggest a provider after a paste, without sending the key anywhere.
pub fn providers() -> EngineResult<JsValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        #[serde(flatten)]
        info: providers::ProviderInfo,
        testable: bool,
        key_prefixes: &'static [&'static str],
    }
    let rows: Vec<Row> = providers::all()
        .iter()
        .map(|p| Row {
            info: p.info(),
            testable: key_test_path(p).is_some(),
            key_prefixes: providers::key_prefixes(p.id),
        })
        .collect();
    to_js(&rows)
}

/// `{baseUrl}` normalised, or the reason it is refused (for live form feedback).
pub fn check_base_url(provider: &str, base_url: &str) -> EngineResult<JsValue> {
    let found = providers::find(provider)?;
    let checked = providers::validate_base_url(found, base_url)?;
    Ok(chrome::object(&[("baseUrl", checked.into())]))
}
