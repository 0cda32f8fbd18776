//! Calendar arithmetic shared by deadlines and retention periods.
//!
//! GDPR deadlines ("one month of receipt") and retention periods ("7 years")
//! add months to dates. Both follow the same rule: the same day of the month,
//! or the last day of the target month when it is shorter (31 January plus
//! one month is 28 or 29 February). That is chrono's `checked_add_months` and
//! the EU rule for periods of months (Regulation 1182/71, Art. 3(2)(c)).
//!
//! The civil-date functions work on plain integers (proleptic Gregorian,
//! days since 1970-01-01, H. Hinnant's algorithms) because retention
//! evaluation adds periods millions of times a second; [`add_months`] wraps
//! them for `NaiveDate`. Timestamps are parsed by [`parse_timestamp`], with a
//! fast path for the common `YYYY-MM-DDTHH:MM:SSZ` form.
//!
//! ```
//! use chrono::NaiveDate;
//! use custodia_core::calendar::add_months;
//!
//! let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
//! assert_eq!(add_months(d(2026, 1, 31).unwrap(), 1), d(2026, 2, 28));
//! assert_eq!(add_months(d(2028, 1, 31).unwrap(), 1), d(2028, 2, 29));
//! assert_eq!(add_months(d(2026, 12, 31).unwrap(), 1), d(2027, 1, 31));
//! ```

use chrono::{Datelike, NaiveDate};

use crate::Timestamp;
use crate::error::{Error, echo};

/// The number of days in `month` (1–12) of `year`, proleptic Gregorian.
#[inline]
pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `(year, month, day)` plus `months` months: the same day, or the last day
/// of the target month when it is shorter.
#[inline]
pub fn add_months_civil(year: i64, month: i64, day: i64, months: i64) -> (i64, i64, i64) {
    let total = year * 12 + (month - 1) + months;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    (year, month, day.min(days_in_month(year, month)))
}

/// The date `months` months after `date` (see [`add_months_civil`]); `None`
/// past chrono's range.
pub fn add_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    let (year, month, day) = add_months_civil(
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
        i64::from(months),
    );
    NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
#[inline]
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count since 1970-01-01: `(year, month 1–12, day 1–31)`.
#[inline]
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses an RFC 3339 timestamp into UTC, with a fast path for the common
/// `YYYY-MM-DDTHH:MM:SSZ` form and chrono's parser for everything else.
///
/// ```
/// use custodia_core::calendar::parse_timestamp;
///
/// let t = parse_timestamp("2026-01-31T23:00:00+01:00")?;
/// assert_eq!(t, parse_timestamp("2026-01-31T22:00:00Z")?);
/// assert!(parse_timestamp("31/01/2026").is_err());
/// # Ok::<(), custodia_core::Error>(())
/// ```
pub fn parse_timestamp(s: &str) -> Result<Timestamp, Error> {
    if let Some(t) = parse_plain_utc(s.as_bytes()) {
        return Ok(t);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .map_err(|e| Error::InvalidTimestamp {
            input: echo(s),
            source: e,
        })
}

/// `YYYY-MM-DDTHH:MM:SSZ` without chrono's general parser, or `None`.
fn parse_plain_utc(b: &[u8]) -> Option<Timestamp> {
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() != 20
        || (b[4], b[7], b[10], b[13], b[16], b[19]) != (b'-', b'-', b'T', b':', b':', b'Z')
    {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(0..4)?).ok()?,
        digits(5..7)?,
        digits(8..10)?,
    )?;
    Some(
        date.and_hms_opt(digits(11..13)?, digits(14..16)?, digits(17..19)?)?
            .and_utc(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Months;

    #[test]
    fn civil_round_trip_and_month_addition_match_chrono() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for offset in (-800_000i64..800_000).step_by(997) {
            let date = epoch + chrono::TimeDelta::days(offset);
            let (y, m, d) = civil_from_days(offset);
            assert_eq!(
                (y, m, d),
                (
                    i64::from(date.year()),
                    i64::from(date.month()),
                    i64::from(date.day())
                )
            );
            assert_eq!(days_from_civil(y, m, d), offset);
            for months in [1u32, 2, 11, 12, 13, 85] {
                assert_eq!(
                    add_months(date, months),
                    date.checked_add_months(Months::new(months))
                );
            }
        }
    }

    #[test]
    fn fast_and_general_timestamp_parsers_agree() {
        for s in [
            "2026-02-28T23:59:59Z",
            "1970-01-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
        ] {
            let general = chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.to_utc())
                .ok();
            assert_eq!(parse_timestamp(s).ok(), general, "{s}");
        }
        let err = parse_timestamp("yesterday").unwrap_err();
        assert!(err.to_string().contains("yesterday"), "{err}");
    }
}
