//! Budget reservations under interleaved concurrent requests.
//!
//! Random sequences of reserve / settle / release / next-day operations across two
//! origins stand in for requests that overlap in any order. After every step:
//! - committed + reserved ≤ limit + the largest single reservation admitted, for every
//!   limit of every origin (requests never use more than they reserved here);
//! - a reservation was admitted exactly when every limit had headroom before it;
//! - committed spending equals the sum of what was settled (total window).

use keyfob_core::metering::{
    Amount, BudgetBook, BudgetLimit, LocalClock, Period, ReservationId, Settlement,
};
use keyfob_core::CoreError;
use proptest::prelude::*;

const ORIGINS: [&str; 2] = ["https://a.example", "https://b.example"];
const DAY_MS: u64 = 86_400_000;

#[derive(Debug, Clone)]
enum Op {
    Reserve {
        origin: usize,
        tokens: u64,
        cost: Option<u64>,
    },
    /// Settle the `pick`-th open reservation with `percent` of what it reserved.
    Settle {
        pick: usize,
        percent: u64,
        exact: bool,
    },
    Release {
        pick: usize,
    },
    NextDay,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, 0..400u64, proptest::option::weighted(0.9, 0..2_000u64))
            .prop_map(|(origin, tokens, cost)| Op::Reserve { origin, tokens, cost }),
        3 => (any::<usize>(), 0..=100u64, any::<bool>())
            .prop_map(|(pick, percent, exact)| Op::Settle { pick, percent, exact }),
        1 => any::<usize>().prop_map(|pick| Op::Release { pick }),
        1 => Just(Op::NextDay),
    ]
}

fn limits() -> impl Strategy<Value = Vec<BudgetLimit>> {
    let one = (
        prop_oneof![
            Just(Period::Day),
            Just(Period::Week),
            Just(Period::Month),
            Just(Period::Total)
        ],
        proptest::option::of(0..1_500u64),
        proptest::option::of(0..6_000u64),
    )
        .prop_map(|(period, max_tokens, max_cost_nano_usd)| BudgetLimit {
            period,
            max_tokens,
            max_cost_nano_usd,
        });
    proptest::collection::vec(one, 0..3)
}

struct Open {
    id: ReservationId,
    origin: usize,
    amount: Amount,
}

fn headroom(
    book: &BudgetBook,
    origin: &str,
    limits: &[BudgetLimit],
    est: Amount,
    clock: &LocalClock,
) -> bool {
    let reserved = book.reserved(origin);
    limits.iter().all(|l| {
        let spent = book.spent(origin, l.period, clock);
        let tokens_ok = l
            .max_tokens
            .is_none_or(|m| spent.tokens + reserved.tokens < m);
        let cost_ok = l.max_cost_nano_usd.is_none_or(|m| {
            est.cost_nano_usd.is_some()
                && spent.cost_nano_usd + reserved.cost_nano_usd.unwrap_or(0) < m
        });
        tokens_ok && cost_ok
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn concurrent_reservations_overshoot_by_at_most_one(
        limits_a in limits(),
        limits_b in limits(),
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let all_limits = [limits_a, limits_b];
        let mut book = BudgetBook::default();
        let mut clock = LocalClock::utc(20_000 * DAY_MS);
        let mut open: Vec<Open> = Vec::new();
        // Largest reservation admitted per origin (tokens, cost).
        let mut largest = [(0u64, 0u64); 2];
        // Everything ever settled per origin (the total window never resets).
        let mut settled = [0u64; 2];

        for op in ops {
            match op {
                Op::Reserve { origin, tokens, cost } => {
                    let est = Amount { tokens, cost_nano_usd: cost };
                    let o = ORIGINS[origin];
                    let room = headroom(&book, o, &all_limits[origin], est, &clock);
                    match book.reserve(o, &all_limits[origin], est, &clock) {
                        Ok(id) => {
                            prop_assert!(room, "admitted without headroom");
                            let l = &mut largest[origin];
                            l.0 = l.0.max(tokens);
                            l.1 = l.1.max(cost.unwrap_or(0));
                            open.push(Open { id, origin, amount: est });
                        }
                        Err(CoreError::BudgetExceeded(_)) => prop_assert!(!room, "refused with headroom"),
                        Err(other) => prop_assert!(false, "unexpected {other:?}"),
                    }
                }
                Op::Settle { pick, percent, exact } if !open.is_empty() => {
                    let r = open.remove(pick % open.len());
                    let used = Amount {
                        tokens: r.amount.tokens * percent / 100,
                        cost_nano_usd: r.amount.cost_nano_usd.map(|c| c * percent / 100),
                    };
                    let settlement = if exact { Settlement::Exact(used) } else { Settlement::AtLeast(used) };
                    let committed = book.settle(r.id, settlement, &clock);
                    let want = if exact { used } else { r.amount };
                    prop_assert_eq!(committed, Some(want));
                    prop_assert_eq!(book.settle(r.id, settlement, &clock), None, "settled twice");
                    settled[r.origin] += want.tokens;
                }
                Op::Release { pick } if !open.is_empty() => {
                    let r = open.remove(pick % open.len());
                    prop_assert!(book.release(r.id));
                }
                Op::NextDay => clock.now_ms += DAY_MS,
                _ => {}
            }
            prop_assert_eq!(book.open_reservations(), open.len());
            for (i, origin) in ORIGINS.iter().enumerate() {
                let reserved = book.reserved(origin);
                let want_reserved: u64 = open.iter().filter(|r| r.origin == i).map(|r| r.amount.tokens).sum();
                prop_assert_eq!(reserved.tokens, want_reserved);
                prop_assert_eq!(book.spent(origin, Period::Total, &clock).tokens, settled[i]);
                for l in &all_limits[i] {
                    let spent = book.spent(origin, l.period, &clock);
                    if let Some(max) = l.max_tokens {
                        prop_assert!(spent.tokens + reserved.tokens <= max + largest[i].0,
                            "{origin} {:?}: {} + {} > {} + {}", l.period, spent.tokens, reserved.tokens, max, largest[i].0);
                    }
                    if let Some(max) = l.max_cost_nano_usd {
                        let reserved_cost = reserved.cost_nano_usd.unwrap_or(0);
                        prop_assert!(spent.cost_nano_usd + reserved_cost <= max + largest[i].1,
                            "{origin} {:?}: cost {} + {} > {} + {}", l.period, spent.cost_nano_usd, reserved_cost, max, largest[i].1);
                    }
                }
            }
        }
    }

    #[test]
    fn once_spent_reaches_the_limit_every_request_is_refused(
        max in 1..10_000u64,
        spend in proptest::collection::vec(1..5_000u64, 1..10),
        next in 0..5_000u64,
    ) {
        let clock = LocalClock::utc(0);
        let limits = [BudgetLimit { period: Period::Total, max_tokens: Some(max), max_cost_nano_usd: None }];
        let mut book = BudgetBook::default();
        let o = ORIGINS[0];
        for s in spend {
            book.commit(o, Amount { tokens: s, cost_nano_usd: Some(0) }, &clock);
        }
        let spent = book.spent(o, Period::Total, &clock).tokens;
        let got = book.reserve(o, &limits, Amount { tokens: next, cost_nano_usd: Some(0) }, &clock);
        prop_assert_eq!(got.is_ok(), spent < max);
    }
}

#[test]
fn the_budget_error_is_a_402_with_a_stable_code() {
    let clock = LocalClock::utc(0);
    let mut book = BudgetBook::default();
    let limits = [BudgetLimit {
        period: Period::Day,
        max_tokens: Some(10),
        max_cost_nano_usd: None,
    }];
    book.commit(
        ORIGINS[0],
        Amount {
            tokens: 10,
            cost_nano_usd: Some(0),
        },
        &clock,
    );
    let err = book
        .reserve(ORIGINS[0], &limits, Amount::ZERO, &clock)
        .expect_err("over budget");
    assert_eq!((err.code(), err.http_status()), ("BUDGET_EXCEEDED", 402));
    let body: serde_json::Value = serde_json::from_str(&err.to_json_body()).expect("json");
    assert_eq!(body["error"]["source"], "keyfob");
    // The next day has a fresh daily window.
    let tomorrow = LocalClock::utc(DAY_MS);
    assert!(book
        .reserve(ORIGINS[0], &limits, Amount::ZERO, &tomorrow)
        .is_ok());
}

#[test]
fn spending_survives_a_restart_and_reservations_do_not() {
    let clock = LocalClock::utc(0);
    let mut book = BudgetBook::default();
    let limits = [BudgetLimit {
        period: Period::Total,
        max_tokens: Some(100),
        max_cost_nano_usd: None,
    }];
    let a = book
        .reserve(
            ORIGINS[0],
            &limits,
            Amount {
                tokens: 80,
                cost_nano_usd: Some(0),
            },
            &clock,
        )
        .expect("room");
    book.settle(
        a,
        Settlement::Exact(Amount {
            tokens: 70,
            cost_nano_usd: Some(0),
        }),
        &clock,
    );
    let _in_flight = book
        .reserve(
            ORIGINS[0],
            &limits,
            Amount {
                tokens: 20,
                cost_nano_usd: Some(0),
            },
            &clock,
        )
        .expect("room");
    let stored = serde_json::to_string(&book).expect("serialises");
    let mut restarted: BudgetBook = serde_json::from_str(&stored).expect("parses");
    assert_eq!(restarted.open_reservations(), 0);
    assert_eq!(
        restarted.spent(ORIGINS[0], Period::Total, &clock).tokens,
        70
    );
    assert!(restarted
        .reserve(ORIGINS[0], &limits, Amount::ZERO, &clock)
        .is_ok());
}
