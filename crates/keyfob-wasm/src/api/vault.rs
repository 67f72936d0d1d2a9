//! Vault commands: status, create, unlock, password change and strength, auto-lock,
//! encrypted backup. The master password is used and dropped; only the derived key is
//! kept (in session storage), and writes happen in one storage call before memory
//! switches to the new state.

use super::to_js;
use crate::approvals;
use crate::chrome::{self, now_ms};
use crate::error::{EngineError, EngineResult};
use crate::random::BrowserRandom;
use crate::state::{self, Unlocked};
use crate::storage::{self, Area};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use keyfob_core::secret::secret_string;
use keyfob_core::vault::{estimate_password_strength, KdfParams, Vault, VaultKey};
use keyfob_core::CoreError;
use serde::Serialize;
use wasm_bindgen::JsValue;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    state: &'static str,
    auto_lock_minutes: u32,
    failed_attempts: u32,
    /// Wrong passwords still allowed before the back-off starts.
    free_attempts_left: u32,
    retry_after_ms: u64,
    pending_approvals: usize,
}

/// `{state: missing|locked|unlocked, autoLockMinutes, failedAttempts, freeAttemptsLeft,
/// retryAfterMs, pendingApprovals}`.
pub async fn status() -> EngineResult<JsValue> {
    let pending = approvals::pending_count().await?;
    let now = now_ms();
    let status = state::with(|e| {
        let state = e.wallet_state();
        let retry_after_ms = match e.throttle.check(now) {
            Err(CoreError::UnlockBackoff { retry_after_ms }) => retry_after_ms,
            _ => 0,
        };
        Ok(Status {
            state,
            auto_lock_minutes: e.auto_lock_minutes,
            failed_attempts: e.throttle.failures(),
            free_attempts_left: e.throttle.free_attempts_left(),
            retry_after_ms,
            pending_approvals: pending,
        })
    })?;
    to_js(&status)
}

pub async fn create(password: String) -> EngineResult<JsValue> {
    if state::with(|e| Ok(e.vault_exists))? {
        return Err(CoreError::VaultExists.into());
    }
    let password = secret_string(password);
    let (vault, key, sealed) = Vault::create(&password, &KdfParams::DEFAULT, &mut BrowserRandom)?;
    storage::set(Area::Local, &[(storage::VAULT, B64.encode(&sealed).into())]).await?;
    finish_unlock(vault, key).await?;
    status().await
}

/// Checks the back-off, derives the key, and persists the failure count either way.
pub async fn unlock(password: String) -> EngineResult<()> {
    let now = now_ms();
    state::with(|e| Ok(e.throttle.check(now)?))?;
    let sealed = state::read_sealed().await?;
    match Vault::unlock(&sealed, &secret_string(password)) {
        Ok((vault, key)) => {
            state::with(|e| {
                e.throttle.reset();
                Ok(())
            })?;
            save_throttle().await?;
            finish_unlock(vault, key).await
        }
        Err(CoreError::WrongPassword) => {
            state::with(|e| {
                e.throttle.record_failure(now);
                Ok(())
            })?;
            save_throttle().await?;
            Err(CoreError::WrongPassword.into())
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn change_password(old_password: String, new_password: String) -> EngineResult<JsValue> {
    let sealed = state::read_sealed().await?;
    // The audit ledger is sealed under the current key: open it before the key changes.
    state::with(|e| e.ledger().map(|_| ()))?;
    let (key, new_sealed) = state::with(|e| {
        let u = e.unlocked_mut()?;
        Ok(u.vault.change_password(
            &sealed,
            &secret_string(old_password),
            &secret_string(new_password),
            &KdfParams::DEFAULT,
            &mut BrowserRandom,
        )?)
    })?;
    // One write holds the complete new vault; only then does memory switch to it.
    storage::set(
        Area::Local,
        &[(storage::VAULT, B64.encode(&new_sealed).into())],
    )
    .await?;
    let vault = Vault::open(&new_sealed, &key)?;
    finish_unlock(vault, key).await?;
    state::save_metering().await?;
    status().await
}

/// The meter's reading for a candidate password (works in every wallet state).
pub fn strength(password: String) -> EngineResult<JsValue> {
    to_js(&estimate_password_strength(&secret_string(password)))
}

pub async fn set_auto_lock(minutes: u32) -> EngineResult<JsValue> {
    state::with(|e| {
        e.unlocked_mut()?.vault.set_auto_lock_minutes(minutes)?;
        e.auto_lock_minutes = minutes;
        Ok(())
    })?;
    state::save_vault().await?;
    status().await
}

/// `{data}`: the backup, sealed under its own password, as base64.
pub fn export_backup(password: String) -> EngineResult<JsValue> {
    let blob = state::with(|e| {
        Ok(e.unlocked_mut()?.vault.export_backup(
            &secret_string(password),
            &KdfParams::DEFAULT,
            &mut BrowserRandom,
        )?)
    })?;
    Ok(chrome::object(&[("data", B64.encode(blob).into())]))
}

/// `{imported}`: how many credentials the backup added or restored.
pub async fn import_backup(data: String, password: String) -> EngineResult<JsValue> {
    let blob = B64
        .decode(data.trim().as_bytes())
        .map_err(|_| CoreError::BackupInvalid)?;
    let count = state::with(|e| {
        Ok(e.unlocked_mut()?
            .vault
            .import_backup(&blob, &secret_string(password), now_ms())?)
    })?;
    state::save_vault().await?;
    Ok(chrome::object(&[(
        "imported",
        JsValue::from_f64(count as f64),
    )]))
}

async fn save_throttle() -> EngineResult<()> {
    let encoded = state::with(|e| storage::encode_json(&e.throttle))?;
    storage::set(Area::Local, &[(storage::THROTTLE, encoded)]).await
}

/// Keeps the derived key (never the password) in session storage, then in memory.
async fn finish_unlock(vault: Vault, key: VaultKey) -> EngineResult<()> {
    let key_b64 = B64.encode(key.to_session_bytes().as_slice());
    let now = now_ms();
    storage::set(
        Area::Session,
        &[
            (storage::VAULT_KEY, key_b64.into()),
            (storage::LAST_ACTIVITY, JsValue::from_f64(now as f64)),
        ],
    )
    .await?;
    state::with(|e| {
        e.auto_lock_minutes = vault.auto_lock_minutes();
        e.vault_exists = true;
        e.last_activity_ms = now;
        e.unlocked = Some(Unlocked { vault, key });
        Ok(())
    })?;
    approvals::refresh_badge().await;
    Ok::<(), EngineError>(())
}
