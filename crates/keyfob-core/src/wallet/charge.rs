//! One rule for what a request costs, used by the budget and the audit log alike.
//!
//! | how it ended | budget | recorded cost |
//! |---|---|---|
//! | never sent (refused, or the caller left before its body was complete) | released | $0 |
//! | sent, no provider answered (`fetch` failed: unreachable, TLS, a refused redirect) | released | $0 |
//! | sent, no answer in time, or aborted before the answer began | at least the reservation | the same |
//! | answered with a status outside 2xx | what the provider reported, else nothing | the same |
//! | answered 2xx, final usage arrived | exactly that | the same |
//! | answered 2xx, usage incomplete (stream cut, no report) | the larger of usage and reservation | the same |
//!
//! The recorded cost is the amount the budget committed, to the nano-dollar; an unknown
//! price stays unknown in both (never $0).
//!
//! A background response is one charge split over two exchanges
//! ([`crate::metering::background`]): its creation settles by the rule above (no usage
//! yet: at least the reservation), and the call that reads its usage later is charged
//! only the usage beyond what the creation already was (`credit`).

use crate::metering::{
    self, background, Amount, BudgetBook, LocalClock, Metered, ReservationId, Settlement,
};

/// How an exchange ended, as the glue saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Nothing went upstream (the caller went away first).
    NotSent,
    /// The upstream `fetch` failed before any response: nobody answered.
    Unreachable,
    /// No response headers in time.
    TimedOut,
    /// The caller aborted (before or during the response).
    Aborted,
    /// The response body ended normally.
    Finished,
    /// The response body broke off (network error mid-stream).
    Broken,
}

impl End {
    /// The error code the audit log records for this ending, if it is a failure.
    pub fn error_code(self) -> Option<&'static str> {
        match self {
            End::Unreachable | End::Broken => Some("UPSTREAM_UNREACHABLE"),
            End::TimedOut => Some("UPSTREAM_TIMEOUT"),
            End::NotSent | End::Aborted | End::Finished => None,
        }
    }
}

/// What the budget was charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charged {
    pub tokens: u64,
    /// `None` when the model's price is unknown.
    pub cost_nano_usd: Option<u64>,
}

/// How a reservation ends, given how the exchange ended.
pub fn settlement(
    end: End,
    status: Option<u16>,
    metered: Option<&Metered>,
    reported: Amount,
) -> Option<Settlement> {
    match (end, status) {
        (End::NotSent | End::Unreachable, None) => None,
        (_, None) => Some(Settlement::AtLeast(reported)),
        (_, Some(s)) if !(200..300).contains(&s) => Some(Settlement::Exact(reported)),
        _ if metered.is_some_and(|m| m.complete) => Some(Settlement::Exact(reported)),
        _ => Some(Settlement::AtLeast(reported)),
    }
}

/// Settles (or releases) `reservation` by the rule above and returns what was charged.
/// `credit` is what was already charged for the usage `metered` reports (a background
/// response's creation; [`Amount::ZERO`] for every other call).
#[allow(clippy::too_many_arguments)]
pub fn charge(
    budgets: &mut BudgetBook,
    reservation: Option<ReservationId>,
    end: End,
    status: Option<u16>,
    metered: Option<&Metered>,
    credit: Amount,
    provider: &str,
    model: Option<&str>,
    clock: &LocalClock,
) -> Charged {
    let reported = metered
        .and_then(|m| m.usage)
        .map_or(Amount::ZERO, |u| Amount {
            tokens: u.total_tokens(),
            cost_nano_usd: metering::cost_of_usage(provider, model, &u),
        });
    let reported = background::beyond(reported, credit);
    let free = Charged {
        tokens: 0,
        cost_nano_usd: Some(0),
    };
    let Some(reservation) = reservation else {
        return free; // nothing was reserved: nothing was sent
    };
    match settlement(end, status, metered, reported) {
        None => {
            budgets.release(reservation);
            free
        }
        Some(rule) => match budgets.settle(reservation, rule, clock) {
            Some(amount) => Charged {
                tokens: amount.tokens,
                cost_nano_usd: amount.cost_nano_usd,
            },
            None => free,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metering::{Period, Usage};

    const SITE: &str = "https://app.example";

    fn metered(complete: bool) -> Metered {
        Metered {
            usage: Some(Usage {
                input_tokens: 100,
                output_tokens: 50,
                ..Usage::default()
            }),
            model: None,
            complete,
        }
    }

    /// Reserves 1000 + 500 tokens of gpt-4o, ends as given; returns (charged, spent).
    fn run(end: End, status: Option<u16>, m: Option<Metered>) -> (Charged, u64) {
        let clock = LocalClock::utc(0);
        let mut book = BudgetBook::default();
        let estimate = Amount {
            tokens: 1500,
            cost_nano_usd: Some(7_500_000),
        };
        let id = book
            .reserve(SITE, &[], estimate, &clock)
            .expect("no limits");
        let charged = charge(
            &mut book,
            Some(id),
            end,
            status,
            m.as_ref(),
            Amount::ZERO,
            "openai",
            Some("gpt-4o"),
            &clock,
        );
        assert_eq!(
            book.open_reservations(),
            0,
            "every path ends the reservation"
        );
        let spent = book.spent(SITE, Period::Total, &clock);
        assert_eq!(Some(spent.cost_nano_usd), charged.cost_nano_usd.or(Some(0)));
        assert_eq!(spent.tokens, charged.tokens);
        (charged, spent.cost_nano_usd)
    }

    #[test]
    fn nothing_sent_or_nobody_answered_costs_nothing() {
        for end in [End::NotSent, End::Unreachable] {
            let (charged, spent) = run(end, None, None);
            assert_eq!((charged.cost_nano_usd, spent), (Some(0), 0), "{end:?}");
        }
    }

    #[test]
    fn sent_without_an_answer_counts_the_reservation() {
        for end in [End::TimedOut, End::Aborted] {
            let (charged, _) = run(end, None, None);
            assert_eq!(charged.cost_nano_usd, Some(7_500_000), "{end:?}");
        }
    }

    #[test]
    fn error_statuses_cost_what_was_reported_or_nothing() {
        for status in [301, 400, 429, 500] {
            assert_eq!(
                run(End::Finished, Some(status), None).0.cost_nano_usd,
                Some(0)
            );
        }
        // 100 × $2.5/M + 50 × $10/M = $0.00075
        let (charged, _) = run(End::Finished, Some(400), Some(metered(false)));
        assert_eq!(charged.cost_nano_usd, Some(750_000));
    }

    #[test]
    fn complete_usage_is_exact_and_incomplete_usage_counts_the_reservation() {
        let (exact, _) = run(End::Finished, Some(200), Some(metered(true)));
        assert_eq!((exact.tokens, exact.cost_nano_usd), (150, Some(750_000)));
        let (cut, _) = run(End::Broken, Some(200), Some(metered(false)));
        assert_eq!((cut.tokens, cut.cost_nano_usd), (1500, Some(7_500_000)));
        let (aborted, _) = run(End::Aborted, Some(200), None);
        assert_eq!(aborted.cost_nano_usd, Some(7_500_000));
    }

    #[test]
    fn a_credit_is_taken_off_the_reported_usage_never_below_zero() {
        let clock = LocalClock::utc(0);
        let mut book = BudgetBook::default();
        let mut read = |credit: Amount| {
            let id = book
                .reserve(SITE, &[], Amount::ZERO, &clock)
                .expect("no limits");
            let m = metered(true); // 150 tokens, $0.00075 of gpt-4o
            charge(
                &mut book,
                Some(id),
                End::Finished,
                Some(200),
                Some(&m),
                credit,
                "openai",
                Some("gpt-4o"),
                &clock,
            )
        };
        let part = read(Amount {
            tokens: 100,
            cost_nano_usd: Some(500_000),
        });
        assert_eq!((part.tokens, part.cost_nano_usd), (50, Some(250_000)));
        let covered = read(Amount {
            tokens: 1500,
            cost_nano_usd: Some(7_500_000),
        });
        assert_eq!((covered.tokens, covered.cost_nano_usd), (0, Some(0)));
        assert_eq!(book.spent(SITE, Period::Total, &clock).tokens, 50);
    }

    #[test]
    fn an_unknown_price_stays_unknown() {
        let clock = LocalClock::utc(0);
        let mut book = BudgetBook::default();
        let unknown = Amount {
            tokens: 10,
            cost_nano_usd: None,
        };
        let id = book.reserve(SITE, &[], unknown, &clock).expect("no limits");
        let m = metered(true);
        let charged = charge(
            &mut book,
            Some(id),
            End::Finished,
            Some(200),
            Some(&m),
            Amount::ZERO,
            "openai",
            Some("gpt-9-unknown"),
            &clock,
        );
        assert_eq!(charged.cost_nano_usd, None);
        assert_eq!(book.spent(SITE, Period::Total, &clock).unpriced_requests, 1);
    }
}
