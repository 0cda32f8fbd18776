//! Periods of months, by the EU rule (Regulation (EEC, Euratom) No 1182/71).
//!
//! GDPR deadlines are expressed in months ("one month of receipt", "two further
//! months"). Regulation 1182/71 says how such a period is computed:
//!
//! * Art. 3(1): the day of the event (the request's receipt) does not count;
//!   the period runs from the next day.
//! * Art. 3(2)(c): a period of months ends at the expiry of the last hour of the
//!   day in the last month that has **the same date** as the day of the event;
//!   if that month has no such date, at the expiry of the last hour of **its last
//!   day**.
//!
//! So a request received on 15 January is due by the end of 15 February, one
//! received on 31 January by the end of 28 February (29 February in a leap
//! year), and one received on 31 December by the end of 31 January.
//!
//! This module computes on UTC calendar dates. Two simplifications are
//! documented rather than hidden:
//!
//! * Art. 3(4) moves a deadline that falls on a public holiday, Saturday or
//!   Sunday to the next working day. Public holidays differ per member state,
//!   so Custodia does **not** apply that extension: on this count its
//!   deadlines are never later than the legal one, only sometimes earlier.
//! * Dates are UTC dates. A host whose authority sits in another time zone
//!   sees the deadline end at midnight UTC, hours off the local midnight,
//!   and the day of receipt is the UTC date: in a zone behind UTC (the
//!   Azores; North America) a request received in the local evening can
//!   fall on the next UTC date, so its deadline can end up to a day *later*
//!   than the local one; ahead of UTC, up to a day earlier. A host bound by
//!   a local rule converts the receipt time to its zone's date first.
//!
//! ```
//! use chrono::NaiveDate;
//! use custodia_core::calendar::add_months;
//!
//! let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
//! assert_eq!(add_months(d(2026, 1, 15), 1), Some(d(2026, 2, 15)));
//! assert_eq!(add_months(d(2026, 1, 31), 1), Some(d(2026, 2, 28)));
//! assert_eq!(add_months(d(2028, 1, 31), 1), Some(d(2028, 2, 29)));
//! assert_eq!(add_months(d(2026, 12, 31), 1), Some(d(2027, 1, 31)));
//! ```

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use custodia_core::Timestamp;
use custodia_core::calendar::add_months;

/// The last instant (23:59:59.999999999 UTC) of `date`.
pub fn end_of_day(date: NaiveDate) -> Timestamp {
    let last = NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap_or(NaiveTime::MIN);
    Utc.from_utc_datetime(&date.and_time(last))
}

/// When a period of `months` months that runs from the event at `event` ends:
/// the end of the same date `months` months later, or of that month's last day.
///
/// `None` only past chrono's range (year 262 143).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use custodia_dsr::period::months_after;
///
/// let received = Utc.with_ymd_and_hms(2026, 1, 31, 16, 45, 0).unwrap();
/// let due = months_after(received, 1).unwrap();
/// assert_eq!(due.to_rfc3339(), "2026-02-28T23:59:59.999999999+00:00");
/// ```
pub fn months_after(event: Timestamp, months: u32) -> Option<Timestamp> {
    add_months(event.date_naive(), months).map(end_of_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn same_date_next_month() {
        assert_eq!(add_months(d(2026, 3, 3), 1), Some(d(2026, 4, 3)));
        assert_eq!(add_months(d(2026, 9, 3), 1), Some(d(2026, 10, 3)));
        assert_eq!(add_months(d(2026, 1, 28), 1), Some(d(2026, 2, 28)));
    }

    #[test]
    fn missing_date_falls_back_to_last_day() {
        assert_eq!(add_months(d(2026, 1, 31), 1), Some(d(2026, 2, 28)));
        assert_eq!(add_months(d(2026, 1, 29), 1), Some(d(2026, 2, 28)));
        assert_eq!(add_months(d(2026, 3, 31), 1), Some(d(2026, 4, 30)));
        assert_eq!(add_months(d(2026, 5, 31), 1), Some(d(2026, 6, 30)));
        assert_eq!(add_months(d(2026, 8, 31), 1), Some(d(2026, 9, 30)));
        assert_eq!(add_months(d(2026, 10, 31), 1), Some(d(2026, 11, 30)));
    }

    #[test]
    fn leap_years() {
        assert_eq!(add_months(d(2028, 1, 31), 1), Some(d(2028, 2, 29)));
        assert_eq!(add_months(d(2028, 1, 29), 1), Some(d(2028, 2, 29)));
        // Divisible by 100 but not 400: no 29 February.
        assert_eq!(add_months(d(2100, 1, 31), 1), Some(d(2100, 2, 28)));
        // Divisible by 400: a 29 February.
        assert_eq!(add_months(d(2000, 1, 30), 1), Some(d(2000, 2, 29)));
        // From a leap day, a year on has no leap day.
        assert_eq!(add_months(d(2028, 2, 29), 12), Some(d(2029, 2, 28)));
        assert_eq!(add_months(d(2028, 2, 29), 1), Some(d(2028, 3, 29)));
    }

    #[test]
    fn december_rolls_into_the_next_year() {
        assert_eq!(add_months(d(2026, 12, 31), 1), Some(d(2027, 1, 31)));
        assert_eq!(add_months(d(2026, 12, 15), 1), Some(d(2027, 1, 15)));
        assert_eq!(add_months(d(2026, 11, 30), 3), Some(d(2027, 2, 28)));
        assert_eq!(add_months(d(2026, 12, 31), 2), Some(d(2027, 2, 28)));
    }

    #[test]
    fn zero_months_is_the_same_day() {
        assert_eq!(add_months(d(2026, 7, 4), 0), Some(d(2026, 7, 4)));
    }

    #[test]
    fn out_of_range_is_none_not_a_panic() {
        assert_eq!(add_months(NaiveDate::MAX, 1), None);
        assert_eq!(add_months(d(2026, 1, 1), u32::MAX), None);
        assert!(months_after(Timestamp::MAX_UTC, 1).is_none());
    }

    #[test]
    fn deadlines_end_at_the_end_of_the_day() {
        let received = Utc.with_ymd_and_hms(2026, 2, 28, 0, 0, 1).unwrap();
        let due = months_after(received, 1).unwrap();
        assert_eq!(due.date_naive(), d(2026, 3, 28));
        assert_eq!(
            due + chrono::TimeDelta::nanoseconds(1),
            Utc.with_ymd_and_hms(2026, 3, 29, 0, 0, 0).unwrap()
        );
    }
}
