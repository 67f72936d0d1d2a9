//! When an unlocked wallet locks itself: after `minutes` without activity. The glue
//! persists the last activity and checks on a timer and before every use, so a worker
//! that slept through the deadline still locks before serving anything.

/// Idle minutes before locking when the user has not chosen another value.
pub const DEFAULT_AUTO_LOCK_MINUTES: u32 = 15;

/// True once more than `minutes` have passed since `last_activity_ms`.
/// A clock that went backwards counts as no time passed.
pub fn idle_expired(last_activity_ms: u64, now_ms: u64, minutes: u32) -> bool {
    now_ms.saturating_sub(last_activity_ms) > u64::from(minutes) * 60_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_only_after_the_idle_time() {
        let start = 1_000_000;
        assert!(!idle_expired(start, start + 15 * 60_000, 15));
        assert!(idle_expired(start, start + 15 * 60_000 + 1, 15));
        assert!(idle_expired(start, start + 60_001, 1));
    }

    #[test]
    fn a_clock_going_backwards_does_not_lock() {
        assert!(!idle_expired(5_000_000, 1_000, 1));
    }
}
