//! What the popup shows and changes about sites: grants, their limits, usage and the
//! activity log. Changes to a site's grant come back with the notice its pages get.

use serde::Serialize;

use super::caller::Caller;
use super::store::Record;
use super::Wallet;
use crate::grants::Grant;
use crate::metering::audit::{DayPoint, UsageSummary};
use crate::metering::budget::BudgetStatus;
use crate::metering::{AuditFilter, AuditRecord, GrantPolicy, LocalClock};
use crate::providers::{self, ProviderInfo};
use crate::route::Route;
use crate::CoreError;

/// A grant as the Sites tab lists it. `expired` and `expires_in_ms` (negative once past,
/// `None` for "never") follow the clock that enforces them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantRow {
    #[serde(flatten)]
    pub grant: Grant,
    pub expired: bool,
    pub expires_in_ms: Option<i64>,
}

/// One site's usage: totals, a daily series for the chart, budget progress.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteUsage {
    pub origin: String,
    pub summary: UsageSummary,
    pub daily: Vec<DayPoint>,
    pub budgets: Vec<BudgetStatus>,
}

/// A page of the activity log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditPage<'a> {
    pub records: Vec<&'a AuditRecord>,
    pub total: usize,
}

/// What a change to a site's grant tells that site's pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The grant is gone: pages must connect again.
    Disconnected { origin: String },
    /// The granted providers changed.
    ProvidersUpdated { origin: String },
}

/// A provider as an approval window lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalProvider {
    pub id: String,
    pub name: String,
    pub required: bool,
    /// Whether a key is stored (`None` while locked: the window asks to unlock first).
    pub has_key: Option<bool>,
    /// Whether this caller may already use it.
    pub granted: bool,
    /// Whether its calls can be routed to another provider.
    pub routable: bool,
    /// The route the caller's live grant already has for it.
    pub route: Option<Route>,
}

/// What the approval window shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalView {
    pub id: String,
    pub origin: String,
    pub wallet: super::WalletState,
    pub locked: bool,
    pub providers: Vec<ApprovalProvider>,
    pub already_granted: Vec<ProviderName>,
    pub expires_at_ms: Option<u64>,
    /// Providers with a stored key that could serve a provider without one: what the
    /// window offers as a route (empty while locked).
    pub route_targets: Vec<ProviderInfo>,
    /// For a local client's login: the name it gave (`origin` is then `client:<name>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

/// A pending approval as the popup lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingRow {
    pub id: String,
    pub origin: String,
    pub providers: Vec<ApprovalProvider>,
    pub created_at_ms: u64,
    /// For a local client's login: the name it gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderName {
    pub id: String,
    pub name: String,
}

fn provider_name(id: &str) -> String {
    providers::find(id).map_or_else(|_| id.to_string(), |p| p.name.to_string())
}

fn is_routable(id: &str) -> bool {
    providers::find(id).is_ok_and(|p| !p.speaks.is_empty())
}

impl Wallet {
    /// The approval window's view of pending approval `id`.
    pub fn approval_view(&self, id: &str, now: u64) -> Result<ApprovalView, CoreError> {
        let pending = self.pending_approval(id)?;
        let grant = self.grants.get(&pending.origin).filter(|g| g.is_live(now));
        let open = self.open().ok();
        Ok(ApprovalView {
            id: pending.id.clone(),
            origin: pending.origin.clone(),
            wallet: self.state(),
            locked: open.is_none(),
            providers: pending
                .providers
                .iter()
                .map(|p| ApprovalProvider {
                    id: p.id.clone(),
                    name: provider_name(&p.id),
                    required: p.required,
                    has_key: open.map(|o| o.vault.credential_for_provider(&p.id).is_some()),
                    granted: grant.is_some_and(|g| g.allows(&p.id)),
                    routable: is_routable(&p.id),
                    route: grant.and_then(|g| g.route_from(&p.id)).cloned(),
                })
                .collect(),
            already_granted: grant
                .map(|g| {
                    g.providers
                        .iter()
                        .map(|id| ProviderName {
                            id: id.clone(),
                            name: provider_name(id),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            expires_at_ms: grant.and_then(|g| g.expires_at_ms),
            route_targets: open
                .map(|o| {
                    providers::all()
                        .iter()
                        .filter(|p| !p.speaks.is_empty())
                        .filter(|p| o.vault.credential_for_provider(p.id).is_some())
                        .map(|p| p.info())
                        .collect()
                })
                .unwrap_or_default(),
            client: pending.client.as_ref().map(|c| c.name.clone()),
        })
    }

    /// Every pending approval, oldest first, for the popup's banner.
    pub fn pending_rows(&self) -> Vec<PendingRow> {
        self.pending_approvals()
            .into_iter()
            .map(|p| PendingRow {
                id: p.id.clone(),
                origin: p.origin.clone(),
                providers: p
                    .providers
                    .iter()
                    .map(|r| ApprovalProvider {
                        id: r.id.clone(),
                        name: provider_name(&r.id),
                        required: r.required,
                        has_key: None,
                        granted: false,
                        routable: is_routable(&r.id),
                        route: None,
                    })
                    .collect(),
                created_at_ms: p.created_at_ms,
                client: p.client.as_ref().map(|c| c.name.clone()),
            })
            .collect()
    }

    /// Every grant, sorted by origin.
    pub fn grants(&self, now: u64) -> Vec<GrantRow> {
        self.grants
            .list()
            .into_iter()
            .map(|g| GrantRow {
                grant: g.clone(),
                expired: !g.is_live(now),
                expires_in_ms: g.expires_at_ms.map(|exp| {
                    i64::try_from(exp).unwrap_or(i64::MAX) - i64::try_from(now).unwrap_or(0)
                }),
            })
            .collect()
    }

    /// Removes a site's grant (from the popup, or the page's own `disconnect`).
    pub fn revoke(&mut self, origin: &str, now: u64) -> Option<Notice> {
        if !self.grants.revoke(origin) {
            return None;
        }
        self.persistence.mark(Record::Grants, now, 0);
        Some(Notice::Disconnected {
            origin: origin.to_string(),
        })
    }

    /// A page asks to forget its own grant.
    pub fn disconnect(&mut self, caller: &Caller, now: u64) -> Option<Notice> {
        self.revoke(caller.grant_key(), now)
    }

    /// Replaces a site's granted providers.
    pub fn set_grant_providers(
        &mut self,
        origin: &str,
        providers: Vec<String>,
        now: u64,
    ) -> Result<Notice, CoreError> {
        self.grants.set_providers(origin, providers)?;
        self.persistence.mark(Record::Grants, now, 0);
        Ok(Notice::ProvidersUpdated {
            origin: origin.to_string(),
        })
    }

    /// Replaces a site's metering policy (validated), effective at once.
    pub fn set_grant_policy(
        &mut self,
        origin: &str,
        policy: GrantPolicy,
        now: u64,
    ) -> Result<(), CoreError> {
        self.grants.set_policy(origin, policy)?;
        self.persistence.mark(Record::Grants, now, 0);
        Ok(())
    }

    /// Replaces a site's routes (validated against its providers), effective at once.
    pub fn set_grant_routes(
        &mut self,
        origin: &str,
        routes: Vec<Route>,
        now: u64,
    ) -> Result<(), CoreError> {
        self.grants.set_routes(origin, routes)?;
        self.persistence.mark(Record::Grants, now, 0);
        Ok(())
    }

    /// A caller's own all-time usage (`session.getUsage()`).
    pub fn usage_of(&self, caller: &Caller) -> Result<UsageSummary, CoreError> {
        Ok(self.ledger()?.summary(caller.grant_key()))
    }

    /// Usage of one site, or of every granted site, over the last `days` days.
    pub fn site_usage(
        &self,
        origin: Option<&str>,
        days: u32,
        clock: &LocalClock,
    ) -> Result<Vec<SiteUsage>, CoreError> {
        let ledger = self.ledger()?;
        let days = days.clamp(1, 366);
        let origins: Vec<String> = match origin {
            Some(o) => vec![o.to_string()],
            None => self
                .grants
                .list()
                .iter()
                .map(|g| g.origin.clone())
                .collect(),
        };
        Ok(origins
            .into_iter()
            .map(|o| {
                let limits = self
                    .grants
                    .get(&o)
                    .map(|g| g.policy.budgets.clone())
                    .unwrap_or_default();
                SiteUsage {
                    summary: ledger.summary(&o),
                    daily: ledger.daily_series(Some(&o), clock, days),
                    budgets: self.budgets.status(&o, &limits, clock),
                    origin: o,
                }
            })
            .collect())
    }

    /// The newest `limit` (1 … 5,000) records that match, newest first.
    pub fn audit(&self, filter: &AuditFilter, limit: usize) -> Result<AuditPage<'_>, CoreError> {
        let matching = self.ledger()?.query(filter);
        let total = matching.len();
        let records = matching.into_iter().take(limit.clamp(1, 5_000)).collect();
        Ok(AuditPage { records, total })
    }

    /// The filtered log as `(file name, MIME type, text)`, in JSON or CSV.
    pub fn export_audit(
        &self,
        filter: &AuditFilter,
        format: &str,
    ) -> Result<(&'static str, &'static str, String), CoreError> {
        let ledger = self.ledger()?;
        match format {
            "json" => Ok((
                "keyfob-audit.json",
                "application/json",
                ledger.export_json(filter),
            )),
            "csv" => Ok(("keyfob-audit.csv", "text/csv", ledger.export_csv(filter))),
            _ => Err(CoreError::InvalidInput("format must be json or csv".into())),
        }
    }
}
