//! Figures: percentiles of samples, and the report a scenario prints.

use std::time::Duration;

use serde_json::{Value, json};

/// Samples of a duration, summarised.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    values: Vec<f64>,
}

impl Samples {
    /// Add one, in milliseconds.
    pub fn add(&mut self, d: Duration) {
        self.values.push(d.as_secs_f64() * 1000.0);
    }

    /// Add one given in milliseconds.
    pub fn add_ms(&mut self, ms: f64) {
        self.values.push(ms);
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The `p` quantile (0 to 1), nearest rank; 0 without samples.
    pub fn quantile(&self, p: f64) -> f64 {
        if self.values.is_empty() {
            return 0.0;
        }
        let mut v = self.values.clone();
        v.sort_by(f64::total_cmp);
        let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
        v[i]
    }

    /// The largest.
    pub fn max(&self) -> f64 {
        self.values.iter().copied().fold(0.0, f64::max)
    }

    /// Count, p50, p90, p99 and max, milliseconds, as JSON.
    pub fn json(&self) -> Value {
        json!({
            "count": self.len(),
            "p50_ms": round(self.quantile(0.5)),
            "p90_ms": round(self.quantile(0.9)),
            "p99_ms": round(self.quantile(0.99)),
            "max_ms": round(self.max()),
        })
    }

    /// `n=…, p50 … ms, p99 … ms, max … ms`.
    pub fn line(&self) -> String {
        format!(
            "n={}, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.len(),
            self.quantile(0.5),
            self.quantile(0.9),
            self.quantile(0.99),
            self.max()
        )
    }
}

/// Three decimals.
pub fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Print a scenario's result: the readable lines, or the JSON alone.
pub fn print(json_only: bool, summary: &[String], value: &Value) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if json_only {
        let _ = writeln!(out, "{value}");
    } else {
        for line in summary {
            let _ = writeln!(out, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let mut s = Samples::default();
        assert_eq!(s.quantile(0.99), 0.0);
        for ms in 1..=100 {
            s.add_ms(f64::from(ms));
        }
        assert_eq!(s.quantile(0.5), 50.0);
        assert_eq!(s.quantile(0.99), 99.0);
        assert_eq!(s.quantile(1.0), 100.0);
        assert_eq!(s.max(), 100.0);
        assert_eq!(s.json()["count"], 100);
    }
}
