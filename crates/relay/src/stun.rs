//! A strict, allocation-free parser of the parts of STUN (RFC 8489) the demultiplexer
//! needs: the header and the USERNAME attribute of a binding request. Anything
//! malformed is refused with a reason; nothing panics (fuzzed).

/// The magic cookie of RFC 5389 and later.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// A binding request.
pub const BINDING_REQUEST: u16 = 0x0001;
/// A binding success response.
pub const BINDING_SUCCESS: u16 = 0x0101;
/// The USERNAME attribute.
pub const ATTR_USERNAME: u16 = 0x0006;
/// The longest USERNAME RFC 8489 allows (513 bytes), used as a sanity bound.
pub const MAX_USERNAME: usize = 513;

/// Why a datagram is not a well-formed STUN message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StunError {
    /// Shorter than the 20-byte header.
    #[error("shorter than a STUN header")]
    TooShort,
    /// The two top bits of the type are not zero.
    #[error("not a STUN message: the first two bits are not zero")]
    NotStun,
    /// The cookie is not RFC 5389's.
    #[error("wrong magic cookie")]
    BadCookie,
    /// The length field is not a multiple of four or does not match the datagram.
    #[error("the length field does not match the datagram")]
    BadLength,
    /// An attribute runs past the end of the message.
    #[error("an attribute runs past the end of the message")]
    TruncatedAttribute,
    /// The USERNAME is too long or not UTF-8.
    #[error("the USERNAME attribute is not a valid username")]
    BadUsername,
}

/// The parts of a STUN message the demultiplexer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The message type (method and class).
    pub kind: u16,
    /// The 96-bit transaction id.
    pub transaction: [u8; 12],
    /// The USERNAME attribute, if present.
    pub username: Option<&'a str>,
}

impl Message<'_> {
    /// Whether this is a binding request.
    pub fn is_binding_request(&self) -> bool {
        self.kind == BINDING_REQUEST
    }

    /// For a binding request sent to us, the USERNAME is `<our ufrag>:<their ufrag>`
    /// (RFC 8445 §7.2.2): our part, which names the leg.
    pub fn local_ufrag(&self) -> Option<&str> {
        self.username.map(|u| u.split_once(':').map_or(u, |(ours, _)| ours))
    }
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

/// Parse a datagram as STUN.
pub fn parse(b: &[u8]) -> Result<Message<'_>, StunError> {
    if b.len() < 20 {
        return Err(StunError::TooShort);
    }
    let kind = u16_at(b, 0);
    if kind & 0xC000 != 0 {
        return Err(StunError::NotStun);
    }
    let length = usize::from(u16_at(b, 2));
    if u32::from_be_bytes([b[4], b[5], b[6], b[7]]) != MAGIC_COOKIE {
        return Err(StunError::BadCookie);
    }
    if length % 4 != 0 || 20 + length != b.len() {
        return Err(StunError::BadLength);
    }
    let mut transaction = [0u8; 12];
    transaction.copy_from_slice(&b[8..20]);
    let mut username = None;
    let mut i = 20;
    while i < b.len() {
        if i + 4 > b.len() {
            return Err(StunError::TruncatedAttribute);
        }
        let attr = u16_at(b, i);
        let len = usize::from(u16_at(b, i + 2));
        let start = i + 4;
        let end = start + len;
        if end > b.len() {
            return Err(StunError::TruncatedAttribute);
        }
        if attr == ATTR_USERNAME && username.is_none() {
            if len > MAX_USERNAME {
                return Err(StunError::BadUsername);
            }
            username = Some(std::str::from_utf8(&b[start..end]).map_err(|_| StunError::BadUsername)?);
        }
        // Attributes are padded to four bytes.
        i = end + (4 - len % 4) % 4;
    }
    if i != b.len() {
        return Err(StunError::TruncatedAttribute);
    }
    Ok(Message { kind, transaction, username })
}

/// Build a binding request with a USERNAME (and nothing else); for tests and probes.
pub fn binding_request(transaction: [u8; 12], username: &str) -> Vec<u8> {
    let name = username.as_bytes();
    let padded = name.len().div_ceil(4) * 4;
    let mut out = Vec::with_capacity(20 + 4 + padded);
    out.extend_from_slice(&BINDING_REQUEST.to_be_bytes());
    out.extend_from_slice(&((4 + padded) as u16).to_be_bytes());
    out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
    out.extend_from_slice(&transaction);
    out.extend_from_slice(&ATTR_USERNAME.to_be_bytes());
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name);
    out.resize(20 + 4 + padded, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binding_request_round_trips() {
        for name in ["abcd:wxyz", "a:b", "ufragonly", "exactly8:123456"] {
            let b = binding_request([7; 12], name);
            assert_eq!(b.len() % 4, 0);
            let m = parse(&b).unwrap();
            assert!(m.is_binding_request());
            assert_eq!(m.username, Some(name));
            assert_eq!(m.transaction, [7; 12]);
            assert_eq!(m.local_ufrag(), Some(name.split(':').next().unwrap()));
        }
    }

    #[test]
    fn malformed_messages_are_refused_with_a_reason() {
        let good = binding_request([1; 12], "ours:theirs");
        assert_eq!(parse(&good[..19]), Err(StunError::TooShort));
        let mut b = good.clone();
        b[0] |= 0x80;
        assert_eq!(parse(&b), Err(StunError::NotStun));
        let mut b = good.clone();
        b[4] = 0;
        assert_eq!(parse(&b), Err(StunError::BadCookie));
        let mut b = good.clone();
        b[3] += 4;
        assert_eq!(parse(&b), Err(StunError::BadLength));
        assert_eq!(parse(&good[..good.len() - 4]), Err(StunError::BadLength));
        let mut b = good.clone();
        b[23] = 200; // the USERNAME claims 200 bytes
        assert_eq!(parse(&b), Err(StunError::TruncatedAttribute));
        let mut b = good.clone();
        b[24] = 0xFF; // not UTF-8
        assert_eq!(parse(&b), Err(StunError::BadUsername));
        // A message with no attributes is fine and has no username.
        let mut empty = good[..20].to_vec();
        empty[2] = 0;
        empty[3] = 0;
        assert_eq!(parse(&empty).unwrap().username, None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]

        /// Fuzz: any bytes get an answer, never a panic.
        #[test]
        fn any_bytes(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = parse(&b);
        }

        /// Fuzz near the format: a valid request with bytes flipped and lengths cut.
        #[test]
        fn mutated_requests(name in "[a-z0-9:]{0,40}", flips in proptest::collection::vec((0usize..80, proptest::prelude::any::<u8>()), 0..4), cut in 0usize..80) {
            let mut b = binding_request([3; 12], &name);
            for (i, v) in flips {
                if let Some(x) = b.get_mut(i) {
                    *x = v;
                }
            }
            b.truncate(b.len().saturating_sub(cut % (b.len() + 1)));
            if let Ok(m) = parse(&b) {
                proptest::prop_assert!(m.username.is_none_or(|u| u.len() <= MAX_USERNAME));
            }
        }
    }
}
