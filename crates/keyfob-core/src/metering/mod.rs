//! Metering and policy: what a request may do, what it costs, and the record of it.
//!
//! Pure logic, like the rest of the core: the glue passes the time (as a
//! [`LocalClock`]), the bytes and the stored state in, and stores the state that comes
//! back out ([`BudgetBook`], [`AuditLedger`], and a [`GrantPolicy`] per origin — all
//! `serde`). Nothing here buffers a whole response.
//!
//! # The order of one request
//!
//! These are building blocks: the order in which they run for every caller (expiry,
//! note, body facts, policy, estimate, approval, reservation, then the meter and one
//! settlement and audit record) is [`crate::wallet`]'s, in `wallet/request.rs` and
//! `wallet/charge.rs`. No entry point calls them in its own order.
//!
//! # Modules
//! - [`sse`], [`usage`]: the incremental SSE splitter and per-provider usage reading.
//! - [`prices`]: the price table (`as_of` per family) and integer cost arithmetic.
//! - [`budget`]: reservations and committed spending per origin and period.
//! - [`policy`]: allow-lists, gated surfaces, expiry, the approval threshold.
//! - [`background`]: background responses, charged once across their creation and the
//!   retrieval that reports their usage.
//! - [`request_body`]: model, caps and stream flag from the body; `include_usage`.
//! - [`body_scan`]: the incremental body reader behind it (`json_lex`, `json_facts`,
//!   `multipart_scan` do the reading).
//! - [`context`]: `x-keyfob-reason` / `x-keyfob-context` validation.
//! - [`audit`]: audit records, daily roll-ups, summaries, JSON and CSV export.
//! - [`calendar`]: local days, weeks and months.

pub mod audit;
pub mod background;
pub mod body_scan;
pub mod budget;
pub mod calendar;
pub mod context;
mod json_facts;
mod json_lex;
mod json_scan;
mod multipart_scan;
pub mod policy;
pub mod prices;
pub mod request_body;
pub mod sse;
pub mod usage;

pub use audit::{AuditFilter, AuditLedger, AuditRecord, RollupPolicy, UsageSummary};
pub use budget::{Amount, BudgetBook, BudgetLimit, Period, ReservationId, Settlement};
pub use calendar::LocalClock;
pub use context::AppNote;
pub use policy::{GrantPolicy, ModelAllowList, PolicyForm, Surface};
pub use request_body::RequestFacts;
pub use usage::{Dialect, Metered, ResponseMeter, Usage};

use crate::CoreError;

/// The reservation for a request: estimated tokens, and their cost at list price
/// (`None` if the model has no price; zero for a request that names no model).
pub fn estimate(provider: &str, facts: &RequestFacts) -> Amount {
    let input = facts.estimated_input_tokens();
    let output = facts.estimated_output_tokens();
    let cost = match &facts.model {
        None => Some(0),
        Some(model) => {
            prices::find_price(provider, model).map(|p| prices::estimate_nano_usd(p, input, output))
        }
    };
    Amount {
        tokens: input.saturating_add(output),
        cost_nano_usd: cost,
    }
}

/// The cost of real usage: the provider's own report where trusted, else the table.
pub fn cost_of_usage(provider: &str, model: Option<&str>, usage: &Usage) -> Option<u64> {
    prices::cost_of(provider, model, usage)
}

/// How to settle a reservation once the response is over.
///
/// - the provider's final usage arrived: exactly that;
/// - the provider answered with an error status (≥ 300): what was reported, else
///   nothing (providers do not bill failed requests);
/// - otherwise (2xx without a final report, a stream cut short, no response at all,
///   status 0): at least the reservation.
pub fn settlement(
    provider: &str,
    model: Option<&str>,
    metered: &Metered,
    status: u16,
) -> Settlement {
    let amount = metered.usage.map_or(Amount::ZERO, |u| Amount {
        tokens: u.total_tokens(),
        cost_nano_usd: cost_of_usage(provider, model, &u),
    });
    if metered.complete || status >= 300 {
        Settlement::Exact(amount)
    } else {
        Settlement::AtLeast(amount)
    }
}

/// Nano-USD as a JS number of dollars (for display; totals stay integers).
pub fn usd_from_nano(nano: u64) -> f64 {
    nano as f64 / 1e9
}

/// Dollars as typed in the UI to nano-USD (0 … 1 000 000, rounded to the nano).
pub fn nano_from_usd(usd: f64) -> Result<u64, CoreError> {
    if !usd.is_finite() || !(0.0..=1_000_000.0).contains(&usd) {
        return Err(CoreError::InvalidInput(
            "an amount must be between $0 and $1,000,000".into(),
        ));
    }
    Ok((usd * 1e9).round() as u64)
}

/// Nano-USD as an exact decimal number of dollars, trailing zeros trimmed
/// (`2500` → `0.0000025`, `5_000_000_000` → `5`).
pub fn usd_decimal(nano: u64) -> String {
    let (whole, frac) = (nano / 1_000_000_000, nano % 1_000_000_000);
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:09}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Nano-USD for people: `$5.00`, `$12.34`, and small amounts with their digits
/// (`$0.001245`).
pub fn format_usd(nano: u64) -> String {
    if nano % 10_000_000 == 0 {
        let cents = nano / 10_000_000;
        format!("${}.{:02}", cents / 100, cents % 100)
    } else {
        format!("${}", usd_decimal(nano))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_format_exactly() {
        assert_eq!(usd_decimal(0), "0");
        assert_eq!(usd_decimal(2_500), "0.0000025");
        assert_eq!(usd_decimal(5_000_000_000), "5");
        assert_eq!(usd_decimal(12_345_000_001), "12.345000001");
        assert_eq!(format_usd(5_000_000_000), "$5.00");
        assert_eq!(format_usd(12_340_000_000), "$12.34");
        assert_eq!(format_usd(1_245_000), "$0.001245");
        assert_eq!(format_usd(0), "$0.00");
        assert_eq!(nano_from_usd(5.25), Ok(5_250_000_000));
        assert_eq!(nano_from_usd(0.000_000_001), Ok(1));
        assert!(nano_from_usd(-1.0).is_err() && nano_from_usd(f64::NAN).is_err());
        assert!(nano_from_usd(1e7).is_err());
        assert!((usd_from_nano(1_500_000_000) - 1.5).abs() < 1e-12);
    }

    fn facts(model: Option<&str>, max: Option<u64>, body_bytes: u64) -> RequestFacts {
        RequestFacts {
            model: model.map(str::to_string),
            max_output_tokens: max,
            choices: 1,
            stream: false,
            background: false,
            response_id: None,
            generates: true,
            billable: true,
            body_bytes,
        }
    }

    #[test]
    fn estimates_price_the_cap_and_the_body() {
        // 4000 bytes → 1000 input tokens; 500 output; GPT-4o: 1000×2.5 + 500×10 = $0.0075.
        let est = estimate("openai", &facts(Some("gpt-4o"), Some(500), 4000));
        assert_eq!(
            est,
            Amount {
                tokens: 1500,
                cost_nano_usd: Some(7_500_000)
            }
        );
        let unknown = estimate("openai", &facts(Some("gpt-9"), Some(500), 4000));
        assert_eq!(
            unknown,
            Amount {
                tokens: 1500,
                cost_nano_usd: None
            }
        );
        let listing = estimate("openai", &facts(None, None, 0));
        assert_eq!(listing, Amount::ZERO);
    }

    #[test]
    fn settlements_follow_completeness_and_status() {
        let usage = Usage {
            input_tokens: 10,
            output_tokens: 5,
            ..Usage::default()
        };
        let done = Metered {
            usage: Some(usage),
            model: None,
            complete: true,
        };
        let cut = Metered {
            complete: false,
            ..done.clone()
        };
        let none = Metered {
            usage: None,
            model: None,
            complete: false,
        };
        let priced = Amount {
            tokens: 15,
            cost_nano_usd: Some(75_000),
        };
        assert_eq!(
            settlement("openai", Some("gpt-4o"), &done, 200),
            Settlement::Exact(priced)
        );
        assert_eq!(
            settlement("openai", Some("gpt-4o"), &cut, 200),
            Settlement::AtLeast(priced)
        );
        assert_eq!(
            settlement("openai", Some("gpt-4o"), &none, 429),
            Settlement::Exact(Amount::ZERO)
        );
        assert_eq!(
            settlement("openai", Some("gpt-4o"), &none, 0),
            Settlement::AtLeast(Amount::ZERO)
        );
        let unpriced = settlement("openai", Some("nope"), &done, 200);
        assert_eq!(
            unpriced,
            Settlement::Exact(Amount {
                tokens: 15,
                cost_nano_usd: None
            })
        );
    }
}
