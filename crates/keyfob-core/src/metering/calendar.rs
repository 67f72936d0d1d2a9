//! Local calendar arithmetic for budget windows and daily roll-ups.
//!
//! The core reads no clock and knows no time zone: the caller passes the time and the
//! browser's current offset from UTC in a [`LocalClock`]. Days are numbered from
//! 1970-01-01 (day 0); weeks start on Monday; months are calendar months.

use serde::{Deserialize, Serialize};

const MS_PER_DAY: i64 = 86_400_000;
/// UTC offsets in use run from −12:00 to +14:00; anything past ±18:00 is refused.
const MAX_OFFSET_MINUTES: i32 = 18 * 60;

/// "Now", as the caller's clock and time zone see it.
///
/// `utc_offset_minutes` is local time minus UTC (east is positive): in JS that is
/// `-new Date().getTimezoneOffset()`. Out-of-range offsets are clamped to ±18 h.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalClock {
    pub now_ms: u64,
    #[serde(default)]
    pub utc_offset_minutes: i32,
}

impl LocalClock {
    /// A clock in UTC.
    pub fn utc(now_ms: u64) -> Self {
        Self {
            now_ms,
            utc_offset_minutes: 0,
        }
    }

    /// The local day number of `now_ms`.
    pub fn today(&self) -> i64 {
        self.day_of(self.now_ms)
    }

    /// The local day number of an instant, in this clock's time zone.
    pub fn day_of(&self, ms: u64) -> i64 {
        let offset = i64::from(
            self.utc_offset_minutes
                .clamp(-MAX_OFFSET_MINUTES, MAX_OFFSET_MINUTES),
        ) * 60_000;
        // u64 ms fit in i64 until the year 292 million; saturate beyond.
        let ms = i64::try_from(ms).unwrap_or(i64::MAX - MS_PER_DAY);
        (ms + offset).div_euclid(MS_PER_DAY)
    }
}

/// The day number of the Monday that starts `day`'s week.
pub fn week_start(day: i64) -> i64 {
    // Day 0 (1970-01-01) was a Thursday: index 3 counting from Monday.
    day - (day + 3).rem_euclid(7)
}

/// A month number that grows by one per calendar month (`year * 12 + month - 1`).
pub fn month_index(day: i64) -> i64 {
    let (y, m, _) = civil_from_days(day);
    y * 12 + i64::from(m) - 1
}

/// `YYYY-MM-DD` for a day number.
pub fn iso_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian (year, month 1–12, day 1–31) of a day number.
///
/// The usual era-based conversion: 400-year eras of 146 097 days, with years counted
/// from March so the leap day falls at the end of the year.
pub fn civil_from_days(day: i64) -> (i64, u32, u32) {
    let z = day + 719_468; // days from 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // d is in 1..=31 and m in 1..=12 by construction.
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        // 2000-02-29 exists (divisible by 400); 2100-02-29 does not.
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(47_540), (2100, 2, 28));
        assert_eq!(civil_from_days(47_541), (2100, 3, 1));
        assert_eq!(iso_date(20_454), "2026-01-01");
    }

    #[test]
    fn consecutive_days_advance_the_calendar_by_one() {
        let mut prev = civil_from_days(-800_000);
        for day in -799_999..800_000 {
            let cur = civil_from_days(day);
            let next_in_month = (prev.0, prev.1, prev.2 + 1);
            let next_month = if prev.1 == 12 {
                (prev.0 + 1, 1, 1)
            } else {
                (prev.0, prev.1 + 1, 1)
            };
            assert!(cur == next_in_month || cur == next_month, "{day}: {cur:?}");
            prev = cur;
        }
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-01-05 was a Monday (day 20458); the week of 2026-01-11 (Sunday) starts then.
        assert_eq!(week_start(20_458), 20_458);
        assert_eq!(week_start(20_464), 20_458);
        assert_eq!(week_start(20_465), 20_465);
        assert_eq!(week_start(0), -3);
    }

    #[test]
    fn months_and_offsets() {
        assert_eq!(month_index(0), 1970 * 12);
        assert_eq!(month_index(31), 1970 * 12 + 1);
        // 2026-01-01T23:30Z is already 2026-01-02 in UTC+1, still 01-01 in UTC-1.
        let ms = 20_454 * 86_400_000 + 23 * 3_600_000 + 30 * 60_000;
        let east = LocalClock {
            now_ms: ms,
            utc_offset_minutes: 60,
        };
        let west = LocalClock {
            now_ms: ms,
            utc_offset_minutes: -60,
        };
        assert_eq!(east.today(), 20_455);
        assert_eq!(west.today(), 20_454);
        assert_eq!(LocalClock::utc(ms).today(), 20_454);
        let absurd = LocalClock {
            now_ms: ms,
            utc_offset_minutes: i32::MAX,
        };
        assert_eq!(absurd.today(), 20_455);
    }
}
