//! `trusted_proxies`: the reverse proxies in front of the server, as addresses or
//! networks (`10.0.0.5, 10.42.0.0/16, fd00::/8`): a Kubernetes ingress or a compose
//! load balancer has an address the operator knows only by its network.

use std::net::IpAddr;

/// The parsed list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proxies(Vec<(IpAddr, u8)>);

impl Proxies {
    /// Parse a comma-separated list; the first entry that is neither an address nor a
    /// network is the error.
    pub fn parse(list: &str) -> Result<Proxies, String> {
        let mut nets = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (addr, bits) = entry.split_once('/').map_or((entry, None), |(a, b)| (a, Some(b)));
            let addr: IpAddr = addr.parse().map_err(|_| format!("{entry:?} is not an IP address or network"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{entry:?}: prefix length must be 0 to {max}"))?,
            };
            nets.push((addr, bits));
        }
        Ok(Proxies(nets))
    }

    /// Whether `ip` is one of them.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|(net, bits)| within(ip, net, *bits))
    }
}

/// Whether the first `bits` bits of `ip` and `net` agree (IPv4-mapped IPv6 addresses
/// count as IPv4).
fn within(ip: &IpAddr, net: &IpAddr, bits: u8) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
        v4 => *v4,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(*n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(*n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn addresses_and_networks() {
        let p = Proxies::parse("10.0.0.5, 10.42.0.0/16,fd00::/8, 0.0.0.0/0 ").unwrap();
        assert!(p.contains(&ip("10.0.0.5")) && p.contains(&ip("10.42.200.1")) && p.contains(&ip("fd12::1")));
        assert!(p.contains(&ip("::ffff:10.42.0.9")), "IPv4-mapped");
        let p = Proxies::parse("10.0.0.5, 10.42.0.0/16").unwrap();
        assert!(!p.contains(&ip("10.0.0.6")) && !p.contains(&ip("10.43.0.1")) && !p.contains(&ip("fd00::1")));
        assert!(!Proxies::default().contains(&ip("127.0.0.1")));
    }

    #[test]
    fn garbage_is_named() {
        assert_eq!(Proxies::parse("10.0.0.5, proxy").unwrap_err(), "\"proxy\" is not an IP address or network");
        assert_eq!(Proxies::parse("10.0.0.0/33").unwrap_err(), "\"10.0.0.0/33\": prefix length must be 0 to 32");
        assert_eq!(Proxies::parse("fd00::/x").unwrap_err(), "\"fd00::/x\": prefix length must be 0 to 128");
    }
}
