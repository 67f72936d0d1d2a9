//! The command API for the extension's own pages (popup, approval window), reached
//! through `chrome.runtime.sendMessage`. Only senders whose URL is inside this
//! extension are served: content scripts and web pages are refused.
//!
//! Every reply is `{ok: true, value}` or `{ok: false, error: {code, message}}`. No reply
//! ever carries a stored key: credentials leave as [`keyfob_core::vault::CredentialInfo`]
//! (the key masked to its last four characters), and a key test returns only a verdict.
//!
//! - `vault` — status, create, unlock, lock, password change and strength, settings, backup;
//! - `keys` — credentials and providers, including the key test (`keytest`);
//! - `sites` — grants (connected sites) and pending approvals;
//! - `usage` — metering: grant policies, usage per site, the audit log.

mod keys;
mod keytest;
mod sites;
mod usage;
mod vault;

use crate::chrome;
use crate::error::EngineResult;
use crate::state;
use keyfob_core::metering::{AuditFilter, GrantPolicy};
use keyfob_core::CoreError;
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
    #[serde(rename = "password.strength")]
    PasswordStrength { password: String },
    #[serde(rename = "settings.setAutoLock")]
    SetAutoLock { minutes: u32 },
    #[serde(rename = "backup.export")]
    ExportBackup { password: String },
    #[serde(rename = "backup.import")]
    ImportBackup { data: String, password: String },
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
    #[serde(rename = "credentials.setBaseUrl")]
    SetBaseUrl { id: String, base_url: String },
    #[serde(rename = "credentials.remove")]
    RemoveCredential { id: String },
    #[serde(rename = "credentials.test")]
    TestCredential { id: String },
    #[serde(rename = "providers.list")]
    ListProviders,
    #[serde(rename = "providers.checkBaseUrl")]
    CheckBaseUrl { provider: String, base_url: String },
    #[serde(rename = "grants.list")]
    ListGrants,
    #[serde(rename = "grants.revoke")]
    RevokeGrant { origin: String },
    #[serde(rename = "grants.setProviders")]
    SetGrantProviders {
        origin: String,
        providers: Vec<String>,
    },
    #[serde(rename = "grants.setPolicy")]
    SetGrantPolicy { origin: String, policy: GrantPolicy },
    #[serde(rename = "usage.get")]
    Usage {
        origin: Option<String>,
        days: Option<u32>,
    },
    #[serde(rename = "audit.list")]
    ListAudit {
        #[serde(default)]
        filter: AuditFilter,
        limit: Option<usize>,
    },
    #[serde(rename = "audit.export")]
    ExportAudit {
        #[serde(default)]
        filter: AuditFilter,
        format: String,
    },
    #[serde(rename = "requestApprovals.get")]
    GetRequestApproval { id: String },
    #[serde(rename = "requestApprovals.decide")]
    DecideRequestApproval { id: String, approve: bool },
    #[serde(rename = "approvals.list")]
    ListApprovals,
    #[serde(rename = "approvals.get")]
    GetApproval { id: String },
    #[serde(rename = "approvals.focus")]
    FocusApproval { id: String },
    #[serde(rename = "approvals.decide")]
    DecideApproval {
        id: String,
        approve: bool,
        providers: Vec<String>,
        expires_in_ms: Option<u64>,
    },
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
    let command: Command = crate::json::from_js(&message)?;
    state::ready().await?;
    state::enforce_auto_lock().await?;
    let counts_as_activity = !matches!(
        command,
        Command::Status | Command::PasswordStrength { .. } | Command::ListApprovals
    );
    let value = run(command).await?;
    if counts_as_activity && state::with(|e| Ok(e.unlocked.is_some()))? {
        state::touch().await?;
    }
    Ok(value)
}

/// Serialises a reply value as plain JSON-compatible JS (maps become objects).
fn to_js<T: Serialize>(value: &T) -> EngineResult<JsValue> {
    crate::json::to_js(value)
}

async fn run(command: Command) -> EngineResult<JsValue> {
    use Command as C;
    match command {
        C::Status => vault::status().await,
        C::Create { password } => vault::create(password).await,
        C::Unlock { password } => {
            vault::unlock(password).await?;
            vault::status().await
        }
        C::Lock => {
            state::lock().await?;
            vault::status().await
        }
        C::ChangePassword {
            old_password,
            new_password,
        } => vault::change_password(old_password, new_password).await,
        C::PasswordStrength { password } => vault::strength(password),
        C::SetAutoLock { minutes } => vault::set_auto_lock(minutes).await,
        C::ExportBackup { password } => vault::export_backup(password),
        C::ImportBackup { data, password } => vault::import_backup(data, password).await,
        C::ListCredentials => keys::list(),
        C::AddCredential {
            provider,
            label,
            secret,
            base_url,
        } => keys::add(provider, label, secret, base_url).await,
        C::RenameCredential { id, label } => keys::rename(&id, label).await,
        C::ReplaceCredential { id, secret } => keys::replace(&id, secret).await,
        C::SetBaseUrl { id, base_url } => keys::set_base_url(&id, base_url).await,
        C::RemoveCredential { id } => keys::remove(&id).await,
        C::TestCredential { id } => keytest::test_credential(&id).await,
        C::ListProviders => keys::providers(),
        C::CheckBaseUrl { provider, base_url } => keys::check_base_url(&provider, &base_url),
        C::ListGrants => sites::list_grants(),
        C::RevokeGrant { origin } => sites::revoke(&origin).await,
        C::SetGrantProviders { origin, providers } => {
            sites::set_providers(&origin, providers).await
        }
        C::SetGrantPolicy { origin, policy } => usage::set_policy(&origin, policy).await,
        C::Usage { origin, days } => usage::usage(origin.as_deref(), days.unwrap_or(30)),
        C::ListAudit { filter, limit } => usage::list_audit(&filter, limit.unwrap_or(200)),
        C::ExportAudit { filter, format } => usage::export_audit(&filter, &format),
        C::GetRequestApproval { id } => crate::request_approvals::describe(&id),
        C::DecideRequestApproval { id, approve } => {
            crate::request_approvals::decide(&id, approve);
            Ok(JsValue::TRUE)
        }
        C::ListApprovals => sites::list_approvals().await,
        C::GetApproval { id } => crate::approvals::describe(&id).await,
        C::FocusApproval { id } => {
            crate::approvals::focus(&id).await?;
            Ok(JsValue::TRUE)
        }
        C::DecideApproval {
            id,
            approve,
            providers,
            expires_in_ms,
        } => {
            crate::approvals::decide(&id, approve, providers, expires_in_ms).await?;
            Ok(JsValue::TRUE)
        }
    }
}
