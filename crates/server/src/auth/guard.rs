//! The sign-in guard: slows password guessing per address and per account, without
//! letting a stranger lock anyone out and without telling anyone which logins exist.
//!
//! - **Per address** (an IPv4 address, or an IPv6 /64): a budget of attempts (sign-ins,
//!   and failed enrolment codes and invite links), `attempts_per_minute` in a burst and
//!   refilling at that rate; and at most [`IN_FLIGHT_PER_ADDRESS`] password checks in
//!   flight with at most [`WAITING_PER_ADDRESS`] more waiting their turn, so one client
//!   cannot fill the hashing threads' queue while an office behind one NAT whose staff
//!   sign in together only waits a moment. Over it: `429`, which says nothing about any
//!   login.
//! - **Per login and address**: after `lockout_after` failures from one address, that
//!   address's attempts on that login are refused for `lockout_secs`, looking exactly like
//!   a wrong password (same status, same body, a password check's worth of time). The
//!   same login from another address is not affected: a stranger cannot lock a victim out.
//! - **Per account**: failures from addresses that never signed in to the account count
//!   against [`STRANGER_FAILURES_PER_HOUR`]; over it, attempts from such addresses are
//!   refused the same invisible way until the failures age out. Addresses that signed in
//!   to the account before (remembered for [`KNOWN_FOR`]) are never held back, so guessing
//!   from many addresses is slowed while the account's owner still gets in.
//!
//! Everything is in memory, bounded ([`MAX_TRACKED`] entries per table, expired ones
//! pruned first), and forgotten on restart.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Password checks in flight from one address at once.
pub(crate) const IN_FLIGHT_PER_ADDRESS: usize = 2;

/// Sign-ins from one address waiting for a place in flight; more are refused.
pub(crate) const WAITING_PER_ADDRESS: usize = 32;

/// How long a sign-in waits for its place before it is refused.
pub(crate) const WAIT_FOR_TURN: Duration = Duration::from_secs(10);

/// Failures per hour an account tolerates from addresses it does not know.
pub(crate) const STRANGER_FAILURES_PER_HOUR: usize = 30;

/// How long an address that signed in to an account stays known to it.
pub(crate) const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// Entries per table before expired ones are pruned (and, if still over, the oldest).
pub(crate) const MAX_TRACKED: usize = 100_000;

const HOUR: Duration = Duration::from_secs(3600);

/// The guard's settings from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct GuardSettings {
    /// Failures from one address on one login before that pair is held back.
    pub lockout_after: u32,
    /// How long it is held back.
    pub lockout: Duration,
    /// An address's attempts in a burst, and per minute after it.
    pub attempts_per_minute: u32,
}

/// Why an attempt is not even looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Throttled {
    /// The address has used its attempts: wait.
    Address,
}

/// The key of an address: IPv4 as is, IPv6 by its /64 (one host has a whole /64).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
        }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Default)]
struct PairFailures {
    count: u32,
    last: Option<Instant>,
    held_until: Option<Instant>,
}

#[derive(Debug, Default)]
struct AccountState {
    /// Failures from unknown addresses, oldest first.
    stranger_failures: std::collections::VecDeque<Instant>,
    /// Addresses that signed in, with when.
    known: Vec<(IpAddr, Instant)>,
}

/// An address's checks: places in flight, and how many wait for one.
#[derive(Debug)]
struct Flights {
    places: Arc<tokio::sync::Semaphore>,
    waiting: usize,
}

#[derive(Debug, Default)]
struct State {
    buckets: HashMap<IpAddr, Bucket>,
    flights: HashMap<IpAddr, Flights>,
    pairs: HashMap<(String, IpAddr), PairFailures>,
    accounts: HashMap<String, AccountState>,
}

/// The guard (shared by every request).
#[derive(Clone, Debug)]
pub struct Guard {
    settings: GuardSettings,
    state: Arc<Mutex<State>>,
}

/// A password check in flight from an address; its place is given back when dropped.
#[derive(Debug)]
pub struct InFlight {
    place: Option<tokio::sync::OwnedSemaphorePermit>,
    state: Arc<Mutex<State>>,
    ip: IpAddr,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        drop(self.place.take());
        let mut s = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let idle = s
            .flights
            .get(&self.ip)
            .is_some_and(|f| f.waiting == 0 && f.places.available_permits() == IN_FLIGHT_PER_ADDRESS);
        if idle {
            s.flights.remove(&self.ip);
        }
    }
}

impl Guard {
    /// A guard with nothing remembered.
    pub fn new(settings: GuardSettings) -> Guard {
        Guard { settings, state: Arc::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// An address's burst of attempts, and the time one more takes to come back.
    fn budget(&self) -> (f64, Duration) {
        let per_minute = self.settings.attempts_per_minute.max(1);
        (f64::from(per_minute), Duration::from_secs(60) / per_minute)
    }

    /// Take one of the address's attempts (an enrolment code or invite link that failed,
    /// or any sign-in).
    pub fn spend(&self, ip: IpAddr, now: Instant) -> Result<(), Throttled> {
        let ip = address_key(ip);
        let (burst, refill) = self.budget();
        let mut s = self.lock();
        if s.buckets.len() >= MAX_TRACKED {
            s.buckets.retain(|_, b| now.saturating_duration_since(b.at) < refill.mul_f64(burst));
            if s.buckets.len() >= MAX_TRACKED {
                s.buckets.clear();
            }
        }
        let b = s.buckets.entry(ip).or_insert(Bucket { tokens: burst, at: now });
        let refilled = now.saturating_duration_since(b.at).as_secs_f64() / refill.as_secs_f64();
        b.tokens = (b.tokens + refilled).min(burst);
        b.at = now;
        if b.tokens < 1.0 {
            return Err(Throttled::Address);
        }
        b.tokens -= 1.0;
        Ok(())
    }

    /// Whether the address has an attempt left (without taking it): enrolment codes and
    /// invite links are checked first and [`Guard::spend`] only when they fail, so that
    /// a resident whose phone reconnects often is never held back.
    pub fn allowed(&self, ip: IpAddr, now: Instant) -> bool {
        let (_, refill) = self.budget();
        let s = self.lock();
        s.buckets.get(&address_key(ip)).is_none_or(|b| {
            let refilled = now.saturating_duration_since(b.at).as_secs_f64() / refill.as_secs_f64();
            b.tokens + refilled >= 1.0
        })
    }

    /// Begin a sign-in from `ip`: one of its attempts, then a place among its checks in
    /// flight, waiting for one (up to [`WAIT_FOR_TURN`]) behind at most
    /// [`WAITING_PER_ADDRESS`] others.
    pub async fn begin(&self, ip: IpAddr, now: Instant) -> Result<InFlight, Throttled> {
        let key = address_key(ip);
        self.spend(ip, now)?;
        let places = {
            let mut s = self.lock();
            let f = s.flights.entry(key).or_insert_with(|| Flights {
                places: Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT_PER_ADDRESS)),
                waiting: 0,
            });
            if f.waiting >= WAITING_PER_ADDRESS {
                return Err(Throttled::Address);
            }
            f.waiting += 1;
            f.places.clone()
        };
        let place = tokio::time::timeout(WAIT_FOR_TURN, places.acquire_owned()).await;
        let mut flight = InFlight { place: None, state: self.state.clone(), ip: key };
        if let Some(f) = self.lock().flights.get_mut(&key) {
            f.waiting -= 1;
        }
        match place {
            Ok(Ok(place)) => {
                flight.place = Some(place);
                Ok(flight)
            }
            // Its turn did not come (or the guard is gone): dropping `flight` tidies up.
            _ => Err(Throttled::Address),
        }
    }

    /// Whether this address's attempts on `account` (a kind and login) are held back now:
    /// too many failures from it on this login, or too many from strangers on the account.
    /// The caller refuses them exactly like a wrong password.
    pub fn held_back(&self, account: &str, ip: IpAddr, now: Instant) -> bool {
        let key = address_key(ip);
        let s = self.lock();
        let pair = s.pairs.get(&(account.to_string(), key)).and_then(|p| p.held_until).is_some_and(|u| u > now);
        let strangers = s.accounts.get(account).is_some_and(|a| {
            let known = a.known.iter().any(|(k, at)| *k == key && now.saturating_duration_since(*at) < KNOWN_FOR);
            !known
                && a.stranger_failures.iter().filter(|t| now.saturating_duration_since(**t) < HOUR).count()
                    >= STRANGER_FAILURES_PER_HOUR
        });
        pair || strangers
    }

    /// A wrong password (or an unknown login) from `ip` on `account`.
    pub fn failed(&self, account: &str, ip: IpAddr, now: Instant) {
        let key = address_key(ip);
        let (after, lockout) = (self.settings.lockout_after, self.settings.lockout);
        let mut s = self.lock();
        if s.pairs.len() >= MAX_TRACKED {
            s.pairs.retain(|_, p| p.last.is_some_and(|l| now.saturating_duration_since(l) < lockout.max(HOUR)));
            if s.pairs.len() >= MAX_TRACKED {
                s.pairs.clear();
            }
        }
        let p = s.pairs.entry((account.to_string(), key)).or_default();
        // Failures long ago are forgiven.
        if p.last.is_some_and(|l| now.saturating_duration_since(l) > lockout.max(HOUR)) {
            p.count = 0;
        }
        p.count += 1;
        p.last = Some(now);
        if p.count >= after {
            p.held_until = Some(now + lockout);
            p.count = 0;
        }
        if s.accounts.len() >= MAX_TRACKED {
            s.accounts.retain(|_, a| {
                a.stranger_failures.back().is_some_and(|t| now.saturating_duration_since(*t) < HOUR)
                    || a.known.iter().any(|(_, at)| now.saturating_duration_since(*at) < KNOWN_FOR)
            });
        }
        let a = s.accounts.entry(account.to_string()).or_default();
        let known = a.known.iter().any(|(k, at)| *k == key && now.saturating_duration_since(*at) < KNOWN_FOR);
        if !known {
            while a.stranger_failures.front().is_some_and(|t| now.saturating_duration_since(*t) >= HOUR) {
                a.stranger_failures.pop_front();
            }
            if a.stranger_failures.len() < STRANGER_FAILURES_PER_HOUR * 2 {
                a.stranger_failures.push_back(now);
            }
        }
    }

    /// A successful sign-in from `ip` on `account`: the address becomes known to it and its
    /// failures on it are forgotten.
    pub fn succeeded(&self, account: &str, ip: IpAddr, now: Instant) {
        let key = address_key(ip);
        let mut s = self.lock();
        s.pairs.remove(&(account.to_string(), key));
        let a = s.accounts.entry(account.to_string()).or_default();
        a.known.retain(|(k, at)| *k != key && now.saturating_duration_since(*at) < KNOWN_FOR);
        a.known.push((key, now));
        // A handful of places per account (home, the centre, a phone).
        if a.known.len() > 8 {
            a.known.remove(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new(GuardSettings { lockout_after: 3, lockout: Duration::from_secs(900), attempts_per_minute: 10 })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn a_login_is_held_back_only_for_the_address_that_failed() {
        let g = guard();
        let t = Instant::now();
        let (attacker, owner) = (ip("198.51.100.7"), ip("203.0.113.9"));
        for _ in 0..3 {
            g.failed("interpreters:an", attacker, t);
        }
        assert!(g.held_back("interpreters:an", attacker, t));
        assert!(!g.held_back("interpreters:an", owner, t), "the owner elsewhere is not locked out");
        assert!(!g.held_back("interpreters:bo", attacker, t), "other logins are not touched");
        assert!(!g.held_back("interpreters:an", attacker, t + Duration::from_secs(901)), "it passes");
    }

    #[test]
    fn guessing_from_many_addresses_is_held_back_but_known_addresses_get_in() {
        let g = guard();
        let t = Instant::now();
        let home = ip("203.0.113.9");
        g.succeeded("staff:boss", home, t);
        for n in 0..STRANGER_FAILURES_PER_HOUR {
            g.failed("staff:boss", IpAddr::from([198, 51, 100, n as u8]), t);
        }
        assert!(g.held_back("staff:boss", ip("192.0.2.200"), t), "a new stranger waits");
        assert!(!g.held_back("staff:boss", home, t), "the owner's own address is never held back");
        assert!(!g.held_back("staff:boss", ip("192.0.2.200"), t + HOUR), "failures age out");
    }

    #[tokio::test]
    async fn an_address_has_a_budget_two_checks_in_flight_and_a_short_queue() {
        let g = guard();
        let t = Instant::now();
        let a = ip("2001:db8:1:2::5");
        let first = g.begin(a, t).await.expect("first");
        let second = g.begin(ip("2001:db8:1:2::99"), t).await.expect("the same /64, a second check");
        // A third waits for its turn, and gets it when one finishes.
        let third = {
            let g = g.clone();
            tokio::spawn(async move { g.begin(a, t).await.map(|_| ()) })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!third.is_finished(), "it waits");
        drop(first);
        assert_eq!(third.await.unwrap(), Ok(()));
        drop(second);
        assert!(g.lock().flights.is_empty(), "nothing kept for an idle address");
        let mut ok = 3;
        while g.begin(a, t).await.is_ok() {
            ok += 1;
        }
        assert_eq!(ok, 10, "the burst, then nothing");
        assert!(g.begin(a, t + Duration::from_secs(6)).await.is_ok(), "one more after the refill");
        assert!(g.begin(ip("2001:db8:1:3::5"), t).await.is_ok(), "another /64 has its own");
    }
}
