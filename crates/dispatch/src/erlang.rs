//! Erlang B and Erlang C, for staffing and for checking the engine against theory.
//!
//! Erlang C is computed through the Erlang B recursion
//! `B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1))`, which never forms factorials or powers
//! and is stable for tens of thousands of servers.

/// Blocking probability of an M/M/N/N system with `servers` and offered `traffic` (Erlangs).
pub fn erlang_b(servers: u32, traffic: f64) -> f64 {
    if traffic.is_nan() || traffic <= 0.0 {
        return if servers == 0 { 1.0 } else { 0.0 };
    }
    (1..=servers).fold(1.0, |b, k| traffic * b / (f64::from(k) + traffic * b))
}

/// Probability that an arrival waits in an M/M/N queue (Erlang C). 1 when the
/// system is not stable (`traffic >= servers`).
pub fn erlang_c(servers: u32, traffic: f64) -> f64 {
    let n = f64::from(servers);
    if traffic >= n {
        return 1.0;
    }
    if traffic.is_nan() || traffic <= 0.0 {
        return 0.0;
    }
    let b = erlang_b(servers, traffic);
    n * b / (n - traffic * (1.0 - b))
}

/// A staffing question: calls arriving at `arrivals_per_sec`, each held `handle_secs` on average.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Workload {
    /// Arrival rate, per second.
    pub arrivals_per_sec: f64,
    /// Average handle time, seconds.
    pub handle_secs: f64,
}

impl Workload {
    /// Offered traffic in Erlangs.
    pub fn traffic(&self) -> f64 {
        self.arrivals_per_sec * self.handle_secs
    }

    /// Probability of waiting with `agents`.
    pub fn prob_wait(&self, agents: u32) -> f64 {
        erlang_c(agents, self.traffic())
    }

    /// Average speed of answer (mean wait over all calls), seconds; infinite when unstable.
    pub fn asa(&self, agents: u32) -> f64 {
        let a = self.traffic();
        let n = f64::from(agents);
        if a >= n {
            return f64::INFINITY;
        }
        self.prob_wait(agents) * self.handle_secs / (n - a)
    }

    /// Fraction of calls answered within `secs`.
    pub fn service_level(&self, agents: u32, secs: f64) -> f64 {
        let a = self.traffic();
        let n = f64::from(agents);
        if a >= n {
            return 0.0;
        }
        1.0 - self.prob_wait(agents) * (-(n - a) * secs / self.handle_secs).exp()
    }

    /// The fewest agents that answer `target` (0..1) of calls within `secs`.
    pub fn agents_for(&self, target: f64, secs: f64) -> u32 {
        let mut n = (self.traffic().floor() as u32).saturating_add(1);
        while self.service_level(n, secs) < target && n < u32::MAX {
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 360 calls per 30 minutes, 240 s handle time, 55 agents.
    const EXAMPLE: Workload = Workload { arrivals_per_sec: 360.0 / 1800.0, handle_secs: 240.0 };

    #[test]
    fn worked_example() {
        assert!((EXAMPLE.traffic() - 48.0).abs() < 1e-12);
        let pw = EXAMPLE.prob_wait(55);
        assert!((pw - 0.2387).abs() < 0.0005, "P(wait) {pw}");
        let asa = EXAMPLE.asa(55);
        assert!((asa - 8.2).abs() < 0.05, "ASA {asa}");
        let sl = EXAMPLE.service_level(55, 15.0);
        assert!((sl - 0.846).abs() < 0.001, "SL {sl}");
        assert_eq!(EXAMPLE.agents_for(0.8, 20.0), 54);
        assert!(EXAMPLE.service_level(53, 20.0) < 0.8);
    }

    #[test]
    fn edges_and_large_n() {
        assert_eq!(erlang_c(10, 10.0), 1.0);
        assert_eq!(erlang_c(10, 0.0), 0.0);
        assert_eq!(erlang_b(0, 3.0), 1.0);
        assert_eq!(erlang_b(3, 0.0), 0.0);
        assert!(erlang_c(10, f64::NAN) == 0.0 || erlang_c(10, f64::NAN) == 1.0);
        // Tens of thousands of servers: finite, in range, and monotone.
        let big = erlang_c(50_000, 49_800.0);
        assert!(big.is_finite() && (0.0..=1.0).contains(&big), "{big}");
        assert!(erlang_c(50_001, 49_800.0) < big);
        let b = erlang_b(40_000, 39_000.0);
        assert!(b.is_finite() && b > 0.0 && b < 1.0);
        assert_eq!(Workload { arrivals_per_sec: 1.0, handle_secs: 10.0 }.asa(10), f64::INFINITY);
    }
}
