//! Technological breaks as a route enforces them by its own clock (p.48 planned and emergency
//! breaks, p.50 reboots, p.62 temporary disconnection): during a break of its contour, every message
//! is refused with `MAINTENANCE_MODE`, saying which break, why and until when.

use jiff::Timestamp;

use super::config::WindowConfig;
use super::fault::{ErrorCode, Refusal};
use crate::api::Contour;
use crate::calendar::show;

/// Whether a break covers `now`: from `start` (included) to `end` (excluded; open-ended without).
pub fn covers(w: &WindowConfig, now: Timestamp) -> bool {
    w.start <= now && w.end.is_none_or(|e| now < e)
}

/// The break in progress at `now`, ending last when several overlap (the caller's retry should
/// wait for all of them).
pub fn active(windows: &[WindowConfig], now: Timestamp) -> Option<&WindowConfig> {
    windows
        .iter()
        .filter(|w| covers(w, now))
        .max_by_key(|w| w.end.map_or(i128::MAX, |e| e.as_nanosecond()))
}

/// How many breaks are in progress.
pub fn count_active(windows: &[WindowConfig], now: Timestamp) -> usize {
    windows.iter().filter(|w| covers(w, now)).count()
}

/// The refusal during a break: which, why, until when, and `Retry-After`.
pub fn refusal(w: &WindowConfig, contour: Contour, now: Timestamp) -> Refusal {
    let rule = match w.kind.as_str() {
        "Reboot" => "p.50",
        "Decommission" => "p.62",
        _ => "p.48",
    };
    let until = match w.end {
        Some(e) => format!("until {}", show(e)),
        None => "until further notice".to_string(),
    };
    let r = Refusal::new(
        ErrorCode::MaintenanceMode,
        format!(
            "technological break in the {contour} contour ({rule}): {} {} since {}, {until}: {}",
            w.kind,
            w.source,
            show(w.start),
            w.reason
        ),
    );
    match w.end {
        Some(e) => r.retry_after(e.duration_since(now).as_secs().max(1) as u64),
        None => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start: &str, end: Option<&str>) -> WindowConfig {
        WindowConfig {
            source: "minjust/db-upgrade".into(),
            kind: "Planned".into(),
            start: start.parse().unwrap(),
            end: end.map(|e| e.parse().unwrap()),
            reason: "database upgrade".into(),
        }
    }

    #[test]
    fn refuses_during_and_allows_around_a_break() {
        let ws = [w(
            "2026-12-05T21:00:00+05:00",
            Some("2026-12-06T06:00:00+05:00"),
        )];
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        assert!(active(&ws, at("2026-12-05T20:59:59+05:00")).is_none());
        assert!(active(&ws, at("2026-12-05T21:00:00+05:00")).is_some());
        assert!(active(&ws, at("2026-12-06T06:00:00+05:00")).is_none());
        let r = refusal(&ws[0], Contour::Production, at("2026-12-06T05:00:00+05:00"));
        assert_eq!(r.code, ErrorCode::MaintenanceMode);
        assert_eq!(r.retry_after, Some(3600));
        assert!(
            r.message.contains("until 2026-12-06T06:00:00+05:00"),
            "{}",
            r.message
        );
        assert!(r.message.contains("p.48") && r.message.contains("database upgrade"));
    }

    #[test]
    fn open_ended_and_overlapping_breaks() {
        let ws = [
            w(
                "2026-12-05T21:00:00+05:00",
                Some("2026-12-05T22:00:00+05:00"),
            ),
            w("2026-12-05T21:30:00+05:00", None),
        ];
        let now = "2026-12-05T21:45:00+05:00".parse().unwrap();
        assert_eq!(count_active(&ws, now), 2);
        let a = active(&ws, now).unwrap();
        assert!(a.end.is_none());
        assert!(
            refusal(a, Contour::Test, now)
                .message
                .contains("until further notice")
        );
    }
}
