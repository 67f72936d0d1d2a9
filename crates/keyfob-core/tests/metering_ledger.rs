//! The audit ledger rolls old records into daily totals and never loses a count.
//!
//! Random records (origins, providers, models, times over ~100 days, priced or not)
//! are recorded under random roll-up policies and clocks, with extra roll-ups at random
//! points. The summary per origin, the daily chart over the whole range and both
//! exports must add up to exactly what a naive sum over every record gives.

use std::collections::BTreeMap;

use keyfob_core::metering::audit::{AuditFilter, DailyTotal, Totals, CSV_HEADER};
use keyfob_core::metering::{AuditLedger, AuditRecord, LocalClock, RollupPolicy, Usage};
use proptest::prelude::*;

const DAY_MS: u64 = 86_400_000;
const START_DAY: u64 = 20_000;
const ORIGINS: [&str; 3] = [
    "https://a.example",
    "https://b.example",
    "http://localhost:5173",
];
const PROVIDERS: [&str; 3] = ["openai", "anthropic", "gemini"];

fn record() -> impl Strategy<Value = AuditRecord> {
    (
        0..100 * DAY_MS,
        0..3usize,
        0..3usize,
        proptest::option::of(prop_oneof![
            Just("gpt-4o"),
            Just("claude-haiku-4-5"),
            Just("m,\"x\"")
        ]),
        (0..5_000u64, 0..5_000u64, 0..100u64),
        proptest::option::of(0..10_000_000u64),
        prop_oneof![Just(200u16), Just(0), Just(402), Just(500)],
    )
        .prop_map(
            |(t, o, p, model, (input, output, cached), cost, status)| AuditRecord {
                time_ms: START_DAY * DAY_MS + t,
                origin: ORIGINS[o].into(),
                provider: PROVIDERS[p].into(),
                model: model.map(str::to_string),
                path: "/v1/x".into(),
                status,
                usage: Usage {
                    input_tokens: input,
                    output_tokens: output,
                    cache_read_tokens: cached.min(input),
                    ..Usage::default()
                },
                usage_complete: true,
                cost_nano_usd: cost,
                duration_ms: 1,
                ..AuditRecord::default()
            },
        )
}

/// A step: record one (at a clock some hours after it) or roll up at a later time.
#[derive(Debug, Clone)]
enum Step {
    Record(Box<AuditRecord>, u64),
    RollUp(u64),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        5 => (record(), 0..72u64).prop_map(|(r, h)| Step::Record(Box::new(r), h)),
        1 => (0..200u64).prop_map(Step::RollUp),
    ];
    proptest::collection::vec(step, 1..150)
}

fn naive(records: &[AuditRecord], origin: &str) -> (Totals, BTreeMap<String, Totals>) {
    let mut total = Totals::default();
    let mut by: BTreeMap<String, Totals> = BTreeMap::new();
    for r in records.iter().filter(|r| r.origin == origin) {
        for t in [&mut total, by.entry(r.provider.clone()).or_default()] {
            t.requests += 1;
            t.errors += u64::from(r.status == 0 || r.status >= 400);
            t.input_tokens += r.usage.input_tokens;
            t.output_tokens += r.usage.output_tokens;
            t.cache_read_tokens += r.usage.cache_read_tokens;
            t.cost_nano_usd += r.cost_nano_usd.unwrap_or(0);
            t.unpriced_requests += u64::from(r.cost_nano_usd.is_none());
        }
    }
    (total, by)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn roll_ups_keep_every_total_exact(
        steps in steps(),
        keep_days in 0..40u32,
        max_records in 0..30usize,
        offset in -720..840i32,
    ) {
        let policy = RollupPolicy { keep_days, max_records, ..RollupPolicy::default() };
        let mut ledger = AuditLedger::default();
        let mut all = Vec::new();
        let mut now = START_DAY * DAY_MS;
        for step in steps {
            match step {
                Step::Record(r, hours) => {
                    now = now.max(r.time_ms + hours * 3_600_000);
                    let clock = LocalClock { now_ms: now, utc_offset_minutes: offset };
                    all.push((*r).clone());
                    ledger.record(*r, &clock, &policy);
                }
                Step::RollUp(hours) => {
                    now += hours * 3_600_000;
                    let clock = LocalClock { now_ms: now, utc_offset_minutes: offset };
                    ledger.roll_up(&clock, &policy);
                }
            }
            prop_assert!(ledger.records().count() <= max_records);
        }
        for origin in ORIGINS {
            let (total, by) = naive(&all, origin);
            let summary = ledger.summary(origin);
            prop_assert_eq!(summary.total.totals, total);
            let got_by: BTreeMap<String, Totals> =
                summary.by_provider.iter().map(|(k, v)| (k.clone(), v.totals)).collect();
            prop_assert_eq!(got_by, by);
        }
        // The chart over the whole range holds every request once.
        let clock = LocalClock { now_ms: now + DAY_MS, utc_offset_minutes: offset };
        let days = u32::try_from(clock.today() - START_DAY as i64 + 2).unwrap_or(0);
        let series = ledger.daily_series(None, &clock, days);
        let charted: u64 = series.iter().map(|p| p.usage.totals.requests).sum();
        let charted_tokens: u64 = series.iter().map(|p| p.usage.totals.input_tokens).sum();
        prop_assert_eq!(charted, all.len() as u64);
        prop_assert_eq!(charted_tokens, all.iter().map(|r| r.usage.input_tokens).sum::<u64>());
        // Daily totals are unique per key and sorted.
        let keys: Vec<_> = ledger
            .daily_totals()
            .iter()
            .map(|d: &DailyTotal| (d.day, d.origin.clone(), d.provider.clone(), d.model.clone()))
            .collect();
        prop_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        // Storage round trip, and exports that hold everything.
        let stored = serde_json::to_string(&ledger).expect("serialises");
        let back: AuditLedger = serde_json::from_str(&stored).expect("parses");
        prop_assert_eq!(&back, &ledger);
        let everything = AuditFilter::default();
        let json: serde_json::Value = serde_json::from_str(&ledger.export_json(&everything)).expect("json");
        let exported: u64 = json["records"].as_array().map_or(0, |a| a.len() as u64)
            + json["dailyTotals"]
                .as_array()
                .map_or(0, |a| a.iter().map(|d| d["requests"].as_u64().unwrap_or(0)).sum());
        prop_assert_eq!(exported, all.len() as u64);
        let csv = ledger.export_csv(&everything);
        prop_assert!(csv.starts_with(CSV_HEADER));
        let rows = ledger.records().count() + ledger.daily_totals().len();
        prop_assert_eq!(csv.matches("\r\nrequest,").count() + csv.matches("\r\ndaily,").count(), rows);
    }
}

#[test]
fn a_summary_only_shows_the_asking_origin() {
    let mut ledger = AuditLedger::default();
    let clock = LocalClock::utc(START_DAY * DAY_MS);
    for (origin, tokens) in [(ORIGINS[0], 5), (ORIGINS[1], 700)] {
        let r = AuditRecord {
            time_ms: clock.now_ms,
            origin: origin.into(),
            provider: "openai".into(),
            status: 200,
            usage: Usage {
                input_tokens: tokens,
                ..Usage::default()
            },
            cost_nano_usd: Some(1),
            ..AuditRecord::default()
        };
        ledger.record(r, &clock, &RollupPolicy::default());
    }
    let mine = ledger.summary(ORIGINS[0]);
    assert_eq!(mine.total.totals.input_tokens, 5);
    assert_eq!(mine.by_provider.len(), 1);
    let nobody = ledger.summary("https://c.example");
    assert_eq!(nobody.total.totals.requests, 0);
    assert!(nobody.by_provider.is_empty());
}
