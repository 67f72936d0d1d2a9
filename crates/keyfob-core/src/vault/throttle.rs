//! Backoff after failed unlocks, so a script with access to the popup cannot run through
//! a password list at Argon2 speed.
//!
//! - The first [`FREE_ATTEMPTS`] failures cost nothing.
//! - From then on each attempt waits 30 s after the last failure, doubling with every
//!   further failure and capped at 15 min: 5 failures → 30 s, 6 → 60 s, … 10+ → 15 min.
//!
//! The state is stored by the caller in `chrome.storage.local` (it is not secret) so a
//! browser restart does not reset it. Time comes in from outside; a clock that moved
//! backwards counts as "no time has passed".

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// Failures allowed before any delay applies.
pub const FREE_ATTEMPTS: u32 = 5;
const BASE_DELAY_MS: u64 = 30_000;
const MAX_DELAY_MS: u64 = 15 * 60_000;

/// Failed unlock attempts since the last success.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UnlockThrottle {
    failures: u32,
    last_failure_ms: u64,
}

impl UnlockThrottle {
    /// `Ok` if an unlock may be tried at `now_ms`, else
    /// [`CoreError::UnlockBackoff`] with the time left.
    pub fn check(&self, now_ms: u64) -> Result<(), CoreError> {
        let delay = self.delay_ms();
        let elapsed = now_ms.saturating_sub(self.last_failure_ms);
        if delay == 0 || elapsed >= delay {
            return Ok(());
        }
        Err(CoreError::UnlockBackoff {
            retry_after_ms: delay - elapsed,
        })
    }

    /// Counts a failed attempt at `now_ms`.
    pub fn record_failure(&mut self, now_ms: u64) {
        self.failures = self.failures.saturating_add(1);
        self.last_failure_ms = now_ms;
    }

    /// The counter to use when the stored one was damaged: as if the free attempts were
    /// used up at `now_ms`, so a damaged record never grants extra guesses.
    pub fn after_damage(now_ms: u64) -> Self {
        Self {
            failures: FREE_ATTEMPTS,
            last_failure_ms: now_ms,
        }
    }

    /// Clears the count after a successful unlock.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Failed attempts still free of any delay (0 once the back-off has begun).
    pub fn free_attempts_left(&self) -> u32 {
        FREE_ATTEMPTS.saturating_sub(self.failures)
    }

    /// The wait that applies after the last failure (0 while attempts are free).
    fn delay_ms(&self) -> u64 {
        if self.failures < FREE_ATTEMPTS {
            return 0;
        }
        // 2^5 × 30 s already exceeds the cap, so the shift never needs to go further.
        let doublings = (self.failures - FREE_ATTEMPTS).min(5);
        (BASE_DELAY_MS << doublings).min(MAX_DELAY_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(failures: u32, at: u64) -> UnlockThrottle {
        let mut t = UnlockThrottle::default();
        for _ in 0..failures {
            t.record_failure(at);
        }
        t
    }

    fn wait(t: &UnlockThrottle, now: u64) -> Option<u64> {
        match t.check(now) {
            Ok(()) => None,
            Err(CoreError::UnlockBackoff { retry_after_ms }) => Some(retry_after_ms),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }

    #[test]
    fn first_five_failures_are_free() {
        for n in 0..FREE_ATTEMPTS {
            assert_eq!(wait(&after(n, 1_000), 1_000), None, "{n} failures");
        }
    }

    #[test]
    fn delay_doubles_from_thirty_seconds_and_caps_at_fifteen_minutes() {
        let expected = [
            (5, 30_000),
            (6, 60_000),
            (7, 120_000),
            (8, 240_000),
            (9, 480_000),
        ];
        for (n, ms) in expected {
            assert_eq!(wait(&after(n, 1_000), 1_000), Some(ms), "{n} failures");
        }
        for n in [10, 11, 50, u32::MAX] {
            let mut t = after(0, 0);
            t.failures = n;
            t.last_failure_ms = 1_000;
            assert_eq!(wait(&t, 1_000), Some(900_000), "{n} failures");
        }
    }

    #[test]
    fn waiting_counts_down_and_then_allows() {
        let t = after(6, 10_000);
        assert_eq!(wait(&t, 10_000 + 59_000), Some(1_000));
        assert_eq!(wait(&t, 10_000 + 60_000), None);
        assert_eq!(
            wait(&t, 5_000),
            Some(60_000),
            "clock went backwards: full delay"
        );
    }

    #[test]
    fn free_attempts_count_down_to_zero() {
        assert_eq!(after(0, 1).free_attempts_left(), FREE_ATTEMPTS);
        assert_eq!(after(3, 1).free_attempts_left(), 2);
        assert_eq!(after(5, 1).free_attempts_left(), 0);
        assert_eq!(after(9, 1).free_attempts_left(), 0);
    }

    #[test]
    fn reset_and_saturation() {
        let mut t = after(7, 1);
        t.reset();
        assert_eq!(t.failures(), 0);
        assert_eq!(t.check(1), Ok(()));
        t.failures = u32::MAX;
        t.record_failure(2);
        assert_eq!(t.failures(), u32::MAX);
    }

    #[test]
    fn serde_shape_is_stable() {
        let t = after(2, 77);
        let json = serde_json::to_string(&t).expect("json");
        assert_eq!(json, r#"{"failures":2,"lastFailureMs":77}"#);
        let back: UnlockThrottle = serde_json::from_str(&json).expect("back");
        assert_eq!(back, t);
        let empty: UnlockThrottle = serde_json::from_str("{}").expect("defaults");
        assert_eq!(empty, UnlockThrottle::default());
    }

    #[test]
    fn a_damaged_counter_starts_in_back_off() {
        let t = UnlockThrottle::after_damage(1_000);
        assert_eq!(t.free_attempts_left(), 0);
        assert!(matches!(
            t.check(1_001),
            Err(CoreError::UnlockBackoff { retry_after_ms }) if retry_after_ms == BASE_DELAY_MS - 1
        ));
        assert!(t.check(1_000 + BASE_DELAY_MS).is_ok());
    }
}
