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

impl Wallet {
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
