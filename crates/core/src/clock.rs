//! Where Custodia gets the time.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

/// An instant in UTC, the one time type Custodia uses.
pub type Timestamp = DateTime<Utc>;

/// A source of the current time.
///
/// Where Custodia gets the time.
///
/// Deadlines (one month for a data-subject request, 72 hours for a breach),
/// retention due dates and audit timestamps all depend on "now". Every crate
/// takes a [`Clock`] instead of calling the system time, so a test can pin the
/// time with a [`ManualClock`] and step it forward.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Box<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Utc::now()
    }
}

/// A clock that stands still until told to move: for tests and simulations.
///
/// Clones share one time, so a test can hand a clone to the code under test and
/// advance it from outside.
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use custodia_core::{Clock, ManualClock};
///
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 31, 9, 0, 0).unwrap());
/// let seen_by_service = clock.clone();
/// clock.advance(TimeDelta::hours(72));
/// assert_eq!(seen_by_service.now(), Utc.with_ymd_and_hms(2026, 2, 3, 9, 0, 0).unwrap());
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    /// A clock that reads `start` until changed.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Sets the time, forwards or backwards.
    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = to;
    }

    /// Moves the time by `by` (which may be negative) and returns the new time.
    ///
    /// Saturates at the ends of chrono's range rather than overflowing.
    pub fn advance(&self, by: TimeDelta) -> Timestamp {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        let next = now
            .checked_add_signed(by)
            .unwrap_or(if by < TimeDelta::zero() {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            });
        *now = next;
        next
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = Utc.with_ymd_and_hms(2024, 2, 28, 12, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        assert_eq!(clock.now(), start);
        let later = clock.advance(TimeDelta::days(1));
        assert_eq!(later, Utc.with_ymd_and_hms(2024, 2, 29, 12, 0, 0).unwrap());
        clock.advance(TimeDelta::days(-2));
        assert_eq!(
            clock.now(),
            Utc.with_ymd_and_hms(2024, 2, 27, 12, 0, 0).unwrap()
        );
        clock.set(start);
        assert_eq!(clock.now(), start);
    }

    #[test]
    fn manual_clock_saturates() {
        let clock = ManualClock::new(DateTime::<Utc>::MAX_UTC);
        assert_eq!(clock.advance(TimeDelta::days(1)), DateTime::<Utc>::MAX_UTC);
        clock.set(DateTime::<Utc>::MIN_UTC);
        assert_eq!(clock.advance(TimeDelta::days(-1)), DateTime::<Utc>::MIN_UTC);
    }

    #[test]
    fn clocks_work_through_pointers() {
        fn read(clock: &dyn Clock) -> Timestamp {
            clock.now()
        }
        let start = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        let shared: Arc<dyn Clock> = Arc::new(ManualClock::new(start));
        assert_eq!(read(&shared), start);
        let boxed: Box<dyn Clock> = Box::new(ManualClock::new(start));
        assert_eq!(read(&boxed), start);
        let before = Utc::now();
        assert!(SystemClock.now() >= before);
    }
}
