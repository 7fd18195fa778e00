//! RTP packets of a phone leg (RFC 3550): read with every field checked, written with a
//! fixed 12-byte header. The phone side needs no header extensions or CSRCs of its own;
//! those of the other side are skipped over.

/// What was wrong with a datagram.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RtpError {
    /// Shorter than its headers say.
    #[error("an RTP packet of {len} bytes is shorter than its {needed} bytes of headers")]
    Short {
        /// The datagram's length.
        len: usize,
        /// What its headers need.
        needed: usize,
    },
    /// Not version 2.
    #[error("RTP version {0}; only version 2 exists")]
    Version(u8),
    /// Padding longer than the payload.
    #[error("{0} bytes of padding do not fit in the packet")]
    Padding(usize),
}

/// One packet, its payload borrowed from the datagram.
#[derive(Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The payload type.
    pub payload_type: u8,
    /// The marker bit.
    pub marker: bool,
    /// The sequence number.
    pub seq: u16,
    /// The timestamp.
    pub timestamp: u32,
    /// The source.
    pub ssrc: u32,
    /// The payload, without padding.
    pub payload: &'a [u8],
}

/// Read a datagram.
pub fn parse(d: &[u8]) -> Result<Packet<'_>, RtpError> {
    let short = |needed: usize| RtpError::Short { len: d.len(), needed };
    if d.len() < 12 {
        return Err(short(12));
    }
    let version = d[0] >> 6;
    if version != 2 {
        return Err(RtpError::Version(version));
    }
    let csrcs = usize::from(d[0] & 0x0f);
    let mut at = 12 + 4 * csrcs;
    if d.len() < at {
        return Err(short(at));
    }
    if d[0] & 0x10 != 0 {
        if d.len() < at + 4 {
            return Err(short(at + 4));
        }
        let words = usize::from(u16::from_be_bytes([d[at + 2], d[at + 3]]));
        at += 4 + 4 * words;
        if d.len() < at {
            return Err(short(at));
        }
    }
    let mut end = d.len();
    if d[0] & 0x20 != 0 {
        let padding = usize::from(d[end - 1]);
        if padding == 0 || padding > end - at {
            return Err(RtpError::Padding(padding));
        }
        end -= padding;
    }
    Ok(Packet {
        payload_type: d[1] & 0x7f,
        marker: d[1] & 0x80 != 0,
        seq: u16::from_be_bytes([d[2], d[3]]),
        timestamp: u32::from_be_bytes([d[4], d[5], d[6], d[7]]),
        ssrc: u32::from_be_bytes([d[8], d[9], d[10], d[11]]),
        payload: &d[at..end],
    })
}

/// Write a packet into `out` (cleared first).
pub fn write(p: &Packet<'_>, out: &mut Vec<u8>) {
    out.clear();
    out.push(0x80);
    out.push((u8::from(p.marker) << 7) | (p.payload_type & 0x7f));
    out.extend_from_slice(&p.seq.to_be_bytes());
    out.extend_from_slice(&p.timestamp.to_be_bytes());
    out.extend_from_slice(&p.ssrc.to_be_bytes());
    out.extend_from_slice(p.payload);
}

/// Is this datagram RTCP rather than RTP (RFC 5761 section 4: payload types 72 to 76
/// with the marker bit are RTCP's packet types 200 to 204)?
pub fn is_rtcp(d: &[u8]) -> bool {
    d.len() >= 2 && (200..=206).contains(&d[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_packet_written_reads_back() {
        let payload = [0xd5u8; 160];
        let p =
            Packet { payload_type: 8, marker: true, seq: 65_535, timestamp: 0xdead_beef, ssrc: 7, payload: &payload };
        let mut out = Vec::new();
        write(&p, &mut out);
        assert_eq!(out.len(), 172);
        assert_eq!(parse(&out), Ok(p));
        assert!(!is_rtcp(&out));
        assert!(is_rtcp(&[0x80, 200, 0, 6]));
    }

    #[test]
    fn csrcs_extensions_and_padding_are_skipped() {
        // Two CSRCs, a one-word extension, 3 bytes of padding.
        let mut d = vec![0xb2, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9];
        d.extend_from_slice(&[0; 8]);
        d.extend_from_slice(&[0xbe, 0xde, 0, 1, 1, 2, 3, 4]);
        d.extend_from_slice(&[0xff, 0x7f]);
        d.extend_from_slice(&[0, 0, 3]);
        let p = parse(&d).unwrap();
        assert_eq!((p.payload_type, p.seq, p.timestamp, p.ssrc, p.payload), (0, 1, 160, 9, &[0xff, 0x7f][..]));
    }

    #[test]
    fn broken_packets_say_what_is_wrong() {
        assert_eq!(parse(&[0x80; 5]), Err(RtpError::Short { len: 5, needed: 12 }));
        assert_eq!(parse(&[0x40; 12]), Err(RtpError::Version(1)));
        let mut csrc = vec![0x83u8; 12];
        csrc[0] = 0x83;
        assert_eq!(parse(&csrc), Err(RtpError::Short { len: 12, needed: 24 }));
        let mut padded = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        padded.push(9);
        assert_eq!(parse(&padded), Err(RtpError::Padding(9)));
        let mut extension = vec![0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        extension.extend_from_slice(&[0, 0, 0, 4]);
        assert_eq!(parse(&extension), Err(RtpError::Short { len: 16, needed: 32 }));
    }

    proptest! {
        #[test]
        fn any_datagram_is_read_or_refused(d in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = parse(&d) {
                prop_assert!(p.payload.len() <= d.len());
            }
        }
    }
}
