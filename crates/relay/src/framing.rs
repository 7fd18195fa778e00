//! RFC 4571 framing of ICE-TCP (RFC 6544): on a TCP connection every STUN, DTLS, RTP and
//! RTCP packet is preceded by its length as 16 bits, big-endian. [`Deframer`] cuts a byte
//! stream back into packets, whatever the reads' boundaries; [`frame`] prefixes one.

use bytes::{Buf, BytesMut};

/// The largest packet a frame can carry.
pub const MAX_FRAME: usize = u16::MAX as usize;

/// Why a packet cannot be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("packet of {0} bytes is larger than an RFC 4571 frame ({MAX_FRAME})")]
pub struct TooLarge(pub usize);

/// `packet` with its length in front, ready to write.
pub fn frame(packet: &[u8]) -> Result<Vec<u8>, TooLarge> {
    let len = u16::try_from(packet.len()).map_err(|_| TooLarge(packet.len()))?;
    let mut out = Vec::with_capacity(2 + packet.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(packet);
    Ok(out)
}

/// Reassembles packets from a TCP byte stream. It never holds more than one unfinished
/// frame plus the last read, so its memory is bounded by [`MAX_FRAME`] and the read size.
#[derive(Debug, Default)]
pub struct Deframer {
    buf: BytesMut,
}

impl Deframer {
    /// Bytes as read from the connection.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole packet, if one has arrived. Empty frames are skipped.
    pub fn next_packet(&mut self) -> Option<BytesMut> {
        loop {
            let len = usize::from(u16::from_be_bytes([*self.buf.first()?, *self.buf.get(1)?]));
            if self.buf.len() < 2 + len {
                return None;
            }
            self.buf.advance(2);
            let packet = self.buf.split_to(len);
            if !packet.is_empty() {
                return Some(packet);
            }
        }
    }

    /// Bytes held, waiting for the rest of a frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_oversized_packets_are_refused() {
        let mut d = Deframer::default();
        let mut stream = frame(b"stun").unwrap();
        stream.extend(frame(b"").unwrap());
        stream.extend(frame(&[7; 300]).unwrap());
        d.push(&stream[..5]);
        assert_eq!(d.next_packet(), None);
        d.push(&stream[5..]);
        assert_eq!(d.next_packet().as_deref(), Some(&b"stun"[..]));
        assert_eq!(d.next_packet().as_deref(), Some(&[7u8; 300][..]));
        assert_eq!(d.next_packet(), None);
        assert_eq!(d.pending(), 0);
        assert_eq!(frame(&vec![0; MAX_FRAME + 1]), Err(TooLarge(MAX_FRAME + 1)));
        assert_eq!(frame(&vec![0; MAX_FRAME]).map(|f| f.len()), Ok(MAX_FRAME + 2));
    }

    proptest::proptest! {
        /// Fuzz: any packets, cut at any points, come out whole and in order; garbage
        /// never panics, and what is held stays below one frame plus the last read.
        #[test]
        fn any_cuts(
            packets in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 1..600), 0..20),
            cuts in proptest::collection::vec(1usize..700, 1..50),
            garbage in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
        ) {
            let stream: Vec<u8> = packets.iter().flat_map(|p| frame(p).unwrap()).collect();
            let mut d = Deframer::default();
            let mut out = Vec::new();
            let mut at = 0;
            for c in cuts.iter().cycle() {
                if at >= stream.len() {
                    break;
                }
                let end = (at + c).min(stream.len());
                d.push(&stream[at..end]);
                at = end;
                while let Some(p) = d.next_packet() {
                    out.push(p.to_vec());
                }
            }
            proptest::prop_assert_eq!(out, packets);
            let mut g = Deframer::default();
            for chunk in garbage.chunks(97) {
                g.push(chunk);
                while g.next_packet().is_some() {}
                proptest::prop_assert!(g.pending() < 2 + MAX_FRAME + 97);
            }
        }
    }
}
