//! The command API for the extension's own pages (popup, approval windows), reached
//! through `chrome.runtime.sendMessage`. Only senders whose URL is inside this
//! extension are served: content scripts and web pages are refused.
//!
//! Every reply is `{ok: true, value}` or `{ok: false, error: {code, message}}`. Each
//! command is one call on the wallet; commands that change what is stored answer only
//! once it is stored. No reply carries a stored key: credentials leave masked, and a key
//! test returns only a verdict.

mod keytest;

use keyfob_core::metering::{AuditFilter, GrantPolicy, PolicyForm};
use keyfob_core::providers;
use keyfob_core::secret::SecretString;
use keyfob_core::vault::estimate_password_strength;
use keyfob_core::wallet::connect::Decision;
use keyfob_core::wallet::vault_ops::checked_base_url;
use keyfob_core::wallet::Record;
use keyfob_core::CoreError;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use crate::chrome::{self, clock, now_ms};
use crate::control;
use crate::engine::{self, with};
use crate::error::EngineResult;
use crate::json::to_js;
use crate::{waiters, windows};

/// A command from an extension page. No `Debug`: some variants carry passwords or keys.
#[derive(Deserialize)]
#[serde(tag = "cmd", rename_all_fields = "camelCase")]
enum Command {
    #[serde(rename = "vault.status")]
    Status,
    #[serde(rename = "vault.create")]
    Create { password: SecretString },
    #[serde(rename = "vault.unlock")]
    Unlock { password: SecretString },
    #[serde(rename = "vault.lock")]
    Lock,
    #[serde(rename = "vault.changePassword")]
    ChangePassword {
        old_password: SecretString,
        new_password: SecretString,
    },
    #[serde(rename = "password.strength")]
    PasswordStrength { password: SecretString },
    #[serde(rename = "settings.setAutoLock")]
    SetAutoLock { minutes: u32 },
    #[serde(rename = "problems.dismiss")]
    DismissProblem { record: String },
    #[serde(rename = "backup.export")]
    ExportBackup { password: SecretString },
    #[serde(rename = "backup.import")]
    ImportBackup {
        data: String,
        password: SecretString,
    },
    #[serde(rename = "credentials.list")]
    ListCredentials,
    #[serde(rename = "credentials.add")]
    AddCredential {
        provider: String,
        label: String,
        secret: SecretString,
        base_url: Option<String>,
    },
    #[serde(rename = "credentials.rename")]
    RenameCredential { id: String, label: String },
    #[serde(rename = "credentials.replace")]
    ReplaceCredential { id: String, secret: SecretString },
    #[serde(rename = "credentials.setBaseUrl")]
    SetBaseUrl { id: String, base_url: String },
    #[serde(rename = "credentials.remove")]
    RemoveCredential { id: String },
    #[serde(rename = "credentials.test")]
    TestCredential { id: String },
    #[serde(rename = "providers.list")]
    ListProviders,
    #[serde(rename = "providers.guess")]
    GuessProvider {
        key_start: zeroize::Zeroizing<String>,
    },
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
    #[serde(rename = "policy.parse")]
    ParsePolicy { form: PolicyForm },
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
        #[serde(flatten)]
        decision: Decision,
    },
}

impl Command {
    /// Commands that are not the user using the wallet (they do not delay auto-lock).
    fn is_passive(&self) -> bool {
        matches!(
            self,
            Command::Status
                | Command::PasswordStrength { .. }
                | Command::ListApprovals
                | Command::GuessProvider { .. }
                | Command::ParsePolicy { .. }
        )
    }
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
    engine::ready().await?;
    let active = !command.is_passive();
    with(|w| {
        w.tick(&clock());
        Ok(())
    })?;
    let value = run(command).await?;
    if active {
        with(|w| {
            if w.is_unlocked() {
                w.touch(now_ms());
            }
            Ok(())
        })?;
    }
    Ok(value)
}

fn status() -> EngineResult<JsValue> {
    to_js(&with(|w| Ok(w.status(now_ms())))?)
}

async fn run(command: Command) -> EngineResult<JsValue> {
    use Command as C;
    let now = now_ms();
    match command {
        C::Status => status(),
        C::Create { password } => {
            with(|w| w.create(&password, &clock()))?;
            engine::stored(Record::Vault).await?;
            status()
        }
        C::Unlock { password } => {
            // The attempt is counted and stored before the key is derived.
            if let Some(attempt) = with(|w| w.begin_unlock(&clock()))? {
                engine::stored(Record::Throttle).await?;
                with(|w| w.finish_unlock(attempt, &password, &clock()))?;
            }
            control::refresh_badge();
            status()
        }
        C::Lock => {
            with(|w| {
                w.lock(now);
                Ok(())
            })?;
            status()
        }
        C::ChangePassword {
            old_password,
            new_password,
        } => {
            with(|w| w.change_password(&old_password, &new_password, now))?;
            engine::stored(Record::Vault).await?;
            status()
        }
        C::PasswordStrength { password } => to_js(&estimate_password_strength(&password)),
        C::SetAutoLock { minutes } => {
            with(|w| w.set_auto_lock(minutes, now))?;
            engine::stored(Record::Vault).await?;
            status()
        }
        C::DismissProblem { record } => Ok(with(|w| Ok(w.dismiss_problem(&record)))?.into()),
        C::ExportBackup { password } => {
            let blob = with(|w| w.export_backup(&password))?;
            Ok(chrome::object(&[("data", base64(&blob).into())]))
        }
        C::ImportBackup { data, password } => {
            let blob = unbase64(&data).ok_or(CoreError::BackupInvalid)?;
            let count = with(|w| w.import_backup(&blob, &password, now))?;
            engine::stored(Record::Vault).await?;
            Ok(chrome::object(&[(
                "imported",
                JsValue::from_f64(count as f64),
            )]))
        }
        C::ListCredentials => to_js(&with(|w| w.credentials())?),
        C::AddCredential {
            provider,
            label,
            secret,
            base_url,
        } => {
            let id =
                with(|w| w.add_credential(&provider, label, secret, base_url.as_deref(), now))?;
            engine::stored(Record::Vault).await?;
            Ok(chrome::object(&[("id", id.into())]))
        }
        C::RenameCredential { id, label } => {
            with(|w| w.rename_credential(&id, label, now))?;
            vault_stored().await
        }
        C::ReplaceCredential { id, secret } => {
            with(|w| w.replace_secret(&id, secret, now))?;
            vault_stored().await
        }
        C::SetBaseUrl { id, base_url } => {
            with(|w| w.set_base_url(&id, &base_url, now))?;
            vault_stored().await
        }
        C::RemoveCredential { id } => {
            with(|w| w.remove_credential(&id, now))?;
            vault_stored().await
        }
        C::TestCredential { id } => keytest::test_credential(&id).await,
        C::ListProviders => list_providers(),
        C::GuessProvider { key_start } => {
            let guess = providers::guess_provider(key_start.trim());
            Ok(guess.map_or(JsValue::NULL, JsValue::from))
        }
        C::CheckBaseUrl { provider, base_url } => {
            let found = providers::find(&provider)?;
            let checked = checked_base_url(found, Some(&base_url))?.unwrap_or_default();
            Ok(chrome::object(&[("baseUrl", checked.into())]))
        }
        C::ListGrants => to_js(&with(|w| Ok(w.grants(now)))?),
        C::RevokeGrant { origin } => {
            let notice = with(|w| Ok(w.revoke(&origin, now)))?;
            engine::stored(Record::Grants).await?;
            if let Some(notice) = &notice {
                control::notify(notice)?;
            }
            Ok(JsValue::from_bool(notice.is_some()))
        }
        C::SetGrantProviders { origin, providers } => {
            let notice = with(|w| w.set_grant_providers(&origin, providers, now))?;
            engine::stored(Record::Grants).await?;
            control::notify(&notice)?;
            Ok(JsValue::TRUE)
        }
        C::ParsePolicy { form } => match form.parse() {
            Ok(policy) => Ok(chrome::object(&[("policy", to_js(&policy)?)])),
            Err(problem) => Ok(chrome::object(&[("problem", to_js(&problem)?)])),
        },
        C::SetGrantPolicy { origin, policy } => {
            with(|w| w.set_grant_policy(&origin, policy, now))?;
            engine::stored(Record::Grants).await?;
            Ok(JsValue::TRUE)
        }
        C::Usage { origin, days } => to_js(&with(|w| {
            w.site_usage(origin.as_deref(), days.unwrap_or(30), &clock())
        })?),
        C::ListAudit { filter, limit } => {
            let page = with(|w| {
                let page = w.audit(&filter, limit.unwrap_or(200))?;
                crate::json::to_text(&page)
            })?;
            Ok(js_sys::JSON::parse(&page)?)
        }
        C::ExportAudit { filter, format } => {
            let (filename, mime, text) = with(|w| w.export_audit(&filter, &format))?;
            Ok(chrome::object(&[
                ("filename", filename.into()),
                ("mime", mime.into()),
                ("text", text.into()),
            ]))
        }
        C::GetRequestApproval { id } => to_js(&with(|w| w.request_approval(&id).cloned())?),
        C::DecideRequestApproval { id, approve } => {
            if let Some((_, window)) = with(|w| Ok(w.decide_request(&id, approve)))? {
                waiters::resolve(&id, approve);
                if let Some(window) = window {
                    windows::close(window).await;
                }
            }
            Ok(JsValue::TRUE)
        }
        C::ListApprovals => to_js(&with(|w| Ok(w.pending_rows()))?),
        C::GetApproval { id } => to_js(&with(|w| w.approval_view(&id, now))?),
        C::FocusApproval { id } => {
            let window = with(|w| Ok(w.pending_approval(&id)?.window_id))?;
            let focused = match window {
                Some(window) => windows::focus(window).await,
                None => false,
            };
            if !focused {
                // The window was lost (a worker restart): open a new one.
                let page = format!("approve/approve.html?id={id}");
                let opened = windows::open(&page, 640).await?;
                with(|w| {
                    w.approval_window_opened(&id, opened, now);
                    Ok(())
                })?;
            }
            Ok(JsValue::TRUE)
        }
        C::DecideApproval { id, decision } => {
            let decided = with(|w| w.decide_approval(&id, &decision, &clock()))?;
            engine::stored(Record::Grants).await?;
            waiters::resolve(&decided.approval, decided.approved);
            control::refresh_badge();
            Ok(JsValue::TRUE)
        }
    }
}

async fn vault_stored() -> EngineResult<JsValue> {
    engine::stored(Record::Vault).await?;
    Ok(JsValue::TRUE)
}

/// `[{id, name, needsBaseUrl, testable}]` in display order.
fn list_providers() -> EngineResult<JsValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        #[serde(flatten)]
        info: providers::ProviderInfo,
        testable: bool,
    }
    let rows: Vec<Row> = providers::all()
        .iter()
        .map(|p| Row {
            info: p.info(),
            testable: keyfob_core::request::key_test_path(p).is_some(),
        })
        .collect();
    to_js(&rows)
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unbase64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text.trim().as_bytes())
        .ok()
}
