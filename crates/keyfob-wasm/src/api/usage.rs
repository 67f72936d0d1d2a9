//! Metering as the popup shows it: each site's policy (budgets, model allow-list, gated
//! surfaces), its usage (totals, per provider, a daily series for the chart, budget
//! progress), and the audit log with filters and JSON/CSV export.

use super::to_js;
use crate::error::EngineResult;
use crate::proxy::metering::clock;
use crate::state;
use keyfob_core::metering::{AuditFilter, GrantPolicy};
use keyfob_core::CoreError;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// Replaces a site's metering policy (validated by the core), effective at once.
pub async fn set_policy(origin: &str, policy: GrantPolicy) -> EngineResult<JsValue> {
    state::with(|e| Ok(e.grants.set_policy(origin, policy)?))?;
    state::save_grants().await?;
    Ok(JsValue::TRUE)
}

/// `{summary, daily, budgets}` for one origin, or `{summary}` per origin for all.
pub fn usage(origin: Option<&str>, days: u32) -> EngineResult<JsValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Site<S, D, B> {
        origin: String,
        summary: S,
        daily: D,
        budgets: B,
    }
    let clock = clock();
    let days = days.clamp(1, 366);
    state::with(|e| {
        let origins: Vec<String> = match origin {
            Some(o) => vec![o.to_string()],
            None => e.grants.list().iter().map(|g| g.origin.clone()).collect(),
        };
        e.ledger()?; // opened once, up front (fails only while locked)
        let mut sites = Vec::with_capacity(origins.len());
        for o in origins {
            let limits = e
                .grants
                .get(&o)
                .map(|g| g.policy.budgets.clone())
                .unwrap_or_default();
            let budgets = e.budgets.status(&o, &limits, &clock);
            let ledger = e.ledger()?;
            sites.push(Site {
                summary: ledger.summary(&o),
                daily: ledger.daily_series(Some(&o), &clock, days),
                budgets,
                origin: o,
            });
        }
        to_js(&sites)
    })
}

/// The newest `limit` audit records that match, newest first.
pub fn list_audit(filter: &AuditFilter, limit: usize) -> EngineResult<JsValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Page<R> {
        records: Vec<R>,
        total: usize,
    }
    state::with(|e| {
        let matching = e.ledger()?.query(filter);
        let total = matching.len();
        let records: Vec<_> = matching.into_iter().take(limit.clamp(1, 5_000)).collect();
        to_js(&Page { records, total })
    })
}

/// `{filename, mime, text}` of the filtered log as JSON or CSV.
pub fn export_audit(filter: &AuditFilter, format: &str) -> EngineResult<JsValue> {
    let (text, mime, ext) = state::with(|e| {
        Ok(match format {
            "json" => (e.ledger()?.export_json(filter), "application/json", "json"),
            "csv" => (e.ledger()?.export_csv(filter), "text/csv", "csv"),
            _ => return Err(CoreError::InvalidInput("format must be json or csv".into()).into()),
        })
    })?;
    Ok(crate::chrome::object(&[
        ("filename", format!("keyfob-audit.{ext}").into()),
        ("mime", mime.into()),
        ("text", text.into()),
    ]))
}
