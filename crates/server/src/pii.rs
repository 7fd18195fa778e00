//! Personal data on its way to a log: a participant's IP address, a login, a phone
//! number. [`Pii`] wraps it so that it is redacted wherever it is formatted; the value
//! itself stays usable in code. Nothing personal reaches the logs except through it.

/// A personal value, shown in logs as `<redacted>` (its kind may be named).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pii<T>(pub T);

impl<T> std::fmt::Debug for Pii<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> std::fmt::Display for Pii<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> Pii<T> {
    /// The value, for code (never for a log).
    pub fn value(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let ip: std::net::IpAddr = "203.0.113.9".parse().unwrap();
        let p = Pii(ip);
        assert_eq!(format!("{p} {p:?} {:?}", Some(p)), "<redacted> <redacted> Some(<redacted>)");
        assert_eq!(p.value(), &ip);
    }
}
