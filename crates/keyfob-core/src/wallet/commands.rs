//! The command surface of the extension's own pages (popup, approval windows), decided
//! here so every front end (the popup today, the local bridge next) gets one set of
//! rules. A command comes in as JSON `{cmd, ...}`; [`Wallet::command`] applies it and
//! answers what the glue must do: wait for records to be stored, notify sessions,
//! wake a waiting request, close a window, and then answer. The commands that need I/O
//! half-way (unlock and backup export derive a key from the master password only once
//! the attempt is stored, a key test fetches, a lost window is reopened) come back as a
//! [`Step`] naming that I/O.
//!
//! No answer carries a stored key: credentials leave masked, and a key test returns
//! only a verdict. `Command` has no `Debug`: some variants carry passwords or keys.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

use super::connect::Decision;
use super::vault_ops::{checked_base_url, PasswordAttempt, UnlockAttempt};
use super::views::Notice;
use super::{Record, Wallet};
use crate::metering::{AuditFilter, GrantPolicy, LocalClock, PolicyForm};
use crate::providers;
use crate::request::key_test_path;
use crate::route::Route;
use crate::secret::{ExposeSecret, SecretString};
use crate::vault::{check_password_policy, estimate_password_strength};
use crate::CoreError;

/// Audit rows per page when the popup does not say.
const DEFAULT_AUDIT_PAGE: usize = 200;
/// Days of usage shown when the popup does not say.
const DEFAULT_USAGE_DAYS: u32 = 30;

/// A command from an extension page.
#[derive(Deserialize)]
#[serde(tag = "cmd", rename_all_fields = "camelCase")]
pub enum Command {
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
    /// `password` seals the backup; `currentPassword` is the master password, asked again
    /// so an unlocked browser alone cannot take every key away. Missing or empty, it is
    /// `WRONG_PASSWORD` (nothing is tried, nothing counted).
    #[serde(rename = "backup.export")]
    ExportBackup {
        #[serde(default)]
        current_password: Option<SecretString>,
        password: SecretString,
    },
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
    GuessProvider { key_start: Zeroizing<String> },
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
    #[serde(rename = "grants.setRoutes")]
    SetGrantRoutes { origin: String, routes: Vec<Route> },
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
    #[serde(rename = "bridge.status")]
    BridgeStatus,
    #[serde(rename = "bridge.start")]
    BridgeStart,
    #[serde(rename = "bridge.stop")]
    BridgeStop,
}

/// Only the extension's own pages (popup, approval windows) may send commands: a sender
/// whose URL is not inside `extension_origin` (a content script, a web page) is refused.
pub fn check_sender(sender_url: Option<&str>, extension_origin: &str) -> Result<(), CoreError> {
    let inside = sender_url
        .and_then(|url| url.strip_prefix(extension_origin))
        .is_some_and(|rest| rest.starts_with('/'));
    if inside && !extension_origin.is_empty() {
        Ok(())
    } else {
        Err(CoreError::OriginNotApproved)
    }
}

impl Command {
    /// Commands that are not the user using the wallet: they do not delay auto-lock.
    pub fn is_passive(&self) -> bool {
        matches!(
            self,
            Command::Status
                | Command::BridgeStatus
                | Command::PasswordStrength { .. }
                | Command::ListApprovals
                | Command::GuessProvider { .. }
                | Command::ParsePolicy { .. }
        )
    }
}

/// What the glue does next for a command.
pub enum Step {
    /// Carry out `after` in order, then answer.
    Done(Outcome),
    /// Store the counted attempt (`Record::Throttle`), then call
    /// [`Wallet::finish_unlock`] with it and answer the status.
    Unlock {
        attempt: UnlockAttempt,
        password: SecretString,
    },
    /// Store the counted guess (`Record::Throttle`), then carry out what
    /// [`Wallet::finish_export_backup`] answers for it.
    ExportBackup {
        attempt: PasswordAttempt,
        current_password: SecretString,
        password: SecretString,
    },
    /// Make the key test [`Wallet::key_test`] plans for this credential; answer its verdict.
    TestKey { credential: String },
    /// Bring this approval's window to the front, or open a new one if it is gone
    /// (a worker restart loses windows), then answer `true`.
    FocusApproval {
        approval: String,
        window: Option<i32>,
    },
    /// Do this to the local bridge (`docs/bridge.md`), then answer its state.
    Bridge(BridgeAction),
}

/// What the popup asks of the local bridge (the host process is the glue's to run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BridgeAction {
    Status,
    Start,
    Stop,
}

/// A command's effects, in the order the glue carries them out, and its answer.
pub struct Outcome {
    pub after: Vec<After>,
    pub answer: Answer,
}

/// One effect of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    /// Wait until this record is stored: the answer promises it is.
    Stored(Record),
    /// Tell the site's open sessions (a revoke, a change of providers).
    Notify(Notice),
    /// The toolbar badge counts pending approvals.
    RefreshBadge,
    /// Wake whatever waits on this approval (a connect, a request).
    Resolve {
        approval: String,
        approved: bool,
    },
    CloseWindow(i32),
}

/// The reply's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The wallet's status, read after the effects (so `unsaved` is current).
    Status,
    /// This JSON text.
    Json(String),
}

impl Outcome {
    fn json(value: &impl Serialize) -> Result<Self, CoreError> {
        Ok(Self::answer(Answer::Json(to_json(value)?)))
    }

    fn answer(answer: Answer) -> Self {
        Self {
            after: Vec::new(),
            answer,
        }
    }

    fn status_after(record: Record) -> Self {
        Self {
            after: vec![After::Stored(record)],
            answer: Answer::Status,
        }
    }

    fn stored_then(record: Record, value: &impl Serialize) -> Result<Self, CoreError> {
        let mut outcome = Self::json(value)?;
        outcome.after.push(After::Stored(record));
        Ok(outcome)
    }
}

fn to_json(value: &impl Serialize) -> Result<String, CoreError> {
    serde_json::to_string(value).map_err(|e| CoreError::Internal(e.to_string()))
}

/// `[{id, name, needsBaseUrl, testable}]` in display order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProviderRow {
    #[serde(flatten)]
    info: providers::ProviderInfo,
    testable: bool,
}

impl Wallet {
    /// Applies one command from an extension page at `clock`.
    pub fn command(&mut self, command: Command, clock: &LocalClock) -> Result<Step, CoreError> {
        use Command as C;
        let now = clock.now_ms;
        let done = match command {
            C::Unlock { password } => {
                return Ok(match self.begin_unlock(clock)? {
                    Some(attempt) => Step::Unlock { attempt, password },
                    None => Step::Done(Outcome {
                        after: vec![After::RefreshBadge],
                        answer: Answer::Status,
                    }),
                })
            }
            C::ExportBackup {
                current_password,
                password,
            } => {
                self.open()?;
                // A backup password the policy refuses is no guess at the master password.
                check_password_policy(&password)?;
                // EXPOSE: only to see whether a master password was given at all.
                let current = current_password
                    .filter(|p| !p.expose_secret().is_empty())
                    .ok_or(CoreError::WrongPassword)?;
                let attempt = self.begin_password_check(clock)?;
                return Ok(Step::ExportBackup {
                    attempt,
                    current_password: current,
                    password,
                });
            }
            C::TestCredential { id } => return Ok(Step::TestKey { credential: id }),
            C::FocusApproval { id } => {
                let window = self.pending_approval(&id)?.window_id;
                return Ok(Step::FocusApproval {
                    approval: id,
                    window,
                });
            }
            C::BridgeStatus => return Ok(Step::Bridge(BridgeAction::Status)),
            // Starting the bridge lets local programs ask to log in: the user's act.
            C::BridgeStart => {
                self.open()?;
                return Ok(Step::Bridge(BridgeAction::Start));
            }
            C::BridgeStop => return Ok(Step::Bridge(BridgeAction::Stop)),
            C::Status => Outcome::answer(Answer::Status),
            C::Create { password } => {
                self.create(&password, clock)?;
                Outcome::status_after(Record::Vault)
            }
            C::Lock => {
                self.lock(now);
                Outcome::answer(Answer::Status)
            }
            C::ChangePassword {
                old_password,
                new_password,
            } => {
                self.change_password(&old_password, &new_password, now)?;
                Outcome::status_after(Record::Vault)
            }
            C::PasswordStrength { password } => {
                Outcome::json(&estimate_password_strength(&password))?
            }
            C::SetAutoLock { minutes } => {
                self.set_auto_lock(minutes, now)?;
                Outcome::status_after(Record::Vault)
            }
            C::DismissProblem { record } => Outcome::json(&self.dismiss_problem(&record))?,
            C::ImportBackup { data, password } => {
                let blob = B64
                    .decode(data.trim().as_bytes())
                    .map_err(|_| CoreError::BackupInvalid)?;
                let count = self.import_backup(&blob, &password, now)?;
                Outcome::stored_then(Record::Vault, &json!({ "imported": count }))?
            }
            C::ListCredentials => Outcome::json(&self.credentials()?)?,
            C::AddCredential {
                provider,
                label,
                secret,
                base_url,
            } => {
                let id = self.add_credential(&provider, label, secret, base_url.as_deref(), now)?;
                Outcome::stored_then(Record::Vault, &json!({ "id": id }))?
            }
            C::RenameCredential { id, label } => {
                self.rename_credential(&id, label, now)?;
                Outcome::stored_then(Record::Vault, &true)?
            }
            C::ReplaceCredential { id, secret } => {
                self.replace_secret(&id, secret, now)?;
                Outcome::stored_then(Record::Vault, &true)?
            }
            C::SetBaseUrl { id, base_url } => {
                self.set_base_url(&id, &base_url, now)?;
                Outcome::stored_then(Record::Vault, &true)?
            }
            C::RemoveCredential { id } => {
                self.remove_credential(&id, now)?;
                Outcome::stored_then(Record::Vault, &true)?
            }
            C::ListProviders => {
                let rows: Vec<ProviderRow> = providers::all()
                    .iter()
                    .map(|p| ProviderRow {
                        info: p.info(),
                        testable: key_test_path(p).is_some(),
                    })
                    .collect();
                Outcome::json(&rows)?
            }
            C::GuessProvider { key_start } => {
                Outcome::json(&providers::guess_provider(key_start.trim()))?
            }
            C::CheckBaseUrl { provider, base_url } => {
                let found = providers::find(&provider)?;
                let checked = checked_base_url(found, Some(&base_url))?.unwrap_or_default();
                Outcome::json(&json!({ "baseUrl": checked }))?
            }
            C::ListGrants => Outcome::json(&self.grants(now))?,
            C::RevokeGrant { origin } => {
                let notice = self.revoke(&origin, now);
                let mut outcome = Outcome::stored_then(Record::Grants, &notice.is_some())?;
                outcome.after.extend(notice.map(After::Notify));
                outcome
            }
            C::SetGrantProviders { origin, providers } => {
                let notice = self.set_grant_providers(&origin, providers, now)?;
                let mut outcome = Outcome::stored_then(Record::Grants, &true)?;
                outcome.after.push(After::Notify(notice));
                outcome
            }
            C::ParsePolicy { form } => match form.parse() {
                Ok(policy) => Outcome::json(&json!({ "policy": policy }))?,
                Err(problem) => Outcome::json(&json!({ "problem": problem }))?,
            },
            C::SetGrantPolicy { origin, policy } => {
                self.set_grant_policy(&origin, policy, now)?;
                Outcome::stored_then(Record::Grants, &true)?
            }
            C::SetGrantRoutes { origin, routes } => {
                self.set_grant_routes(&origin, routes, now)?;
                Outcome::stored_then(Record::Grants, &true)?
            }
            C::Usage { origin, days } => Outcome::json(&self.site_usage(
                origin.as_deref(),
                days.unwrap_or(DEFAULT_USAGE_DAYS),
                clock,
            )?)?,
            C::ListAudit { filter, limit } => {
                Outcome::json(&self.audit(&filter, limit.unwrap_or(DEFAULT_AUDIT_PAGE))?)?
            }
            C::ExportAudit { filter, format } => {
                let (filename, mime, text) = self.export_audit(&filter, &format)?;
                Outcome::json(&json!({ "filename": filename, "mime": mime, "text": text }))?
            }
            C::GetRequestApproval { id } => Outcome::json(&self.request_approval(&id)?)?,
            C::DecideRequestApproval { id, approve } => {
                let mut outcome = Outcome::json(&true)?;
                if let Some((_, window)) = self.decide_request(&id, approve) {
                    outcome.after.push(After::Resolve {
                        approval: id,
                        approved: approve,
                    });
                    outcome.after.extend(window.map(After::CloseWindow));
                }
                outcome
            }
            C::ListApprovals => Outcome::json(&self.pending_rows())?,
            C::GetApproval { id } => Outcome::json(&self.approval_view(&id, now)?)?,
            C::DecideApproval { id, decision } => {
                let decided = self.decide_approval(&id, &decision, clock)?;
                let mut outcome = Outcome::stored_then(Record::Grants, &true)?;
                outcome.after.push(After::Resolve {
                    approval: decided.approval,
                    approved: decided.approved,
                });
                outcome.after.push(After::RefreshBadge);
                outcome
            }
        };
        Ok(Step::Done(done))
    }

    /// Finishes `backup.export` once its counted guess is stored: `{data}`, the backup in
    /// base64, for the right master password.
    pub fn finish_export_backup(
        &mut self,
        attempt: PasswordAttempt,
        current_password: &SecretString,
        password: &SecretString,
        clock: &LocalClock,
    ) -> Result<Outcome, CoreError> {
        let blob = self.export_backup(attempt, current_password, password, clock.now_ms)?;
        Outcome::json(&json!({ "data": B64.encode(blob) }))
    }
}
