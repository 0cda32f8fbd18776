//! Calendar-correct retention periods.

use std::fmt;
use std::str::FromStr;

use chrono::{Days, Months, TimeDelta};
use custodia_core::Timestamp;

use crate::Error;
use custodia_core::calendar::{add_months_civil, civil_from_days, days_from_civil};
use custodia_core::echo;

/// The longest period accepted, per component, in years.
pub const MAX_YEARS: u32 = 10_000;
const MAX_MONTHS: u64 = MAX_YEARS as u64 * 12;
const MAX_DAYS: u64 = MAX_YEARS as u64 * 366;
const MAX_SECONDS: u64 = MAX_DAYS * 86_400;

/// A calendar period: months, days and seconds.
///
/// A [`Period`] is a number of months, days and seconds, kept apart because
/// they are not interchangeable: a month is 28 to 31 days and a year 365 or 366.
/// Two spellings parse:
///
/// * short: one or more `<number><unit>` with units `y` (years), `mo`
///   (months), `w` (weeks), `d` (days), `h` (hours), `min` (minutes) and `s`
///   (seconds), each unit at most once: `"3y"`, `"7d"`, `"12h"`, `"1y6mo"`.
///   A bare `m` is refused as ambiguous;
/// * ISO 8601: `P[nY][nM][nW][nD][T[nH][nM][nS]]`: `"P3Y"`, `"P30D"`, `"PT12H"`,
///   `"P1Y2M10DT2H30M"`.
///
/// Negative, fractional and empty periods are refused, and so is any component
/// longer than [`MAX_YEARS`] years, so a typo such as `"30000000d"` fails at load
/// time instead of overflowing later.
///
/// [`Period::after`] adds a period the way a calendar does, in ISO 8601 order:
/// months first (a year is twelve months; the day of month is clamped to the
/// end of a shorter month, so 31 January + 1 month is 28 or 29 February and
/// 29 February 2024 + 1 year is 28 February 2025), then days, then seconds.
/// Timestamps are UTC, where every day has 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Period {
    months: u32,
    days: u32,
    seconds: u64,
}

impl Period {
    /// The empty period: due at the trigger itself.
    pub const ZERO: Period = Period {
        months: 0,
        days: 0,
        seconds: 0,
    };

    /// A period of whole years.
    pub fn years(years: u32) -> Result<Self, Error> {
        Self::new(u64::from(years) * 12, 0, 0)
    }

    /// A period of months, days and seconds, each within [`MAX_YEARS`].
    pub fn new(months: u64, days: u64, seconds: u64) -> Result<Self, Error> {
        let too_long = |what: &str| Error::Duration {
            input: format!("{months} months, {days} days, {seconds} seconds"),
            reason: format!("{what} longer than {MAX_YEARS} years"),
        };
        if months > MAX_MONTHS {
            return Err(too_long("months"));
        }
        if days > MAX_DAYS {
            return Err(too_long("days"));
        }
        if seconds > MAX_SECONDS {
            return Err(too_long("seconds"));
        }
        Ok(Self {
            months: u32::try_from(months).map_err(|_| too_long("months"))?,
            days: u32::try_from(days).map_err(|_| too_long("days"))?,
            seconds,
        })
    }

    /// Whole months (years count twelve).
    pub fn months(&self) -> u32 {
        self.months
    }

    /// Whole days (weeks count seven).
    pub fn days(&self) -> u32 {
        self.days
    }

    /// Seconds (hours and minutes included).
    pub fn seconds(&self) -> u64 {
        self.seconds
    }

    /// Whether the period has no calendar part (no months), so it is a fixed length.
    pub fn is_fixed(&self) -> bool {
        self.months == 0
    }

    /// Whether the period is empty.
    pub fn is_zero(&self) -> bool {
        *self == Self::ZERO
    }

    /// The fixed length of a period without months, or `None` for a calendar one.
    pub fn fixed_length(&self) -> Option<TimeDelta> {
        if !self.is_fixed() {
            return None;
        }
        let seconds = i64::from(self.days) * 86_400 + i64::try_from(self.seconds).ok()?;
        TimeDelta::try_seconds(seconds)
    }

    /// `start` plus this period, calendar-correct (see [`Period`]),
    /// or `None` if the result is beyond the range of a timestamp.
    ///
    /// Months clamp to the target month's last day and keep the time of
    /// day, as chrono and PostgreSQL do, so near a month's end a later start
    /// can be due a few hours earlier on the same day (45 months after
    /// 2027-05-28T06:36 and after 2027-05-30T00:00 are both on 2031-02-28,
    /// at 06:36 and at 00:00); never a whole day earlier.
    pub fn after(&self, start: Timestamp) -> Option<Timestamp> {
        let nanos = start.timestamp_subsec_nanos();
        if nanos >= 1_000_000_000 {
            // A leap second: leave it to chrono.
            return self.after_with_chrono(start);
        }
        let secs = self.after_secs(start.timestamp())?;
        chrono::DateTime::from_timestamp(secs, nanos)
    }

    /// [`Period::after`] on whole seconds since the Unix epoch (the
    /// sub-second part of a timestamp is unchanged by a period), or `None`
    /// beyond the range of a timestamp.
    ///
    /// Integer civil-calendar arithmetic on days since 1970-01-01: the same
    /// result as chrono's `checked_add_months` and `checked_add_days` at a
    /// fraction of the cost, since it is the hot path of every evaluation.
    #[inline]
    pub fn after_secs(&self, start: i64) -> Option<i64> {
        self.after_civil(&CivilTime::new(start))
    }

    /// Whether the period has months (or years), which need calendar
    /// arithmetic; without, it is a fixed number of seconds.
    #[inline]
    pub(crate) fn has_months(&self) -> bool {
        self.months > 0
    }

    /// [`Period::after_secs`] for a period without months: the same result
    /// with no calendar arithmetic.
    #[inline]
    pub(crate) fn after_fixed(&self, start: i64) -> Option<i64> {
        debug_assert!(self.months == 0);
        let total = start
            .checked_add(i64::from(self.days) * 86_400)?
            .checked_add(i64::try_from(self.seconds).ok()?)?;
        let (min, max) = timestamp_range();
        (min..=max).contains(&total).then_some(total)
    }

    /// [`Period::after_secs`] from an instant already split into its date,
    /// so rules sharing a trigger split it once.
    #[inline]
    pub(crate) fn after_civil(&self, start: &CivilTime) -> Option<i64> {
        let mut days = start.days;
        if self.months > 0 {
            let (year, month, day) =
                add_months_civil(start.year, start.month, start.day, i64::from(self.months));
            days = days_from_civil(year, month, day);
        }
        days += i64::from(self.days);
        let total = days
            .checked_mul(86_400)?
            .checked_add(start.second_of_day)?
            .checked_add(i64::try_from(self.seconds).ok()?)?;
        let (min, max) = timestamp_range();
        (min..=max).contains(&total).then_some(total)
    }

    /// [`Period::after`] by chrono's own calendar functions (the reference
    /// the fast path is tested against).
    fn after_with_chrono(&self, start: Timestamp) -> Option<Timestamp> {
        let mut t = start;
        if self.months > 0 {
            t = t.checked_add_months(Months::new(self.months))?;
        }
        if self.days > 0 {
            t = t.checked_add_days(Days::new(u64::from(self.days)))?;
        }
        if self.seconds > 0 {
            t = t.checked_add_signed(TimeDelta::try_seconds(i64::try_from(self.seconds).ok()?)?)?;
        }
        Some(t)
    }
}

/// An instant in whole seconds since the epoch, split into its civil date.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CivilTime {
    days: i64,
    second_of_day: i64,
    year: i64,
    month: i64,
    day: i64,
}

impl CivilTime {
    #[inline]
    pub(crate) fn new(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Self {
            days,
            second_of_day: secs.rem_euclid(86_400),
            year,
            month,
            day,
        }
    }

    /// The same as `CivilTime::new(t.timestamp())`, reading the date from
    /// chrono's own fields instead of recomputing it from a day count.
    #[inline]
    pub(crate) fn from_timestamp(t: &Timestamp) -> Self {
        use chrono::{Datelike, Timelike};
        // The UTC fields, read once (a `DateTime`'s own accessors convert to
        // local time on every call).
        let naive = t.naive_utc();
        let date = naive.date();
        Self {
            days: i64::from(date.num_days_from_ce()) - 719_163,
            second_of_day: i64::from(naive.time().num_seconds_from_midnight()),
            year: i64::from(date.year()),
            month: i64::from(date.month()),
            day: i64::from(date.day()),
        }
    }
}

/// The first and last whole second a timestamp can hold.
#[inline]
fn timestamp_range() -> (i64, i64) {
    const RANGE: (i64, i64) = (
        chrono::DateTime::<chrono::Utc>::MIN_UTC.timestamp(),
        chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp(),
    );
    RANGE
}

impl fmt::Display for Period {
    /// The canonical short form: `3y`, `1y6mo`, `14d`, `36h`, `0d` for zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0d");
        }
        let (years, months) = (self.months / 12, self.months % 12);
        let (hours, rest) = (self.seconds / 3600, self.seconds % 3600);
        let (minutes, seconds) = (rest / 60, rest % 60);
        for (n, unit) in [
            (u64::from(years), "y"),
            (u64::from(months), "mo"),
            (u64::from(self.days), "d"),
            (hours, "h"),
            (minutes, "min"),
            (seconds, "s"),
        ] {
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for Period {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let fail = |reason: &str| Error::Duration {
            input: echo(s),
            reason: reason.to_owned(),
        };
        let text = s.trim();
        if text.is_empty() {
            return Err(fail("empty; write e.g. \"30d\" or \"P30D\""));
        }
        if text.starts_with('-') {
            return Err(fail(
                "negative periods are not allowed: retention counts forward from the trigger",
            ));
        }
        let text = text.strip_prefix('+').unwrap_or(text);
        if text.contains(['.', ',']) {
            return Err(fail(
                "fractional values are not supported; use a smaller unit",
            ));
        }
        if let Some(iso) = text.strip_prefix('P') {
            parse_iso(iso).map_err(|reason| fail(&reason))
        } else {
            parse_short(text).map_err(|reason| fail(&reason))
        }
    }
}

/// Accumulates components and rejects any that is too long.
#[derive(Default)]
struct Parts {
    months: u64,
    days: u64,
    seconds: u64,
}

impl Parts {
    fn add(&mut self, n: u64, unit: Unit) -> Result<(), String> {
        let overflow = || format!("longer than {MAX_YEARS} years");
        let (slot, factor, max) = match unit {
            Unit::Year => (&mut self.months, 12, MAX_MONTHS),
            Unit::Month => (&mut self.months, 1, MAX_MONTHS),
            Unit::Week => (&mut self.days, 7, MAX_DAYS),
            Unit::Day => (&mut self.days, 1, MAX_DAYS),
            Unit::Hour => (&mut self.seconds, 3600, MAX_SECONDS),
            Unit::Minute => (&mut self.seconds, 60, MAX_SECONDS),
            Unit::Second => (&mut self.seconds, 1, MAX_SECONDS),
        };
        let added = n
            .checked_mul(factor)
            .and_then(|v| v.checked_add(*slot))
            .ok_or_else(overflow)?;
        if added > max {
            return Err(overflow());
        }
        *slot = added;
        Ok(())
    }

    fn finish(self) -> Result<Period, String> {
        Period::new(self.months, self.days, self.seconds).map_err(|e| match e {
            Error::Duration { reason, .. } => reason,
            other => other.to_string(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
}

/// Splits off a leading run of ASCII digits as a number.
fn number(text: &str) -> Result<(u64, &str), String> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if end == 0 {
        return Err(match text.chars().next() {
            Some(c) => format!("expected a number, found {c:?}"),
            None => "expected a number at the end".to_owned(),
        });
    }
    let n = text[..end]
        .parse::<u64>()
        .map_err(|_| format!("number too large: longer than {MAX_YEARS} years"))?;
    Ok((n, &text[end..]))
}

fn parse_short(mut text: &str) -> Result<Period, String> {
    let mut parts = Parts::default();
    let mut seen: Vec<Unit> = Vec::new();
    while !text.is_empty() {
        let (n, rest) = number(text)?;
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_end] {
            "y" => Unit::Year,
            "mo" => Unit::Month,
            "w" => Unit::Week,
            "d" => Unit::Day,
            "h" => Unit::Hour,
            "min" => Unit::Minute,
            "s" => Unit::Second,
            "m" => {
                return Err(
                    "ambiguous unit \"m\": write \"mo\" for months or \"min\" for minutes".into(),
                );
            }
            "" => {
                return Err(format!(
                    "number {n} has no unit; units are y, mo, w, d, h, min, s"
                ));
            }
            other => {
                return Err(format!(
                    "unknown unit {:?}; units are y, mo, w, d, h, min, s (or ISO 8601 such as P30D)",
                    echo(other)
                ));
            }
        };
        if seen.contains(&unit) {
            return Err(format!("unit {:?} given twice", &rest[..unit_end]));
        }
        seen.push(unit);
        parts.add(n, unit)?;
        text = &rest[unit_end..];
    }
    parts.finish()
}

fn parse_iso(text: &str) -> Result<Period, String> {
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => {
            if time.is_empty() {
                return Err("ISO 8601: \"T\" must be followed by hours, minutes or seconds".into());
            }
            (date, Some(time))
        }
        None => (text, None),
    };
    if date.is_empty() && time.is_none() {
        return Err("ISO 8601: \"P\" must be followed by at least one component".into());
    }
    let mut parts = Parts::default();
    let date_units = [
        ('Y', Unit::Year),
        ('M', Unit::Month),
        ('W', Unit::Week),
        ('D', Unit::Day),
    ];
    let time_units = [('H', Unit::Hour), ('M', Unit::Minute), ('S', Unit::Second)];
    iso_components(date, &date_units, &mut parts, "date")?;
    if let Some(time) = time {
        iso_components(time, &time_units, &mut parts, "time")?;
    }
    parts.finish()
}

fn iso_components(
    mut text: &str,
    units: &[(char, Unit)],
    parts: &mut Parts,
    section: &str,
) -> Result<(), String> {
    let mut next_allowed = 0;
    while !text.is_empty() {
        let (n, rest) = number(text)?;
        let mut chars = rest.chars();
        let designator = chars
            .next()
            .ok_or_else(|| format!("ISO 8601: number {n} has no designator"))?;
        let position = units
            .iter()
            .position(|(c, _)| *c == designator)
            .ok_or_else(|| {
                format!(
                    "ISO 8601: {designator:?} is not a {section} designator (expected one of {})",
                    units
                        .iter()
                        .map(|(c, _)| c.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
        if position < next_allowed {
            return Err(format!(
                "ISO 8601: {designator:?} out of order or repeated; the order is {}",
                units.iter().map(|(c, _)| c.to_string()).collect::<String>()
            ));
        }
        next_allowed = position + 1;
        parts.add(n, units[position].1)?;
        text = chars.as_str();
    }
    Ok(())
}

impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn civil_time_from_chrono_fields_agrees_with_the_day_count() {
        let mut secs = chrono::DateTime::<Utc>::MIN_UTC.timestamp();
        let max = chrono::DateTime::<Utc>::MAX_UTC.timestamp();
        let step = 86_400 * 997 + 3_607;
        let mut checked = 0;
        while secs <= max {
            let t = chrono::DateTime::from_timestamp(secs, 0).unwrap();
            let (a, b) = (CivilTime::from_timestamp(&t), CivilTime::new(secs));
            assert_eq!(
                (a.days, a.second_of_day, a.year, a.month, a.day),
                (b.days, b.second_of_day, b.year, b.month, b.day),
                "{t}"
            );
            secs += step;
            checked += 1;
        }
        assert!(checked > 1000);
    }

    fn at(y: i32, m: u32, d: u32) -> Timestamp {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn short_and_iso_spellings_agree() {
        assert_eq!(p("3y"), p("P3Y"));
        assert_eq!(p("30d"), p("P30D"));
        assert_eq!(p("12h"), p("PT12H"));
        assert_eq!(p("6mo"), p("P6M"));
        assert_eq!(p("2w"), p("P14D"));
        assert_eq!(p("2w"), p("P2W"));
        assert_eq!(p("90min"), p("PT1H30M"));
        assert_eq!(p("1y6mo"), p("P1Y6M"));
        assert_eq!(p("P1Y2M10DT2H30M"), Period::new(14, 10, 9000).unwrap());
        assert_eq!(p("0d"), Period::ZERO);
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "3y",
            "7d",
            "12h",
            "1y6mo",
            "2w",
            "36h",
            "1h30min",
            "0d",
            "P1Y2M10DT2H30M5S",
        ] {
            let period = p(s);
            assert_eq!(p(&period.to_string()), period, "{s} printed as {period}");
        }
        assert_eq!(p("P3Y").to_string(), "3y");
        assert_eq!(p("2w").to_string(), "14d");
    }

    #[test]
    fn refuses_bad_periods_with_reasons() {
        let reason = |s: &str| match s.parse::<Period>().unwrap_err() {
            Error::Duration { reason, .. } => reason,
            other => panic!("unexpected {other:?}"),
        };
        assert!(reason("-3y").contains("negative"));
        assert!(reason("-P3Y").contains("negative"));
        assert!(reason("1.5y").contains("fractional"));
        assert!(reason("PT0.5H").contains("fractional"));
        assert!(reason("3m").contains("ambiguous"));
        assert!(reason("3").contains("no unit"));
        assert!(reason("3q").contains("unknown unit"));
        assert!(reason("").contains("empty"));
        assert!(reason("P").contains("at least one"));
        assert!(reason("P1DT").contains("\"T\""));
        assert!(reason("P1D1Y").contains("out of order"));
        assert!(reason("P1H").contains("not a date designator"));
        assert!(reason("3y3y").contains("twice"));
        assert!(reason("y").contains("expected a number"));
        assert!(reason("10001y").contains("longer than"));
        assert!(reason("P99999999999999999999999D").contains("too large"));
        assert!(reason("18446744073709551615w").contains("longer than"));
        assert!(reason("9000y20000mo").contains("longer than"));
    }

    #[test]
    fn months_clamp_to_the_end_of_shorter_months() {
        assert_eq!(p("1mo").after(at(2026, 1, 31)), Some(at(2026, 2, 28)));
        assert_eq!(p("1mo").after(at(2028, 1, 31)), Some(at(2028, 2, 29)));
        assert_eq!(p("1mo").after(at(2026, 3, 31)), Some(at(2026, 4, 30)));
        assert_eq!(p("3mo").after(at(2026, 11, 30)), Some(at(2027, 2, 28)));
        // Clamping happens once, on the total: 2 months from 31 January is 31 March.
        assert_eq!(p("2mo").after(at(2026, 1, 31)), Some(at(2026, 3, 31)));
    }

    #[test]
    fn years_respect_leap_days() {
        assert_eq!(p("1y").after(at(2024, 2, 29)), Some(at(2025, 2, 28)));
        assert_eq!(p("4y").after(at(2024, 2, 29)), Some(at(2028, 2, 29)));
        assert_eq!(p("P1Y").after(at(2023, 3, 1)), Some(at(2024, 3, 1)));
        // 365 days is not a year across a leap day.
        assert_eq!(p("365d").after(at(2024, 1, 1)), Some(at(2024, 12, 31)));
        assert_eq!(p("1y").after(at(2024, 1, 1)), Some(at(2025, 1, 1)));
    }

    #[test]
    fn months_apply_before_days() {
        // ISO 8601 order: 31 Jan + 1 month = 28 Feb, + 1 day = 1 March.
        assert_eq!(p("P1M1D").after(at(2026, 1, 31)), Some(at(2026, 3, 1)));
        assert_eq!(
            p("PT12H").after(at(2026, 1, 31)),
            Some(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap())
        );
    }

    #[test]
    fn out_of_range_results_are_none_not_a_panic() {
        let late = Utc.with_ymd_and_hms(262_000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(p("10000y").after(late), None);
        assert_eq!(p("3650000d").after(late), None);
        assert_eq!(p("PT315360000000S").after(late), None);
    }

    #[test]
    fn fixed_length_only_without_months() {
        assert_eq!(p("1d").fixed_length(), Some(TimeDelta::days(1)));
        assert_eq!(p("1w12h").fixed_length(), Some(TimeDelta::hours(180)));
        assert_eq!(p("1mo").fixed_length(), None);
    }
}

#[cfg(test)]
mod calendar_agrees_with_chrono {
    use proptest::prelude::*;

    use super::Period;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// The integer calendar fast path agrees with chrono, over the whole
        /// range of timestamps and periods (end-of-month clamps and leap days included).
        #[test]
        fn fast_calendar_agrees_with_chrono(
            secs in -8_000_000_000_000i64..8_000_000_000_000,
            nanos in 0..1_000_000_000u32,
            months in prop_oneof![0..30u64, 0..120_000u64],
            days in prop_oneof![0..70u64, 0..3_660_000u64],
            seconds in prop_oneof![0..200_000u64, 0..316_224_000_000u64],
        ) {
            let start = chrono::DateTime::from_timestamp(secs, nanos).unwrap();
            let period = Period::new(months, days, seconds).unwrap();
            prop_assert_eq!(period.after(start), period.after_with_chrono(start));
        }

        #[test]
        fn fast_calendar_agrees_at_month_ends(year in 1900i32..2400, month in 1u32..=12, day in 26u32..=31, months in 0u64..50) {
            use chrono::TimeZone;
            if let chrono::LocalResult::Single(start) = chrono::Utc.with_ymd_and_hms(year, month, day, 23, 59, 59) {
                let period = Period::new(months, 0, 0).unwrap();
                prop_assert_eq!(period.after(start), period.after_with_chrono(start));
            }
        }
    }
}
