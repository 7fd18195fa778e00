//! A token bucket: the budget of connectivity checks from unconfirmed addresses that one
//! leg's ICE agent is handed a second ([`crate::demux`]). Checking a check's integrity is
//! the work a flood could make the relay do; a leaked ufrag lets a flood spend that one
//! leg's budget only.
//!
//! There is no budget per source host: a host is often many people (a carrier's NAT),
//! and a check naming a leg must get through whoever else sends junk from its address.
//! Junk itself costs a byte's look or a STUN header's, and is dropped.

use std::time::Instant;

/// A token bucket: `per_sec` tokens a second, holding at most `per_sec`.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    tokens: f64,
    per_sec: f64,
    last: Option<Instant>,
}

impl Bucket {
    pub(crate) fn full(per_sec: u32) -> Bucket {
        let per_sec = f64::from(per_sec.max(1));
        Bucket { tokens: per_sec, per_sec, last: None }
    }

    fn refill(&mut self, now: Instant) {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last);
            self.tokens = (self.tokens + elapsed.as_secs_f64() * self.per_sec).min(self.per_sec);
        }
        self.last = Some(self.last.map_or(now, |l| l.max(now)));
    }

    /// Take a token if one is left.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_bucket_spends_its_tokens_and_refills_with_time_up_to_full() {
        let t = Instant::now();
        let mut b = Bucket::full(10);
        assert_eq!((0..20).filter(|_| b.take(t)).count(), 10, "ten at once, no more");
        assert!(b.take(t + Duration::from_millis(100)), "one more a tenth of a second later");
        assert!(!b.take(t + Duration::from_millis(100)));
        let later = t + Duration::from_secs(60);
        assert_eq!((0..20).filter(|_| b.take(later)).count(), 10, "a long pause refills it to full, not beyond");
    }
}
