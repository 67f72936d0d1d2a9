//! The command API for the extension's own pages (popup, approval window), reached
//! through `chrome.runtime.sendMessage`. Only senders whose URL is inside this
//! extension are served: content scripts and web pages are refused.

use crate::approvals;
use crate::chrome::{self, now_ms};
use crate::control;
use crate::error::{EngineError, EngineResult};
use crate::random::BrowserRandom;
use crate::state::{self, Unlocked};
use crate::storage::{self, Area};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use keyfob_core::secret::secret_string;
use keyfob_core::vault::{KdfParams, NewCredential, Vault};
use keyfob_core::{providers, CoreError};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

/// A command from an extension page. No `Debug`: some variants carry passwords or keys.
#[derive(Deserialize)]
#[serde(tag = "cmd", rename_all_fields = "camelCase")]
enum Command {
    #[serde(rename = "vault.status")]
    Status,
    #[serde(rename = "vault.create")]
    Create { password: String },
    #[serde(rename = "vault.unlock")]
    Unlock { password: String },
    #[serde(rename = "vault.lock")]
    Lock,
    #[serde(rename = "vault.changePassword")]
    ChangePassword {
        old_password: String,
        new_password: String,
    },
    #[serde(rename = "settings.setAutoLock")]
    SetAutoLock { minutes: u32 },
    #[serde(rename = "credentials.list")]
    ListCredentials,
    #[serde(rename = "credentials.add")]
    AddCredential {
        provider: String,
        label: String,
        secret: String,
        base_url: Option<String>,
    },
    #[serde(rename = "credentials.rename")]
    RenameCredential { id: String, label: String },
    #[serde(rename = "credentials.replace")]
    ReplaceCredential { id: String, secret: String },
    #[serde(rename = "credentials.remove")]
    RemoveCredential { id: String },
    #[serde(rename = "backup.export")]
    ExportBackup { password: String },
    #[serde(rename = "backup.import")]
    ImportBackup { data: String, password: String },
    #[serde(rename = "providers.list")]
    ListProviders,
    #[serde(rename = "grants.list")]
    ListGrants,
    #[serde(rename = "grants.revoke")]
    RevokeGrant { origin: String },
    #[serde(rename = "grants.setProviders")]
    SetGrantProviders {
        origin: String,
        providers: Vec<String>,
    },
    #[serde(rename = "approvals.get")]
    GetApproval { id: String },
    #[serde(rename = "approvals.decide")]
    DecideApproval {
        id: String,
        approve: bool,
        providers: Vec<String>,
        expires_in_ms: Option<u64>,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    state: &'static str,
    auto_lock_minutes: u32,
    failed_attempts: u32,
    retry_after_ms: u64,
    pending_approvals: usize,
}

/// Handles one message; always answers `{ok:true, value}` or `{ok:false, error}`.
pub async fn handle(message: JsValue, sender: JsValue) -> JsValue {
    match serve(message, sender).await {
        Ok(value) => chrome::object(&[("ok", JsValue::TRUE), ("value", value)]),
        Err(error) => chrome::object(&[("ok", JsValue::FALSE), ("error", error.to_js())]),
    }
}

async fn serve(message: JsValue, sender: JsValue) -> EngineResult<JsValue> {
    let own = chrome::extension_origin()?;
    let sender_url = chrome::string_field(&sender, "url").unwrap_or_default();
    if !sender_url.starts_with(&format!("{own}/")) {
        return Err(CoreError::OriginNotApproved.into());
    }
    let command: Command = serde_wasm_bindgen::from_value(message)?;
    state::ready().await?;
    state::enforce_auto_lock().await?;
    let value = run(command).await?;
    if state::with(|e| Ok(e.unlocked.is_some()))? {
        state::touch().await?;
    }
    Ok(value)
}

fn to_js<T: Serialize>(value: &T) -> EngineResult<JsValue> {
    Ok(value.serialize(&serde_wasm_bindgen::Serializer::json_compatible())?)
}

async fn run(command: Command) -> EngineResult<JsValue> {
    match command {
        Command::Status => status().await,
        Command::Create { password } => {
            if state::with(|e| Ok(e.vault_exists))? {
                return Err(CoreError::VaultExists.into());
            }
            let password = secret_string(password);
            let (vault, key, sealed) =
                Vault::create(&password, &KdfParams::DEFAULT, &mut BrowserRandom)?;
            storage::set(Area::Local, &[(storage::VAULT, B64.encode(&sealed).into())]).await?;
            finish_unlock(vault, key).await?;
            status().await
        }
        Command::Unlock { password } => {
            unlock(password).await?;
            status().await
        }
        Command::Lock => {
            state::lock().await?;
            status().await
        }
        Command::ChangePassword {
            old_password,
            new_password,
        } => {
            let sealed = state::read_sealed().await?;
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
            status().await
        }
        Command::SetAutoLock { minutes } => {
            state::with(|e| {
                e.unlocked_mut()?.vault.set_auto_lock_minutes(minutes)?;
                e.auto_lock_minutes = minutes;
                Ok(())
            })?;
            state::save_vault().await?;
            status().await
        }
        Command::ListCredentials => {
            let list = state::with(|e| Ok(e.unlocked_mut()?.vault.credentials()))?;
            to_js(&list)
        }
        Command::AddCredential {
            provider,
            label,
            secret,
            base_url,
        } => {
            let found = providers::find(&provider)?;
            let base_url = match base_url.filter(|u| !u.trim().is_empty()) {
                Some(raw) => Some(providers::validate_base_url(found, &raw)?),
                None if found.needs_base_url() => {
                    return Err(
                        CoreError::InvalidInput(format!("{} needs a base URL", found.name)).into(),
                    )
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
        Command::RenameCredential { id, label } => {
            state::with(|e| {
                Ok(e.unlocked_mut()?
                    .vault
                    .rename_credential(&id, label, now_ms())?)
            })?;
            state::save_vault().await?;
            Ok(JsValue::TRUE)
        }
        Command::ReplaceCredential { id, secret } => {
            let secret = secret_string(secret.trim().to_string());
            state::with(|e| {
                Ok(e.unlocked_mut()?
                    .vault
                    .replace_secret(&id, secret, now_ms())?)
            })?;
            state::save_vault().await?;
            Ok(JsValue::TRUE)
        }
        Command::RemoveCredential { id } => {
            state::with(|e| Ok(e.unlocked_mut()?.vault.remove_credential(&id)?))?;
            state::save_vault().await?;
            Ok(JsValue::TRUE)
        }
        Command::ExportBackup { password } => {
            let blob = state::with(|e| {
                Ok(e.unlocked_mut()?.vault.export_backup(
                    &secret_string(password),
                    &KdfParams::DEFAULT,
                    &mut BrowserRandom,
                )?)
            })?;
            Ok(chrome::object(&[("data", B64.encode(blob).into())]))
        }
        Command::ImportBackup { data, password } => {
            let blob = B64
                .decode(data.trim().as_bytes())
                .map_err(|_| CoreError::BackupInvalid)?;
            let count = state::with(|e| {
                Ok(e.unlocked_mut()?.vault.import_backup(
                    &blob,
                    &secret_string(password),
                    now_ms(),
                )?)
            })?;
            state::save_vault().await?;
            Ok(chrome::object(&[(
                "imported",
                JsValue::from_f64(count as f64),
            )]))
        }
        Command::ListProviders => {
            let list: Vec<_> = providers::all().iter().map(|p| p.info()).collect();
            to_js(&list)
        }
        Command::ListGrants => {
            let list =
                state::with(|e| Ok(e.grants.list().into_iter().cloned().collect::<Vec<_>>()))?;
            to_js(&list)
        }
        Command::RevokeGrant { origin } => {
            let removed = state::with(|e| Ok(e.grants.revoke(&origin)))?;
            state::save_grants().await?;
            if removed {
                control::notify_origin(&origin, "disconnect", JsValue::NULL);
            }
            Ok(JsValue::from_bool(removed))
        }
        Command::SetGrantProviders { origin, providers } => {
            state::with(|e| Ok(e.grants.set_providers(&origin, providers)?))?;
            state::save_grants().await?;
            let update = control::providers_status(&origin)?;
            control::notify_origin(&origin, "providersUpdated", update);
            Ok(JsValue::TRUE)
        }
        Command::GetApproval { id } => approvals::describe(&id).await,
        Command::DecideApproval {
            id,
            approve,
            providers,
            expires_in_ms,
        } => {
            approvals::decide(&id, approve, providers, expires_in_ms).await?;
            Ok(JsValue::TRUE)
        }
    }
}

async fn status() -> EngineResult<JsValue> {
    let pending = approvals::pending_count().await?;
    let now = now_ms();
    let status = state::with(|e| {
        let state = match (e.vault_exists, e.unlocked.is_some()) {
            (false, _) => "missing",
            (true, false) => "locked",
            (true, true) => "unlocked",
        };
        let retry_after_ms = match e.throttle.check(now) {
            Err(CoreError::UnlockBackoff { retry_after_ms }) => retry_after_ms,
            _ => 0,
        };
        Ok(Status {
            state,
            auto_lock_minutes: e.auto_lock_minutes,
            failed_attempts: e.throttle.failures(),
            retry_after_ms,
            pending_approvals: pending,
        })
    })?;
    to_js(&status)
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

async fn save_throttle() -> EngineResult<()> {
    let encoded = state::with(|e| storage::encode_json(&e.throttle))?;
    storage::set(Area::Local, &[(storage::THROTTLE, encoded)]).await
}

/// Keeps the derived key (never the password) in session storage, then in memory.
async fn finish_unlock(vault: Vault, key: keyfob_core::vault::VaultKey) -> EngineResult<()> {
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
