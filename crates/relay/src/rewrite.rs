//! What the relay changes in a forwarded RTP header, per receiving track: sequence numbers
//! and timestamps that continue across a change of source, and header extensions renumbered
//! to the receiving leg's ids.

use std::time::Instant;

use rtc::rtp::Header;
use rtc::rtp::header::{EXTENSION_PROFILE_ONE_BYTE, EXTENSION_PROFILE_TWO_BYTE};

use crate::codec::FORWARDED_EXTENSIONS;

/// Keeps one receiving track's sequence numbers and timestamps continuous.
///
/// The receiver sees one stream even when what feeds it changes: a publisher that
/// reconnects (a new leg, a new SSRC, new random sequence numbers and timestamps), or video
/// resumed after the bandwidth policy paused it. Without this the receiver's jitter buffer
/// would see a jump of thousands of packets or of hours and stall or discard.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Continuity {
    clock_rate: u32,
    source: Option<u32>,
    rebase: bool,
    seq_delta: u16,
    ts_delta: u32,
    /// The newest sequence number and timestamp sent, and when.
    last: Option<(u16, u32, Instant)>,
}

/// Whether sequence number `a` is newer than `b`, modulo 2^16 (RFC 3550 appendix A.1).
fn newer(a: u16, b: u16) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000
}

impl Continuity {
    /// For a track whose codec runs at `clock_rate` Hz.
    pub(crate) fn new(clock_rate: u32) -> Continuity {
        Continuity { clock_rate: clock_rate.max(1), source: None, rebase: false, seq_delta: 0, ts_delta: 0, last: None }
    }

    /// The next packet continues from the last one sent, with no gap in sequence numbers
    /// (after a pause, so the receiver does not ask for packets it was never meant to get).
    pub(crate) fn rebase(&mut self) {
        self.rebase = true;
    }

    /// Rewrite a packet's sequence number and timestamp.
    pub(crate) fn apply(&mut self, now: Instant, header: &mut Header) {
        let switched = self.source != Some(header.ssrc) || self.rebase;
        if switched {
            if let Some((seq, ts, at)) = self.last {
                // The new source's first packet follows the last one sent, its timestamp
                // advanced by the time that passed (at least one tick).
                let elapsed = now.saturating_duration_since(at).as_secs_f64();
                let ticks = ((elapsed * f64::from(self.clock_rate)) as u64).clamp(1, u64::from(u32::MAX)) as u32;
                self.seq_delta = seq.wrapping_add(1).wrapping_sub(header.sequence_number);
                self.ts_delta = ts.wrapping_add(ticks).wrapping_sub(header.timestamp);
            }
            self.source = Some(header.ssrc);
            self.rebase = false;
        }
        let seq = header.sequence_number.wrapping_add(self.seq_delta);
        let ts = header.timestamp.wrapping_add(self.ts_delta);
        if switched || self.last.is_none_or(|(last, _, _)| newer(seq, last)) {
            self.last = Some((seq, ts, now));
        }
        header.sequence_number = seq;
        header.timestamp = ts;
    }
}

/// Extension ids of the [`FORWARDED_EXTENSIONS`] on one leg, 0 where not negotiated.
pub(crate) type ExtensionIds = [u8; FORWARDED_EXTENSIONS.len()];

/// The ids a leg negotiated for the forwarded extensions.
pub(crate) fn extension_ids(
    negotiated: &[rtc::rtp_transceiver::rtp_sender::RTCRtpHeaderExtensionParameters],
) -> ExtensionIds {
    let mut ids = [0; FORWARDED_EXTENSIONS.len()];
    for (slot, uri) in ids.iter_mut().zip(FORWARDED_EXTENSIONS) {
        if let Some(e) = negotiated.iter().find(|e| e.uri == uri) {
            *slot = u8::try_from(e.id).unwrap_or(0);
        }
    }
    ids
}

/// Keep the extensions both legs negotiated, renumbered from the publishing leg's ids to the
/// receiving leg's; drop every other one.
pub(crate) fn translate_extensions(header: &mut Header, from: &ExtensionIds, to: &ExtensionIds) {
    if header.extensions.is_empty() {
        return;
    }
    header.extensions.retain_mut(|e| {
        let Some(i) = from.iter().position(|id| *id != 0 && *id == e.id) else { return false };
        if to[i] == 0 {
            return false;
        }
        e.id = to[i];
        true
    });
    if header.extensions.is_empty() {
        header.extension = false;
        header.extension_profile = 0;
        header.extensions_padding = 0;
    } else {
        let one_byte = header.extensions.iter().all(|e| e.id <= 14 && (1..=16).contains(&e.payload.len()));
        header.extension = true;
        header.extension_profile = if one_byte { EXTENSION_PROFILE_ONE_BYTE } else { EXTENSION_PROFILE_TWO_BYTE };
        header.extensions_padding = 0;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;
    use rtc::rtp::header::Extension;

    use super::*;

    fn header(ssrc: u32, seq: u16, ts: u32) -> Header {
        Header { version: 2, ssrc, sequence_number: seq, timestamp: ts, ..Default::default() }
    }

    #[test]
    fn a_new_source_continues_the_numbering() {
        let t0 = Instant::now();
        let mut c = Continuity::new(90_000);
        let mut out = Vec::new();
        for i in 0..3u16 {
            let mut h = header(1, 65_534u16.wrapping_add(i), 1000 + u32::from(i) * 3000);
            c.apply(t0 + Duration::from_millis(u64::from(i) * 33), &mut h);
            out.push((h.sequence_number, h.timestamp));
        }
        assert_eq!(out, [(65_534, 1000), (65_535, 4000), (0, 7000)], "the first source passes unchanged");
        // The publisher reconnects 100 ms later: new SSRC, new random numbering.
        let mut h = header(2, 17, 123_456_789);
        c.apply(t0 + Duration::from_millis(166), &mut h);
        assert_eq!(h.sequence_number, 1);
        assert_eq!(h.timestamp, 7000 + 9000, "timestamp advanced by the 100 ms that passed");
        let mut h = header(2, 18, 123_456_789 + 3000);
        c.apply(t0 + Duration::from_millis(200), &mut h);
        assert_eq!((h.sequence_number, h.timestamp), (2, 19_000));
    }

    #[test]
    fn reordered_and_retransmitted_packets_keep_their_place() {
        let t0 = Instant::now();
        let mut c = Continuity::new(48_000);
        for seq in [10u16, 12, 11] {
            let mut h = header(5, seq, u32::from(seq) * 960);
            c.apply(t0, &mut h);
            assert_eq!(h.sequence_number, seq);
        }
        c.rebase();
        let mut h = header(5, 40, 40 * 960);
        c.apply(t0, &mut h);
        assert_eq!(h.sequence_number, 13, "after a pause the numbering goes on from the newest sent");
    }

    #[test]
    fn extensions_are_renumbered_or_dropped() {
        let from: ExtensionIds = [1, 3];
        let to: ExtensionIds = [5, 0];
        let mut h = header(1, 1, 1);
        h.extension = true;
        h.extension_profile = EXTENSION_PROFILE_ONE_BYTE;
        h.extensions = vec![
            Extension { id: 1, payload: Bytes::from_static(&[0x8a]) },
            Extension { id: 3, payload: Bytes::from_static(&[0x01]) },
            Extension { id: 7, payload: Bytes::from_static(&[0, 1]) },
        ];
        translate_extensions(&mut h, &from, &to);
        assert_eq!(h.extensions, vec![Extension { id: 5, payload: Bytes::from_static(&[0x8a]) }]);
        assert!(h.extension);
        translate_extensions(&mut h, &[0, 0], &to);
        assert!(!h.extension && h.extensions.is_empty());
        let packet = rtc::rtp::Packet { header: h, payload: Bytes::from_static(b"x") };
        assert!(rtc::shared::marshal::Marshal::marshal(&packet).is_ok());
    }
}
