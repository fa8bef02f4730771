//! `shep calendar add-working-days` and `shep calendar is-working-day` (DESIGN §6).

use jiff::civil::Date;

use super::Failure;
use crate::calendar::Calendar;

/// Parses a `YYYY-MM-DD` argument.
pub fn parse_date(what: &str, s: &str) -> Result<Date, Failure> {
    s.parse::<Date>()
        .map_err(|e| Failure::usage(format!("{what}: '{s}' is not a date YYYY-MM-DD ({e})")))
}

/// The N-th working day after `from`, `from` not counted.
pub fn add_working_days(cal: &Calendar, from: &str, days: u32) -> Result<String, Failure> {
    if days > 10_000 {
        return Err(Failure::usage("--days: at most 10000"));
    }
    let from = parse_date("--from", from)?;
    Ok(cal.add_working_days(from, days).to_string())
}

/// `true` or `false`.
pub fn is_working_day(cal: &Calendar, date: &str) -> Result<String, Failure> {
    Ok(cal.is_working_day(parse_date("DATE", date)?).to_string())
}
