//! The Kazakhstan working-day calendar (RULES.md, "Working days").
//!
//! Every deadline of the rules is counted in working days: Monday to Friday, except public holidays,
//! the days off that a holiday falling on a weekend moves to the next working day, and the days the
//! Government moves each year by decree (given as configuration). Local time is Asia/Almaty.
//!
//! Pure: no clock, no I/O except [`Calendar::from_yaml`], which only parses text.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// The time zone in which the rules count days: Asia/Almaty (UTC+5).
pub fn almaty() -> TimeZone {
    // The bundled tz database always has this zone; a fixed UTC+5 is the documented fallback.
    TimeZone::get("Asia/Almaty").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(5)))
}

/// The local (Asia/Almaty) calendar date of an instant.
pub fn local_date(at: Timestamp) -> Date {
    at.to_zoned(almaty()).date()
}

/// The first instant of a local (Asia/Almaty) date.
pub fn start_of_day(date: Date) -> Timestamp {
    date.to_zoned(almaty())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The first instant of the day after a local date: when a deadline that ends with that date has
/// passed.
pub fn next_day_start(date: Date) -> Timestamp {
    start_of_day(date.tomorrow().unwrap_or(date))
}

/// The last second of a local date (23:59:59 Asia/Almaty). A deadline "within N working days" ends
/// here on the N-th working day.
pub fn end_of_day(date: Date) -> Timestamp {
    next_day_start(date)
        .checked_sub(1.second())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// An instant as Asia/Almaty local time, for messages: `2026-12-03T23:59:59+05:00`.
pub fn show(at: Timestamp) -> String {
    at.to_zoned(almaty())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// How a public holiday behaves when it falls on a Saturday or Sunday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Holiday {
    /// A national or state holiday: on a weekend, the next working day is a day off.
    National,
    /// 7 January and Kurban Ait: no day off is moved.
    NotMoved,
}

/// The fixed-date public holidays (month, day, kind).
const FIXED_HOLIDAYS: &[(i8, i8, Holiday)] = &[
    (1, 1, Holiday::National),   // New Year
    (1, 2, Holiday::National),   // New Year
    (1, 7, Holiday::NotMoved),   // Orthodox Christmas
    (3, 8, Holiday::National),   // International Women's Day
    (3, 21, Holiday::National),  // Nauryz
    (3, 22, Holiday::National),  // Nauryz
    (3, 23, Holiday::National),  // Nauryz
    (5, 1, Holiday::National),   // Unity Day of the people of Kazakhstan
    (5, 7, Holiday::National),   // Defender of the Fatherland Day
    (5, 9, Holiday::National),   // Victory Day
    (7, 6, Holiday::National),   // Capital Day
    (8, 30, Holiday::National),  // Constitution Day
    (10, 25, Holiday::National), // Republic Day
    (12, 16, Holiday::National), // Independence Day
];

/// First days of Kurban Ait known when this release was made. The calendar file's `kurbanAit`
/// adds or overrides years (the date is set each year).
const KNOWN_KURBAN_AIT: &[(i16, i8, i8)] = &[
    (2018, 8, 21),
    (2019, 8, 11),
    (2020, 7, 31),
    (2021, 7, 20),
    (2022, 7, 9),
    (2023, 6, 28),
    (2024, 6, 16),
    (2025, 6, 6),
    (2026, 5, 27),
];

/// The calendar file of DESIGN §6: government-moved days and Kurban Ait per year.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CalendarFile {
    /// Extra days off (for example a day moved by Government decree).
    #[serde(default)]
    pub days_off: Vec<Date>,
    /// Days made working, whatever the other rules say (for example a Saturday worked in exchange).
    #[serde(default)]
    pub working_days: Vec<Date>,
    /// First day of Kurban Ait per year: a day off, not moved when it falls on a weekend.
    #[serde(default)]
    pub kurban_ait: BTreeMap<i16, Date>,
}

/// A problem with a calendar file.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The YAML does not parse or has fields of the wrong shape.
    #[error("calendar file: {0}")]
    Parse(String),
    /// A date is both a day off and a working day.
    #[error("calendar file: {0} is listed in both daysOff and workingDays")]
    Conflict(Date),
    /// A Kurban Ait date lies in another year than its key.
    #[error("calendar file: kurbanAit.{year} is {date}, which is not in {year}")]
    KurbanYear {
        /// The key.
        year: i16,
        /// The date given.
        date: Date,
    },
}

/// The Kazakhstan working-day calendar: the rules' holidays plus configured moved days.
#[derive(Clone, Debug)]
pub struct Calendar {
    days_off: BTreeSet<Date>,
    working_days: BTreeSet<Date>,
    kurban_ait: BTreeMap<i16, Date>,
    /// Holidays and moved days off of the years in [`PRECOMPUTED`], computed once.
    precomputed: BTreeSet<Date>,
}

/// Years whose holidays are computed when the calendar is built; others are computed on demand.
const PRECOMPUTED: std::ops::RangeInclusive<i16> = 2015..=2060;

impl Default for Calendar {
    fn default() -> Self {
        Self::new(CalendarFile::default()).expect("the built-in calendar is consistent")
    }
}

impl Calendar {
    /// The calendar with the built-in rules and the given moved days.
    pub fn new(file: CalendarFile) -> Result<Self, CalendarError> {
        let days_off: BTreeSet<Date> = file.days_off.into_iter().collect();
        let working_days: BTreeSet<Date> = file.working_days.into_iter().collect();
        if let Some(d) = days_off.intersection(&working_days).next() {
            return Err(CalendarError::Conflict(*d));
        }
        let mut kurban_ait: BTreeMap<i16, Date> = KNOWN_KURBAN_AIT
            .iter()
            .filter_map(|&(y, m, d)| Date::new(y, m, d).ok().map(|date| (y, date)))
            .collect();
        for (year, date) in file.kurban_ait {
            if date.year() != year {
                return Err(CalendarError::KurbanYear { year, date });
            }
            kurban_ait.insert(year, date);
        }
        let mut cal = Self {
            days_off,
            working_days,
            kurban_ait,
            precomputed: BTreeSet::new(),
        };
        let mut all = BTreeSet::new();
        for year in PRECOMPUTED {
            let (holidays, moved) = cal.holidays_of(year);
            all.extend(holidays);
            all.extend(moved);
        }
        cal.precomputed = all;
        Ok(cal)
    }

    /// Parses a calendar file (YAML, DESIGN §6).
    pub fn from_yaml(text: &str) -> Result<Self, CalendarError> {
        let file: CalendarFile = if text.trim().is_empty() {
            CalendarFile::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| CalendarError::Parse(e.to_string()))?
        };
        Self::new(file)
    }

    /// The holidays of a year that the rules name, with the day off moved from a weekend.
    fn holidays_of(&self, year: i16) -> (BTreeSet<Date>, BTreeSet<Date>) {
        let mut holidays = BTreeSet::new();
        let mut on_weekend = Vec::new();
        for &(m, d, kind) in FIXED_HOLIDAYS {
            if let Ok(date) = Date::new(year, m, d) {
                holidays.insert(date);
                if kind == Holiday::National && is_weekend(date) {
                    on_weekend.push(date);
                }
            }
        }
        if let Some(k) = self.kurban_ait.get(&year) {
            holidays.insert(*k);
        }
        // A national or state holiday on a Saturday or Sunday moves its day off to the next working
        // day: the first weekday after it that is neither a holiday nor already a moved day off.
        let mut moved = BTreeSet::new();
        for date in on_weekend {
            let mut d = date;
            for _ in 0..31 {
                d = match d.tomorrow() {
                    Ok(n) => n,
                    Err(_) => break,
                };
                if !is_weekend(d) && !holidays.contains(&d) && !moved.contains(&d) {
                    moved.insert(d);
                    break;
                }
            }
        }
        (holidays, moved)
    }

    /// Whether `date` is a working day in Kazakhstan.
    pub fn is_working_day(&self, date: Date) -> bool {
        if self.working_days.contains(&date) {
            return true;
        }
        if self.days_off.contains(&date) || is_weekend(date) {
            return false;
        }
        if PRECOMPUTED.contains(&date.year()) {
            return !self.precomputed.contains(&date);
        }
        // A moved day off lies within a few days of its holiday, in the same year (no national
        // holiday falls in the last days of December), so the date's own year decides.
        {
            let year = date.year();
            let (holidays, moved) = self.holidays_of(year);
            if holidays.contains(&date) || moved.contains(&date) {
                return false;
            }
        }
        true
    }

    /// The N-th working day after `from` (`from` itself not counted): the last day on which a step
    /// opened on `from` with a deadline of N working days may be done. N = 0 gives `from`.
    pub fn add_working_days(&self, from: Date, days: u32) -> Date {
        let mut d = from;
        let mut left = days;
        // Bounded: even a year of holidays leaves working days every few weeks.
        let mut guard = 0u32;
        while left > 0 && guard < 100_000 {
            guard += 1;
            d = match d.tomorrow() {
                Ok(n) => n,
                Err(_) => return d,
            };
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The working days strictly after `from` up to and including `to`.
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        let mut count = 0;
        let mut d = from;
        while d < to {
            d = match d.tomorrow() {
                Ok(n) => n,
                Err(_) => break,
            };
            if self.is_working_day(d) {
                count += 1;
            }
        }
        count
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cal() -> Calendar {
        Calendar::default()
    }

    #[test]
    fn weekdays_are_working_weekends_are_not() {
        let c = cal();
        assert!(c.is_working_day(date(2026, 12, 3))); // Thursday
        assert!(!c.is_working_day(date(2026, 12, 5))); // Saturday
        assert!(!c.is_working_day(date(2026, 12, 6))); // Sunday
    }

    #[test]
    fn fixed_holidays_are_days_off() {
        let c = cal();
        for (m, d) in [(1, 1), (1, 2), (1, 7), (5, 1), (7, 6), (12, 16)] {
            let day = date(2026, m, d);
            if !is_weekend(day) {
                assert!(!c.is_working_day(day), "{day}");
            }
        }
    }

    #[test]
    fn holiday_on_weekend_moves_to_next_working_day() {
        let c = cal();
        // 8 March 2026 is a Sunday: Monday 9 March is a day off.
        assert!(!c.is_working_day(date(2026, 3, 9)));
        assert!(c.is_working_day(date(2026, 3, 10)));
        // Nauryz 2026: 21 (Sat) and 22 (Sun) move to 24 and 25 March; 23 is a holiday itself.
        for d in [23, 24, 25] {
            assert!(!c.is_working_day(date(2026, 3, d)), "March {d}");
        }
        assert!(c.is_working_day(date(2026, 3, 26)));
        // 30 August 2026 is a Sunday: Monday 31 August is off.
        assert!(!c.is_working_day(date(2026, 8, 31)));
        // 9 May 2026 is a Saturday: Monday 11 May is off.
        assert!(!c.is_working_day(date(2026, 5, 11)));
    }

    #[test]
    fn new_year_on_weekend_moves_across_into_january() {
        let c = cal();
        // 1-2 January 2022 were Saturday and Sunday: 3 and 4 January were days off.
        assert!(!c.is_working_day(date(2022, 1, 3)));
        assert!(!c.is_working_day(date(2022, 1, 4)));
        assert!(c.is_working_day(date(2022, 1, 5)));
    }

    #[test]
    fn seventh_of_january_and_kurban_ait_do_not_move() {
        let c = cal();
        // 7 January 2024 was a Sunday: Monday 8 January 2024 was a working day.
        assert!(c.is_working_day(date(2024, 1, 8)));
        // Kurban Ait 2024 was Sunday 16 June: Monday 17 June was a working day.
        assert!(c.is_working_day(date(2024, 6, 17)));
        // Kurban Ait 2025 was Friday 6 June: a day off.
        assert!(!c.is_working_day(date(2025, 6, 6)));
    }

    #[test]
    fn year_boundary_counting() {
        let c = cal();
        // From Wednesday 30 Dec 2026: 31 Dec (Thu) is day 1, 1-2 Jan are holidays (Fri, Sat),
        // 3 Jan Sunday, 4 Jan Mon day 2 (2 Jan on Saturday moves its day off to Monday 4 Jan!).
        assert!(!c.is_working_day(date(2027, 1, 4)));
        assert_eq!(
            c.add_working_days(date(2026, 12, 30), 1),
            date(2026, 12, 31)
        );
        assert_eq!(c.add_working_days(date(2026, 12, 30), 2), date(2027, 1, 5));
        assert_eq!(c.add_working_days(date(2026, 12, 30), 3), date(2027, 1, 6));
        // 7 January 2027 is Thursday, a holiday.
        assert_eq!(c.add_working_days(date(2026, 12, 30), 4), date(2027, 1, 8));
    }

    #[test]
    fn add_working_days_skips_weekends() {
        let c = cal();
        // Thursday 3 Dec 2026 + 2 working days = Monday 7 Dec.
        assert_eq!(c.add_working_days(date(2026, 12, 3), 2), date(2026, 12, 7));
        assert_eq!(c.add_working_days(date(2026, 12, 3), 0), date(2026, 12, 3));
        // From a Saturday, day 1 is Monday.
        assert_eq!(c.add_working_days(date(2026, 12, 5), 1), date(2026, 12, 7));
        // 10 working days from Friday 11 Dec 2026: 16 Dec (Wed) is a holiday.
        assert_eq!(
            c.add_working_days(date(2026, 12, 11), 10),
            date(2026, 12, 28)
        );
    }

    #[test]
    fn moved_days_from_the_calendar_file() {
        let c = Calendar::from_yaml(
            "daysOff: [2026-12-17]\nworkingDays: [2026-12-19]\nkurbanAit: {2027: 2027-05-17}\n",
        )
        .unwrap();
        assert!(!c.is_working_day(date(2026, 12, 17)));
        assert!(c.is_working_day(date(2026, 12, 19))); // a Saturday made working
        assert!(!c.is_working_day(date(2027, 5, 17)));
        assert_eq!(
            c.add_working_days(date(2026, 12, 15), 2),
            date(2026, 12, 19)
        );
    }

    #[test]
    fn calendar_file_errors_name_the_problem() {
        let e =
            Calendar::from_yaml("daysOff: [2026-12-17]\nworkingDays: [2026-12-17]\n").unwrap_err();
        assert!(
            e.to_string().contains("both daysOff and workingDays"),
            "{e}"
        );
        let e = Calendar::from_yaml("kurbanAit: {2027: 2026-05-17}\n").unwrap_err();
        assert!(e.to_string().contains("kurbanAit.2027"), "{e}");
        let e = Calendar::from_yaml("holidays: []\n").unwrap_err();
        assert!(e.to_string().contains("holidays"), "{e}");
    }

    #[test]
    fn almaty_is_utc_plus_five() {
        let ts: Timestamp = "2026-12-03T19:30:00Z".parse().unwrap();
        assert_eq!(local_date(ts), date(2026, 12, 4));
        let ts: Timestamp = "2026-12-03T18:59:59Z".parse().unwrap();
        assert_eq!(local_date(ts), date(2026, 12, 3));
        assert_eq!(
            end_of_day(date(2026, 12, 3)).to_string(),
            "2026-12-03T18:59:59Z"
        );
        assert_eq!(
            show(end_of_day(date(2026, 12, 3))),
            "2026-12-03T23:59:59+05:00"
        );
        assert_eq!(
            next_day_start(date(2026, 12, 3)).to_string(),
            "2026-12-03T19:00:00Z"
        );
    }

    #[test]
    fn working_days_between_counts_exclusive_start() {
        let c = cal();
        assert_eq!(
            c.working_days_between(date(2026, 12, 3), date(2026, 12, 7)),
            2
        );
        assert_eq!(
            c.working_days_between(date(2026, 12, 7), date(2026, 12, 3)),
            0
        );
    }
}
