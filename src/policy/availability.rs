//! App.7: the availability index `I = (T - P) / T * 100 %` of a service for a month, where T is the
//! period of possible availability in hours (24/7/365) and P the hours of unavailability.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

use crate::api::AvailabilityIndex;
use crate::calendar::start_of_day;

/// The first day of the month of `date`, and of the next month.
pub fn month_bounds(date: Date) -> (Date, Date) {
    let first = date.first_of_month();
    let next = first.checked_add(1.month()).unwrap_or(first);
    (first, next)
}

/// Hours covered by the union of `intervals` within `[from, to)`.
pub fn covered_hours(intervals: &[(Timestamp, Timestamp)], from: Timestamp, to: Timestamp) -> f64 {
    let mut clipped: Vec<(Timestamp, Timestamp)> = intervals
        .iter()
        .filter_map(|&(s, e)| {
            let s = s.max(from);
            let e = e.min(to);
            (s < e).then_some((s, e))
        })
        .collect();
    clipped.sort();
    let mut total = 0i128;
    let mut current: Option<(Timestamp, Timestamp)> = None;
    for (s, e) in clipped {
        current = match current {
            Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += ce.as_nanosecond() - cs.as_nanosecond();
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    if let Some((cs, ce)) = current {
        total += ce.as_nanosecond() - cs.as_nanosecond();
    }
    total as f64 / 3_600_000_000_000.0
}

/// The index of one month (Asia/Almaty), counting T up to `now` for the current month.
pub fn index_for_month(
    month_of: Date,
    downtime: &[(Timestamp, Timestamp)],
    now: Timestamp,
) -> Option<AvailabilityIndex> {
    let (first, next) = month_bounds(month_of);
    let from = start_of_day(first);
    let to = start_of_day(next).min(now);
    if to <= from {
        return None;
    }
    let t = (to.as_nanosecond() - from.as_nanosecond()) as f64 / 3_600_000_000_000.0;
    let p = covered_hours(downtime, from, to);
    let i = (t - p) / t * 100.0;
    Some(AvailabilityIndex {
        month: first.strftime("%Y-%m").to_string(),
        period_hours: format!("{t:.2}"),
        downtime_hours: format!("{p:.2}"),
        index: format!("{i:.2}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_full_month_with_overlapping_breaks() {
        // November 2026 has 720 hours; breaks of 2h and 3h overlapping by 1h make 4h down.
        let down = [
            (
                ts("2026-11-10T22:00:00+05:00"),
                ts("2026-11-11T00:00:00+05:00"),
            ),
            (
                ts("2026-11-10T23:00:00+05:00"),
                ts("2026-11-11T02:00:00+05:00"),
            ),
        ];
        let i = index_for_month(date(2026, 11, 15), &down, ts("2026-12-03T00:00:00Z")).unwrap();
        assert_eq!(i.month, "2026-11");
        assert_eq!(i.period_hours, "720.00");
        assert_eq!(i.downtime_hours, "4.00");
        // (720 - 4) / 720 * 100 = 99.444...
        assert_eq!(i.index, "99.44");
    }

    #[test]
    fn the_current_month_counts_up_to_now_and_clips_breaks() {
        let down = [(
            ts("2026-11-30T23:00:00+05:00"),
            ts("2026-12-01T01:00:00+05:00"),
        )];
        let i = index_for_month(date(2026, 12, 3), &down, ts("2026-12-03T00:00:00+05:00")).unwrap();
        assert_eq!(i.period_hours, "48.00");
        assert_eq!(i.downtime_hours, "1.00");
        assert_eq!(i.index, "97.92");
    }

    #[test]
    fn no_breaks_is_one_hundred() {
        let i = index_for_month(date(2026, 2, 1), &[], ts("2026-12-03T00:00:00Z")).unwrap();
        assert_eq!(
            (i.period_hours.as_str(), i.index.as_str()),
            ("672.00", "100.00")
        );
    }
}
