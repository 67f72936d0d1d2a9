//! The audit log: one record per proxied (or refused) request, and daily roll-ups.
//!
//! Invariants:
//! - **Bounded by roll-up, never by dropping.** Records older than
//!   [`RollupPolicy::keep_days`], or beyond [`RollupPolicy::max_records`], are folded into
//!   per-day totals keyed by (local day, origin, provider, model). Per-request details
//!   (path, status, reason, context) go; every count and cost stays, so any total over
//!   the ledger is the same before and after a roll-up.
//! - **Nothing secret.** A record holds the origin, provider, model, path without its
//!   query string, counts, cost and the app's own reason and context. No header value,
//!   key or body is recorded. The app's context is its own data; the glue may still
//!   store the ledger sealed under the vault key.
//! - **Per origin.** [`AuditLedger::summary`] takes the origin, so a page asking for its
//!   usage sees only its own.
//!
//! Export: [`AuditLedger::export_json`] and [`AuditLedger::export_csv`] (records and
//! daily totals in one file, a `kind` column telling them apart; cells that a
//! spreadsheet would run as a formula are prefixed with `'`).

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::calendar::{iso_date, LocalClock};
use super::context::AppNote;
use super::usage::Usage;

mod csv;
pub use csv::CSV_HEADER;

/// How much detail the ledger keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupPolicy {
    /// Records from the last this-many local days stay whole.
    pub keep_days: u32,
    /// At most this many records stay whole (oldest roll up first).
    pub max_records: usize,
    /// About this many bytes of records at most, as stored: past it the oldest records
    /// lose their app notes first, then roll up. Keeps the log inside the storage quota.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: usize,
}

fn default_max_bytes() -> usize {
    RollupPolicy::default().max_bytes
}

impl Default for RollupPolicy {
    fn default() -> Self {
        Self {
            keep_days: 30,
            max_records: 5_000,
            max_bytes: 2 << 20,
        }
    }
}

/// One request as it ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// When the request started (ms since the epoch, UTC).
    pub time_ms: u64,
    pub origin: String,
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The path, without query string or fragment (see [`path_of`]).
    pub path: String,
    /// The HTTP status the page saw; 0 if no response started (network error, abort).
    pub status: u16,
    /// Keyfob's error code when Keyfob refused or failed the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default)]
    pub usage: Usage,
    /// Whether the provider's final usage report arrived.
    #[serde(default)]
    pub usage_complete: bool,
    /// `None` when the model's price is unknown.
    #[serde(default)]
    pub cost_nano_usd: Option<u64>,
    pub duration_ms: u64,
    #[serde(flatten)]
    pub note: AppNote,
    /// Set when a route served the request: `provider`, `model` and `path` above are
    /// what the app called, this is what was sent and billed (the cost and usage are
    /// the served model's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routed: Option<Routed>,
}

/// Where a routed request was served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Routed {
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub path: String,
}

impl AuditRecord {
    /// The provider and model that served (and priced) the request.
    pub fn served(&self) -> (&str, Option<&str>) {
        match &self.routed {
            Some(r) => (&r.provider, r.model.as_deref()),
            None => (&self.provider, self.model.as_deref()),
        }
    }
}

impl AuditRecord {
    fn is_error(&self) -> bool {
        self.status == 0 || self.status >= 400 || self.error_code.is_some()
    }
}

/// About how many bytes a record takes when stored (its JSON): fixed fields plus the
/// strings it carries. Cheap enough to compute for every record.
fn approx_size(r: &AuditRecord) -> usize {
    const FIXED: usize = 260;
    let context: usize = r.note.context.as_ref().map_or(0, |c| {
        c.iter().map(|(k, v)| k.len() + 6 + value_size(v)).sum()
    });
    FIXED
        + r.origin.len()
        + r.provider.len()
        + r.model.as_ref().map_or(0, String::len)
        + r.path.len()
        + r.error_code.as_ref().map_or(0, String::len)
        + r.routed.as_ref().map_or(0, |x| {
            40 + x.provider.len() + x.model.as_ref().map_or(0, String::len) + x.path.len()
        })
        + r.note.reason.as_ref().map_or(0, |s| s.len() + 12)
        + context
}

fn value_size(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::String(s) => s.len() + 2,
        _ => 24,
    }
}

/// The path of a URL or path, without query string or fragment.
pub fn path_of(url_or_path: &str) -> String {
    if let Ok(url) = url::Url::parse(url_or_path) {
        return url.path().to_string();
    }
    url_or_path
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Counts and costs added up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub requests: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// The cost of the requests with a known price.
    pub cost_nano_usd: u64,
    /// Requests whose cost is unknown.
    pub unpriced_requests: u64,
}

impl Totals {
    fn add_record(&mut self, r: &AuditRecord) {
        self.add(&Totals {
            requests: 1,
            errors: u64::from(r.is_error()),
            input_tokens: r.usage.input_tokens,
            output_tokens: r.usage.output_tokens,
            cache_read_tokens: r.usage.cache_read_tokens,
            cache_write_tokens: r.usage.cache_write_tokens,
            cost_nano_usd: r.cost_nano_usd.unwrap_or(0),
            unpriced_requests: u64::from(r.cost_nano_usd.is_none()),
        });
    }

    fn add(&mut self, o: &Totals) {
        self.requests += o.requests;
        self.errors += o.errors;
        self.input_tokens = self.input_tokens.saturating_add(o.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(o.output_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_add(o.cache_read_tokens);
        self.cache_write_tokens = self.cache_write_tokens.saturating_add(o.cache_write_tokens);
        self.cost_nano_usd = self.cost_nano_usd.saturating_add(o.cost_nano_usd);
        self.unpriced_requests += o.unpriced_requests;
    }
}

/// The rolled-up totals of one local day for one origin, provider and model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyTotal {
    /// Local day number (days since 1970-01-01).
    pub day: i64,
    pub origin: String,
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(flatten)]
    pub totals: Totals,
}

impl DailyTotal {
    fn key(&self) -> (i64, &str, &str, Option<&str>) {
        (
            self.day,
            &self.origin,
            &self.provider,
            self.model.as_deref(),
        )
    }
}

/// Totals with the cost also in USD, as the page and the popup show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageView {
    #[serde(flatten)]
    pub totals: Totals,
    pub cost_usd: f64,
}

impl From<Totals> for UsageView {
    fn from(totals: Totals) -> Self {
        Self {
            totals,
            cost_usd: super::usd_from_nano(totals.cost_nano_usd),
        }
    }
}

/// What `session.getUsage()` returns: `{requests, inputTokens, outputTokens, costUsd,
/// …, byProvider: {id: {…}}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageSummary {
    #[serde(flatten)]
    pub total: UsageView,
    pub by_provider: BTreeMap<String, UsageView>,
}

/// One point of a daily chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayPoint {
    pub date: String,
    #[serde(flatten)]
    pub usage: UsageView,
}

/// Which records and totals to show or export. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuditFilter {
    pub origin: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    /// Inclusive start, ms since the epoch.
    pub since_ms: Option<u64>,
    /// Exclusive end, ms since the epoch.
    pub until_ms: Option<u64>,
    pub errors_only: bool,
    /// Case-insensitive text in the path, model, reason or context.
    pub text: Option<String>,
}

impl AuditFilter {
    fn matches_keys(&self, origin: &str, provider: &str, model: Option<&str>) -> bool {
        self.origin.as_deref().is_none_or(|o| o == origin)
            && self.provider.as_deref().is_none_or(|p| p == provider)
            && self.model.as_deref().is_none_or(|m| model == Some(m))
    }

    /// Whether a record passes the filter.
    pub fn matches(&self, r: &AuditRecord) -> bool {
        let text = |t: &str| {
            let t = t.to_lowercase();
            let context = r
                .note
                .context
                .as_ref()
                .map(|c| serde_json::to_string(c).unwrap_or_default())
                .unwrap_or_default();
            [
                r.path.as_str(),
                r.model.as_deref().unwrap_or(""),
                r.served().1.unwrap_or(""),
                r.note.reason.as_deref().unwrap_or(""),
                context.as_str(),
            ]
            .iter()
            .any(|field| field.to_lowercase().contains(&t))
        };
        // A routed record matches as the app's call and as the served one.
        let (served, served_model) = r.served();
        let keys = self.matches_keys(&r.origin, &r.provider, r.model.as_deref())
            || (r.routed.is_some() && self.matches_keys(&r.origin, served, served_model));
        keys && self.since_ms.is_none_or(|s| r.time_ms >= s)
            && self.until_ms.is_none_or(|u| r.time_ms < u)
            && (!self.errors_only || r.is_error())
            && self.text.as_deref().is_none_or(text)
    }

    /// Whether a daily total passes the filter (time bounds apply by whole UTC day;
    /// per-request criteria — errors only, text — exclude roll-ups).
    fn matches_daily(&self, d: &DailyTotal) -> bool {
        let day_start = |ms: u64| (ms / 86_400_000) as i64;
        self.matches_keys(&d.origin, &d.provider, d.model.as_deref())
            && self.since_ms.is_none_or(|s| d.day >= day_start(s))
            && self
                .until_ms
                .is_none_or(|u| d.day < day_start(u.saturating_add(86_399_999)))
            && !self.errors_only
            && self.text.is_none()
    }
}

/// Recent records plus daily totals of everything older.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditLedger {
    #[serde(default)]
    records: VecDeque<AuditRecord>,
    /// Sorted by (day, origin, provider, model), one entry per key.
    #[serde(default)]
    daily: Vec<DailyTotal>,
    /// The approximate stored size of `records` (recomputed after loading).
    #[serde(skip)]
    record_bytes: Option<usize>,
}

impl PartialEq for AuditLedger {
    /// Ledgers are equal when their records and totals are (the size cache aside).
    fn eq(&self, other: &Self) -> bool {
        self.records == other.records && self.daily == other.daily
    }
}

impl AuditLedger {
    /// Appends a record, then rolls up what the policy no longer keeps whole.
    pub fn record(&mut self, record: AuditRecord, clock: &LocalClock, policy: &RollupPolicy) {
        let size = self.record_bytes() + approx_size(&record);
        self.record_bytes = Some(size);
        self.records.push_back(record);
        self.roll_up(clock, policy);
    }

    /// The approximate stored size of the records kept whole.
    pub fn record_bytes(&mut self) -> usize {
        *self
            .record_bytes
            .get_or_insert_with(|| self.records.iter().map(approx_size).sum())
    }

    /// Folds records older than `keep_days`, then the oldest beyond `max_records`, into
    /// daily totals.
    pub fn roll_up(&mut self, clock: &LocalClock, policy: &RollupPolicy) {
        let cutoff = clock.today() - i64::from(policy.keep_days);
        let (old, keep): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut self.records)
            .into_iter()
            .partition(|r| clock.day_of(r.time_ms) < cutoff);
        self.records = keep;
        for r in &old {
            self.fold(r, clock);
        }
        while self.records.len() > policy.max_records {
            if let Some(r) = self.records.pop_front() {
                self.fold(&r, clock);
            }
        }
        self.record_bytes = None;
        self.trim_to(policy.max_bytes, clock);
    }

    /// Over `max_bytes`: app notes go first, oldest first; then the oldest records roll up.
    fn trim_to(&mut self, max_bytes: usize, clock: &LocalClock) {
        let mut size = self.record_bytes();
        for r in self.records.iter_mut() {
            if size <= max_bytes {
                break;
            }
            if r.note != AppNote::default() {
                let before = approx_size(r);
                r.note = AppNote::default();
                size -= before - approx_size(r);
            }
        }
        while size > max_bytes {
            let Some(r) = self.records.pop_front() else {
                break;
            };
            size -= approx_size(&r);
            self.fold(&r, clock);
        }
        self.record_bytes = Some(size);
    }

    /// Daily totals count what was served and billed (a routed record's served model).
    fn fold(&mut self, r: &AuditRecord, clock: &LocalClock) {
        let (provider, model) = r.served();
        let entry = DailyTotal {
            day: clock.day_of(r.time_ms),
            origin: r.origin.clone(),
            provider: provider.to_string(),
            model: model.map(str::to_string),
            totals: Totals::default(),
        };
        let at = match self.daily.binary_search_by(|d| d.key().cmp(&entry.key())) {
            Ok(at) => at,
            Err(at) => {
                self.daily.insert(at, entry);
                at
            }
        };
        self.daily[at].totals.add_record(r);
    }

    /// The records kept whole, oldest first.
    pub fn records(&self) -> impl DoubleEndedIterator<Item = &AuditRecord> {
        self.records.iter()
    }

    /// The daily totals of rolled-up records, by day.
    pub fn daily_totals(&self) -> &[DailyTotal] {
        &self.daily
    }

    /// Records passing `filter`, newest first.
    pub fn query(&self, filter: &AuditFilter) -> Vec<&AuditRecord> {
        self.records
            .iter()
            .rev()
            .filter(|r| filter.matches(r))
            .collect()
    }

    /// All-time usage of `origin` (records and roll-ups), in total and per provider.
    pub fn summary(&self, origin: &str) -> UsageSummary {
        let mut total = Totals::default();
        let mut by_provider: BTreeMap<String, Totals> = BTreeMap::new();
        for r in self.records.iter().filter(|r| r.origin == origin) {
            total.add_record(r);
            // By the provider that served and billed it, as the daily totals count it.
            by_provider
                .entry(r.served().0.to_string())
                .or_default()
                .add_record(r);
        }
        for d in self.daily.iter().filter(|d| d.origin == origin) {
            total.add(&d.totals);
            by_provider
                .entry(d.provider.clone())
                .or_default()
                .add(&d.totals);
        }
        UsageSummary {
            total: total.into(),
            by_provider: by_provider
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect(),
        }
    }

    /// One point per local day for the last `days` days up to today, for one origin or
    /// all; records are placed by `clock`'s time zone.
    pub fn daily_series(
        &self,
        origin: Option<&str>,
        clock: &LocalClock,
        days: u32,
    ) -> Vec<DayPoint> {
        let today = clock.today();
        let first = today - i64::from(days) + 1;
        let mut points = vec![Totals::default(); days as usize];
        let mine = |o: &str| origin.is_none_or(|want| want == o);
        let slot = |day: i64| {
            usize::try_from(day - first)
                .ok()
                .filter(|&i| i < days as usize)
        };
        for r in self.records.iter().filter(|r| mine(&r.origin)) {
            if let Some(i) = slot(clock.day_of(r.time_ms)) {
                points[i].add_record(r);
            }
        }
        for d in self.daily.iter().filter(|d| mine(&d.origin)) {
            if let Some(i) = slot(d.day) {
                points[i].add(&d.totals);
            }
        }
        points
            .into_iter()
            .enumerate()
            .map(|(i, totals)| DayPoint {
                date: iso_date(first + i as i64),
                usage: totals.into(),
            })
            .collect()
    }

    /// The records and daily totals passing `filter`, as JSON:
    /// `{"records":[…],"dailyTotals":[…]}`.
    pub fn export_json(&self, filter: &AuditFilter) -> String {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Export<'a> {
            records: Vec<&'a AuditRecord>,
            daily_totals: Vec<&'a DailyTotal>,
        }
        let export = Export {
            records: self.records.iter().filter(|r| filter.matches(r)).collect(),
            daily_totals: self
                .daily
                .iter()
                .filter(|d| filter.matches_daily(d))
                .collect(),
        };
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string(&export).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;
    const A: &str = "https://a.example";

    fn rec(
        time_ms: u64,
        origin: &str,
        provider: &str,
        tokens: u64,
        cost: Option<u64>,
    ) -> AuditRecord {
        AuditRecord {
            time_ms,
            origin: origin.into(),
            provider: provider.into(),
            model: Some("m".into()),
            path: "/v1/chat/completions".into(),
            status: 200,
            usage: Usage {
                input_tokens: tokens,
                output_tokens: tokens / 2,
                ..Usage::default()
            },
            usage_complete: true,
            cost_nano_usd: cost,
            duration_ms: 5,
            ..AuditRecord::default()
        }
    }

    #[test]
    fn paths_lose_query_and_fragment() {
        assert_eq!(
            path_of("https://api.openai.com/v1/files?purpose=x#f"),
            "/v1/files"
        );
        assert_eq!(
            path_of("/v1beta/models/g:streamGenerateContent?alt=sse"),
            "/v1beta/models/g:streamGenerateContent"
        );
    }

    #[test]
    fn roll_up_by_age_and_by_count_keeps_summaries() {
        let mut ledger = AuditLedger::default();
        let policy = RollupPolicy {
            keep_days: 2,
            max_records: 3,
            ..RollupPolicy::default()
        };
        let clock = LocalClock::utc(10 * DAY);
        for (i, day) in [5u64, 6, 8, 9, 9, 10].iter().enumerate() {
            let cost = (i % 2 == 0).then_some(1_000 * i as u64);
            ledger.record(rec(day * DAY + 1, A, "openai", 10, cost), &clock, &policy);
        }
        ledger.record(
            rec(10 * DAY, "https://b.example", "anthropic", 99, Some(1)),
            &clock,
            &policy,
        );
        // Days 5 and 6 are older than 2 days; then the oldest beyond 3 records roll up.
        assert_eq!(ledger.records().count(), 3);
        assert_eq!(ledger.daily_totals().len(), 4); // days 5, 6, 8, 9 for A
        let s = ledger.summary(A);
        assert_eq!(s.total.totals.requests, 6);
        assert_eq!(s.total.totals.input_tokens, 60);
        assert_eq!(s.total.totals.output_tokens, 30);
        assert_eq!(s.total.totals.cost_nano_usd, 6_000);
        assert_eq!(s.total.totals.unpriced_requests, 3);
        assert_eq!(s.by_provider.len(), 1);
        assert!((s.total.cost_usd - 0.000006).abs() < 1e-12);
        let json = serde_json::to_value(&s).expect("serialises");
        assert_eq!(json["requests"], 6);
        assert_eq!(json["inputTokens"], 60);
        assert_eq!(json["byProvider"]["openai"]["outputTokens"], 30);
        assert!(json.get("costUsd").is_some());
        // The ledger round-trips through JSON.
        let stored = serde_json::to_string(&ledger).expect("serialises");
        let back: AuditLedger = serde_json::from_str(&stored).expect("parses");
        assert_eq!(back, ledger);
    }

    #[test]
    fn daily_series_covers_records_and_roll_ups() {
        let mut ledger = AuditLedger::default();
        let policy = RollupPolicy {
            keep_days: 1,
            max_records: 100,
            ..RollupPolicy::default()
        };
        let clock = LocalClock::utc(20_454 * DAY + 1000);
        ledger.record(rec(20_450 * DAY, A, "openai", 4, Some(10)), &clock, &policy);
        ledger.record(rec(20_454 * DAY, A, "openai", 6, Some(20)), &clock, &policy);
        ledger.record(
            rec(20_454 * DAY, "https://b.example", "openai", 100, Some(20)),
            &clock,
            &policy,
        );
        let series = ledger.daily_series(Some(A), &clock, 7);
        assert_eq!(series.len(), 7);
        assert_eq!(series[6].date, "2026-01-01");
        assert_eq!(series[6].usage.totals.input_tokens, 6);
        assert_eq!(series[2].date, "2025-12-28");
        assert_eq!(series[2].usage.totals.input_tokens, 4);
        let total: u64 = series.iter().map(|p| p.usage.totals.requests).sum();
        assert_eq!(total, 2);
        assert_eq!(
            ledger.daily_series(None, &clock, 1)[0]
                .usage
                .totals
                .requests,
            2
        );
    }

    #[test]
    fn filters_and_exports() {
        let mut ledger = AuditLedger::default();
        let clock = LocalClock::utc(DAY);
        let mut bad = rec(DAY + 3_723_004, A, "openai", 1, None);
        bad.status = 402;
        bad.error_code = Some("BUDGET_EXCEEDED".into());
        bad.note.reason = Some("=HYPERLINK(\"x\"), \"quoted\"".into());
        bad.note.context = Some(BTreeMap::from([(
            "ticket".to_string(),
            serde_json::json!(42),
        )]));
        ledger.record(
            rec(DAY, A, "gemini", 8, Some(2_500)),
            &clock,
            &RollupPolicy::default(),
        );
        ledger.record(bad, &clock, &RollupPolicy::default());
        let errors = AuditFilter {
            errors_only: true,
            ..AuditFilter::default()
        };
        assert_eq!(ledger.query(&errors).len(), 1);
        let text = AuditFilter {
            text: Some("TICKET".into()),
            ..AuditFilter::default()
        };
        assert_eq!(ledger.query(&text).len(), 1);
        let gemini = AuditFilter {
            provider: Some("gemini".into()),
            ..AuditFilter::default()
        };
        assert_eq!(ledger.query(&gemini)[0].usage.input_tokens, 8);
        let json: serde_json::Value =
            serde_json::from_str(&ledger.export_json(&errors)).expect("json");
        assert_eq!(json["records"][0]["errorCode"], "BUDGET_EXCEEDED");
        assert_eq!(json["records"][0]["context"]["ticket"], 42);
        let csv = ledger.export_csv(&AuditFilter::default());
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert!(lines[1].starts_with(
            "request,1970-01-02,1970-01-02T00:00:00.000Z,https://a.example,gemini,m,"
        ));
        assert!(lines[1].contains(",0.0000025,"), "{}", lines[1]);
        assert!(
            lines[2].contains(",1970-01-02T01:02:03.004Z,"),
            "{}",
            lines[2]
        );
        assert!(
            lines[2].contains(r#","'=HYPERLINK(""x""), ""quoted""","#),
            "{}",
            lines[2]
        );
        assert!(lines[2].ends_with(r#","{""ticket"":42}""#), "{}", lines[2]);
        assert_eq!(
            lines[2].split(',').count(),
            CSV_HEADER.split(',').count() + 1
        );
    }

    #[test]
    fn a_routed_record_counts_for_the_served_provider_before_and_after_roll_up() {
        let clock = LocalClock::utc(40 * DAY);
        let mut ledger = AuditLedger::default();
        let mut r = rec(40 * DAY, A, "anthropic", 100, Some(7));
        r.model = Some("claude-sonnet-4-5".into());
        r.routed = Some(Routed {
            provider: "openai".into(),
            model: Some("gpt-4o-mini".into()),
            path: "/v1/chat/completions".into(),
        });
        ledger.record(r, &clock, &RollupPolicy::default());
        let by = |l: &AuditLedger| {
            let s = l.summary(A);
            s.by_provider.keys().cloned().collect::<Vec<_>>()
        };
        assert_eq!(by(&ledger), ["openai"]);
        for provider in ["anthropic", "openai"] {
            let filter = AuditFilter {
                provider: Some(provider.into()),
                ..AuditFilter::default()
            };
            assert_eq!(ledger.query(&filter).len(), 1, "{provider}");
        }
        let text = AuditFilter {
            text: Some("gpt-4o".into()),
            ..AuditFilter::default()
        };
        assert_eq!(ledger.query(&text).len(), 1);
        let later = LocalClock::utc(80 * DAY);
        ledger.roll_up(&later, &RollupPolicy::default());
        assert_eq!(ledger.records().count(), 0);
        assert_eq!(by(&ledger), ["openai"]);
        let daily = &ledger.daily_totals()[0];
        assert_eq!(daily.model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(daily.totals.cost_nano_usd, 7);
    }
}
