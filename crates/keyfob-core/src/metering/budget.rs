//! Budgets per origin: reserve before the request, settle with the real usage after.
//!
//! Invariants:
//! - **Admission.** A request is admitted while the origin has headroom under every
//!   limit: `committed + reserved < limit` (reserved = its requests still in flight).
//!   Its own reservation is then added. So however many requests race, committed plus
//!   reserved never exceeds `limit + one reservation` (the last one admitted) as long
//!   as no request uses more than it reserved; a request that does (input larger than
//!   estimated, say) is still counted in full, and the next request is then refused.
//!   A limit of 0 refuses everything.
//! - **Unknown prices.** A USD limit cannot be enforced for a model without a price, so
//!   such a request is refused while a USD limit is set (its tokens are still limited by
//!   any token limit). Without a USD limit, its tokens count and its cost is unknown.
//! - **Durability.** Committed spending is serialisable and must be stored after each
//!   settle; it survives worker and browser restarts. Reservations are in memory only:
//!   a restart ends every in-flight request, and with it its reservation.
//! - **Windows.** Day, week (from Monday) and month are local calendar windows from the
//!   [`LocalClock`] passed in; spending is attributed to the windows current when it is
//!   settled. Spending is tracked for every period whether or not a limit is set, so a
//!   limit added later sees what was already spent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::audit::AuditLedger;
use super::calendar::{month_index, week_start, LocalClock};
use super::format_usd;
use crate::CoreError;

/// A budget period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Period {
    Day,
    Week,
    Month,
    Total,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Day, Period::Week, Period::Month, Period::Total];

    fn window(self, clock: &LocalClock) -> i64 {
        let today = clock.today();
        match self {
            Period::Day => today,
            Period::Week => week_start(today),
            Period::Month => month_index(today),
            Period::Total => 0,
        }
    }

    fn adjective(self) -> &'static str {
        match self {
            Period::Day => "daily",
            Period::Week => "weekly",
            Period::Month => "monthly",
            Period::Total => "total",
        }
    }
}

/// One limit of a grant: tokens and/or USD per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetLimit {
    pub period: Period,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost_nano_usd: Option<u64>,
}

/// Tokens and cost of a request (estimated or real). `cost_nano_usd` is `None` when the
/// model's price is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Amount {
    pub tokens: u64,
    pub cost_nano_usd: Option<u64>,
}

impl Amount {
    /// Nothing: what a request that was refused or failed before generating costs.
    pub const ZERO: Amount = Amount {
        tokens: 0,
        cost_nano_usd: Some(0),
    };

    /// The larger of each field; an unknown cost stays unknown only if both are.
    fn max(self, other: Amount) -> Amount {
        Amount {
            tokens: self.tokens.max(other.tokens),
            cost_nano_usd: match (self.cost_nano_usd, other.cost_nano_usd) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// How a reservation ends once the response is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// The provider's final usage arrived (or the request certainly cost nothing).
    Exact(Amount),
    /// The usage is not known to be complete (a stream cut short, a 2xx without a usage
    /// report): commit the larger of this and the reservation.
    AtLeast(Amount),
}

/// Identifies a reservation while its request is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReservationId(pub u64);

/// Spending in one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spent {
    /// Which window (a day number, a week's Monday, a month index, or 0 for total).
    pub window: i64,
    pub tokens: u64,
    /// Cost of the requests with a known price.
    pub cost_nano_usd: u64,
    /// Requests whose cost is unknown (their tokens are in `tokens`).
    pub unpriced_requests: u64,
}

/// A limit with its current use, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetStatus {
    pub limit: BudgetLimit,
    pub spent: Spent,
    pub reserved: Amount,
}

#[derive(Debug, Clone)]
struct Reservation {
    origin: String,
    amount: Amount,
}

/// Committed spending per origin (persisted) and open reservations (not persisted).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BudgetBook {
    #[serde(default)]
    spent: BTreeMap<String, BTreeMap<Period, Spent>>,
    #[serde(skip)]
    open: BTreeMap<ReservationId, Reservation>,
    #[serde(skip)]
    next_id: u64,
}

impl PartialEq for BudgetBook {
    /// Books are equal when their committed spending is (reservations are transient).
    fn eq(&self, other: &Self) -> bool {
        self.spent == other.spent
    }
}

impl BudgetBook {
    /// Admits a request of `estimate` for `origin` under `limits`, or refuses it with
    /// `BudgetExceeded` (nothing must then be sent upstream).
    pub fn reserve(
        &mut self,
        origin: &str,
        limits: &[BudgetLimit],
        estimate: Amount,
        clock: &LocalClock,
    ) -> Result<ReservationId, CoreError> {
        let reserved = self.reserved(origin);
        for limit in limits {
            let spent = self.spent(origin, limit.period, clock);
            let what = limit.period.adjective();
            if let Some(max) = limit.max_tokens {
                if spent.tokens.saturating_add(reserved.tokens) >= max {
                    return Err(CoreError::BudgetExceeded(format!(
                        "the {what} limit of {max} tokens is used up"
                    )));
                }
            }
            if let Some(max) = limit.max_cost_nano_usd {
                if estimate.cost_nano_usd.is_none() {
                    return Err(CoreError::BudgetExceeded(format!(
                        "this model's price is unknown, so the {what} limit of {} cannot be enforced",
                        format_usd(max)
                    )));
                }
                let reserved_cost = reserved.cost_nano_usd.unwrap_or(0);
                if spent.cost_nano_usd.saturating_add(reserved_cost) >= max {
                    return Err(CoreError::BudgetExceeded(format!(
                        "the {what} limit of {} is used up",
                        format_usd(max)
                    )));
                }
            }
        }
        self.next_id += 1;
        let id = ReservationId(self.next_id);
        self.open.insert(
            id,
            Reservation {
                origin: origin.to_string(),
                amount: estimate,
            },
        );
        Ok(id)
    }

    /// Ends a reservation and commits what the request cost. Returns the committed
    /// amount, or `None` if `id` is not open (already settled, or lost in a restart).
    pub fn settle(
        &mut self,
        id: ReservationId,
        settlement: Settlement,
        clock: &LocalClock,
    ) -> Option<Amount> {
        let reservation = self.open.remove(&id)?;
        let amount = match settlement {
            Settlement::Exact(amount) => amount,
            Settlement::AtLeast(amount) => amount.max(reservation.amount),
        };
        self.commit(&reservation.origin, amount, clock);
        Some(amount)
    }

    /// Ends a reservation without committing anything (the request was never sent).
    pub fn release(&mut self, id: ReservationId) -> bool {
        self.open.remove(&id).is_some()
    }

    /// Commits spending that had no reservation.
    pub fn commit(&mut self, origin: &str, amount: Amount, clock: &LocalClock) {
        let (cost, unpriced) = match amount.cost_nano_usd {
            Some(cost) => (cost, 0),
            None => (0, 1),
        };
        self.add_spent(origin, clock, amount.tokens, cost, unpriced);
    }

    fn add_spent(
        &mut self,
        origin: &str,
        clock: &LocalClock,
        tokens: u64,
        cost: u64,
        unpriced: u64,
    ) {
        let windows = self.spent.entry(origin.to_string()).or_default();
        for period in Period::ALL {
            let window = period.window(clock);
            let spent = windows.entry(period).or_default();
            if spent.window != window {
                *spent = Spent {
                    window,
                    ..Spent::default()
                };
            }
            spent.tokens = spent.tokens.saturating_add(tokens);
            spent.cost_nano_usd = spent.cost_nano_usd.saturating_add(cost);
            spent.unpriced_requests = spent.unpriced_requests.saturating_add(unpriced);
        }
    }

    /// Replaces committed spending with what `ledger` recorded (when the stored book was
    /// damaged): every record and daily total, in time order, in its own windows.
    pub fn rebuild_from(&mut self, ledger: &AuditLedger, clock: &LocalClock) {
        self.spent.clear();
        let at = |ms: u64| LocalClock {
            now_ms: ms,
            utc_offset_minutes: clock.utc_offset_minutes,
        };
        let offset_ms = i64::from(clock.utc_offset_minutes) * 60_000;
        for daily in ledger.daily_totals() {
            let start = (daily.day * 86_400_000 - offset_ms).max(0);
            let when = at(u64::try_from(start).unwrap_or(0));
            let t = &daily.totals;
            let tokens = t.input_tokens.saturating_add(t.output_tokens);
            self.add_spent(
                &daily.origin,
                &when,
                tokens,
                t.cost_nano_usd,
                t.unpriced_requests,
            );
        }
        let mut records: Vec<_> = ledger.records().collect();
        records.sort_by_key(|r| r.time_ms);
        for r in records {
            let tokens = r.usage.total_tokens();
            let (cost, unpriced) = match r.cost_nano_usd {
                Some(cost) => (cost, 0),
                None => (0, 1),
            };
            self.add_spent(&r.origin, &at(r.time_ms), tokens, cost, unpriced);
        }
    }

    /// What `origin` has committed in the current `period` window.
    pub fn spent(&self, origin: &str, period: Period, clock: &LocalClock) -> Spent {
        let window = period.window(clock);
        self.spent
            .get(origin)
            .and_then(|w| w.get(&period))
            .filter(|s| s.window == window)
            .copied()
            .unwrap_or(Spent {
                window,
                ..Spent::default()
            })
    }

    /// The sum of `origin`'s open reservations (unknown costs count as zero).
    pub fn reserved(&self, origin: &str) -> Amount {
        self.open
            .values()
            .filter(|r| r.origin == origin)
            .fold(Amount::ZERO, |acc, r| Amount {
                tokens: acc.tokens.saturating_add(r.amount.tokens),
                cost_nano_usd: Some(
                    acc.cost_nano_usd
                        .unwrap_or(0)
                        .saturating_add(r.amount.cost_nano_usd.unwrap_or(0)),
                ),
            })
    }

    /// Each limit with what is spent and reserved against it.
    pub fn status(
        &self,
        origin: &str,
        limits: &[BudgetLimit],
        clock: &LocalClock,
    ) -> Vec<BudgetStatus> {
        let reserved = self.reserved(origin);
        limits
            .iter()
            .map(|limit| BudgetStatus {
                limit: *limit,
                spent: self.spent(origin, limit.period, clock),
                reserved,
            })
            .collect()
    }

    /// How many reservations are open.
    pub fn open_reservations(&self) -> usize {
        self.open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = "https://app.example";
    const DAY_MS: u64 = 86_400_000;

    fn tokens(n: u64) -> Amount {
        Amount {
            tokens: n,
            cost_nano_usd: Some(0),
        }
    }

    fn limit(period: Period, max_tokens: u64) -> BudgetLimit {
        BudgetLimit {
            period,
            max_tokens: Some(max_tokens),
            max_cost_nano_usd: None,
        }
    }

    #[test]
    fn admits_while_there_is_headroom_and_overshoots_by_one_reservation_at_most() {
        let clock = LocalClock::utc(0);
        let mut book = BudgetBook::default();
        let limits = [limit(Period::Day, 100)];
        let a = book
            .reserve(SITE, &limits, tokens(60), &clock)
            .expect("room");
        let b = book
            .reserve(SITE, &limits, tokens(60), &clock)
            .expect("60 < 100");
        let refused = book.reserve(SITE, &limits, tokens(1), &clock);
        assert!(
            matches!(refused, Err(CoreError::BudgetExceeded(m)) if m.contains("daily limit of 100 tokens"))
        );
        assert_eq!(book.reserved(SITE).tokens, 120);
        assert_eq!(
            book.settle(a, Settlement::Exact(tokens(10)), &clock),
            Some(tokens(10))
        );
        assert_eq!(book.settle(a, Settlement::Exact(tokens(10)), &clock), None);
        assert!(book.release(b));
        assert_eq!(book.spent(SITE, Period::Day, &clock).tokens, 10);
        // Another origin has its own budget.
        assert!(book
            .reserve("https://b.example", &limits, tokens(500), &clock)
            .is_ok());
        assert_eq!(book.open_reservations(), 1);
    }

    #[test]
    fn a_zero_limit_refuses_everything() {
        let clock = LocalClock::utc(0);
        let mut book = BudgetBook::default();
        assert!(book
            .reserve(SITE, &[limit(Period::Total, 0)], Amount::ZERO, &clock)
            .is_err());
    }

    #[test]
    fn usd_limits_refuse_unknown_prices_and_spent_money() {
        let clock = LocalClock::utc(0);
        let mut book = BudgetBook::default();
        let usd = [BudgetLimit {
            period: Period::Month,
            max_tokens: None,
            max_cost_nano_usd: Some(5_000_000_000),
        }];
        let unknown = Amount {
            tokens: 10,
            cost_nano_usd: None,
        };
        let err = book.reserve(SITE, &usd, unknown, &clock);
        assert!(
            matches!(err, Err(CoreError::BudgetExceeded(m)) if m.contains("unknown") && m.contains("$5.00"))
        );
        // Unknown prices are fine without a USD limit, and counted as unpriced.
        let id = book.reserve(SITE, &[], unknown, &clock).expect("no limit");
        book.settle(id, Settlement::Exact(unknown), &clock);
        assert_eq!(book.spent(SITE, Period::Total, &clock).unpriced_requests, 1);
        let spend = Amount {
            tokens: 1,
            cost_nano_usd: Some(5_000_000_000),
        };
        let id = book.reserve(SITE, &usd, spend, &clock).expect("room");
        book.settle(id, Settlement::Exact(spend), &clock);
        let err = book.reserve(SITE, &usd, Amount::ZERO, &clock);
        assert!(
            matches!(err, Err(CoreError::BudgetExceeded(m)) if m.contains("monthly limit of $5.00 is used up"))
        );
    }

    #[test]
    fn at_least_keeps_the_larger_of_usage_and_reservation() {
        let clock = LocalClock::utc(0);
        let mut book = BudgetBook::default();
        let est = Amount {
            tokens: 100,
            cost_nano_usd: Some(50),
        };
        let id = book.reserve(SITE, &[], est, &clock).expect("ok");
        let partial = Amount {
            tokens: 150,
            cost_nano_usd: Some(20),
        };
        let got = book.settle(id, Settlement::AtLeast(partial), &clock);
        assert_eq!(
            got,
            Some(Amount {
                tokens: 150,
                cost_nano_usd: Some(50)
            })
        );
    }

    #[test]
    fn windows_roll_over_and_spending_round_trips() {
        let mut book = BudgetBook::default();
        // 2026-01-04 (a Sunday) then 2026-01-05 (Monday) then 2026-02-01.
        let sunday = LocalClock::utc(20_457 * DAY_MS);
        let monday = LocalClock::utc(20_458 * DAY_MS);
        let february = LocalClock::utc(20_485 * DAY_MS);
        book.commit(SITE, tokens(5), &sunday);
        book.commit(SITE, tokens(7), &monday);
        assert_eq!(book.spent(SITE, Period::Day, &monday).tokens, 7);
        assert_eq!(book.spent(SITE, Period::Week, &monday).tokens, 7);
        assert_eq!(book.spent(SITE, Period::Month, &monday).tokens, 12);
        assert_eq!(book.spent(SITE, Period::Month, &february).tokens, 0);
        assert_eq!(book.spent(SITE, Period::Total, &february).tokens, 12);
        let json = serde_json::to_string(&book).expect("serialises");
        let back: BudgetBook = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, book);
        assert_eq!(back.spent(SITE, Period::Week, &monday).tokens, 7);
        let status = back.status(SITE, &[limit(Period::Week, 10)], &monday);
        assert_eq!(status[0].spent.tokens, 7);
    }
}
