//! Time as the engine sees it: instants are passed in, never read from a clock.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

/// An instant, in milliseconds since the Unix epoch (UTC).
///
/// The engine never reads a clock: every input carries the `now` the caller observed.
/// Wall-clock time (not a monotonic instant) is used because rosters and bookings are
/// calendar rules; callers must feed non-decreasing values (a smaller `now` is treated
/// as the last one seen).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Timestamp(i64);

impl Timestamp {
    /// The epoch itself.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// An instant from milliseconds since the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// An instant from whole seconds since the Unix epoch.
    pub const fn from_secs(s: i64) -> Self {
        Timestamp(s.saturating_mul(1000))
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Time elapsed from `earlier` to `self`, zero when `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0).max(0) as u64)
    }

    /// This instant as a `jiff` timestamp, for calendar computations.
    pub(crate) fn to_jiff(self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.0).unwrap_or(if self.0 < 0 {
            jiff::Timestamp::MIN
        } else {
            jiff::Timestamp::MAX
        })
    }

    pub(crate) fn from_jiff(ts: jiff::Timestamp) -> Self {
        Timestamp(ts.as_millisecond())
    }
}

/// Milliseconds of a duration, saturating at `i64::MAX`.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(millis(rhs)))
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, rhs: Duration) -> Timestamp {
        Timestamp(self.0.saturating_sub(millis(rhs)))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_jiff())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_jiff())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_since_is_never_negative() {
        let t = Timestamp::from_secs(10);
        assert_eq!((t + Duration::from_secs(5)).as_millis(), 15_000);
        assert_eq!((t - Duration::from_secs(5)).as_millis(), 5_000);
        assert_eq!(t.since(t + Duration::from_secs(1)), Duration::ZERO);
        assert_eq!(Timestamp::from_millis(i64::MAX) + Duration::from_secs(1), Timestamp::from_millis(i64::MAX));
        assert_eq!(Timestamp::from_millis(i64::MAX).to_jiff(), jiff::Timestamp::MAX);
    }
}
