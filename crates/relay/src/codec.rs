//! Codecs: which ones a leg negotiates, which one a session uses, and where a keyframe
//! starts.
//!
//! The relay forwards, it does not transcode, so every participant of a session must decode
//! the video codec the others send. The first participant to offer video decides it: VP8 if
//! it offered VP8 (every WebRTC browser must implement it, RFC 7742), otherwise H.264
//! (constrained baseline, which hardware decoders of phones handle). Every later leg of the
//! session is answered with that codec alone. Audio is Opus.

use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::rtp_transceiver::RTCRtpTransceiverDirection;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};

/// The video codec of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    /// VP8 (RFC 7741).
    Vp8,
    /// H.264 with packetization mode 1 (RFC 6184).
    H264,
}

impl VideoCodec {
    /// The codec a participant's offer supports best, `None` for an offer without video.
    pub fn preferred_in(offer_sdp: &str) -> Option<VideoCodec> {
        let (mut vp8, mut h264) = (false, false);
        for line in offer_sdp.lines() {
            if let Some(rest) = line.strip_prefix("a=rtpmap:") {
                let name = rest.split_whitespace().nth(1).unwrap_or_default();
                let name = name.split('/').next().unwrap_or_default();
                vp8 |= name.eq_ignore_ascii_case("VP8");
                h264 |= name.eq_ignore_ascii_case("H264");
            }
        }
        if vp8 {
            Some(VideoCodec::Vp8)
        } else if h264 {
            Some(VideoCodec::H264)
        } else {
            None
        }
    }

    /// Whether the MIME type (`video/VP8`) is this codec.
    pub fn is(self, mime_type: &str) -> bool {
        let name = mime_type.rsplit('/').next().unwrap_or_default();
        match self {
            VideoCodec::Vp8 => name.eq_ignore_ascii_case("VP8"),
            VideoCodec::H264 => name.eq_ignore_ascii_case("H264"),
        }
    }

    /// Whether an RTP payload of this codec starts a keyframe: where a subscriber that
    /// was given nothing, or lost too much, can start decoding.
    pub fn starts_keyframe(self, payload: &[u8]) -> bool {
        match self {
            VideoCodec::Vp8 => vp8_starts_keyframe(payload),
            VideoCodec::H264 => h264_starts_keyframe(payload),
        }
    }
}

/// RFC 7741 section 4.2 (payload descriptor) and 4.3 (the P bit of the payload header).
fn vp8_starts_keyframe(payload: &[u8]) -> bool {
    let Some(&first) = payload.first() else { return false };
    let extended = first & 0x80 != 0;
    let start = first & 0x10 != 0;
    let partition = first & 0x07;
    if !start || partition != 0 {
        return false;
    }
    let mut at = 1;
    if extended {
        let Some(&x) = payload.get(at) else { return false };
        at += 1;
        if x & 0x80 != 0 {
            // PictureID: one byte, or two when its M bit is set.
            let Some(&pid) = payload.get(at) else { return false };
            at += if pid & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            at += 1; // TL0PICIDX
        }
        if x & 0x30 != 0 {
            at += 1; // TID/Y/KEYIDX
        }
    }
    // The frame tag's P bit is 0 for a key frame.
    payload.get(at).is_some_and(|tag| tag & 0x01 == 0)
}

/// RFC 6184: an IDR slice or a parameter set, alone, aggregated (STAP-A) or at the start of
/// a fragmented unit (FU-A).
fn h264_starts_keyframe(payload: &[u8]) -> bool {
    const IDR: u8 = 5;
    const SPS: u8 = 7;
    let keyframe_nal = |t: u8| t == IDR || t == SPS;
    let Some(&header) = payload.first() else { return false };
    match header & 0x1f {
        24 => {
            let mut at = 1;
            while at + 2 < payload.len() {
                let size = usize::from(u16::from_be_bytes([payload[at], payload[at + 1]]));
                if let Some(&nal) = payload.get(at + 2)
                    && keyframe_nal(nal & 0x1f)
                {
                    return true;
                }
                at += 2 + size;
            }
            false
        }
        28 => payload.get(1).is_some_and(|fu| fu & 0x80 != 0 && keyframe_nal(fu & 0x1f)),
        t => keyframe_nal(t),
    }
}

/// Header extensions whose values mean the same to every receiver, so the relay passes them
/// on (renumbered to each receiving leg's ids). The rest are per hop: transport-wide
/// sequence numbers, MID and RID belong to the leg they arrived on.
pub const FORWARDED_EXTENSIONS: [&str; 2] = [
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    // The phone's rotation: without it a portrait picture from an iPhone arrives sideways.
    "urn:3gpp:video-orientation",
];

/// The codecs and extensions a leg of a session with `video` negotiates.
pub fn media_engine(video: Option<VideoCodec>) -> Result<MediaEngine, rtc::shared::error::Error> {
    let mut me = MediaEngine::default();
    me.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: "audio/opus".to_owned(),
                clock_rate: 48_000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                rtcp_feedback: vec![],
            },
            payload_type: 111,
        },
        RtpCodecKind::Audio,
    )?;
    let feedback = |typ: &str, parameter: &str| RTCPFeedback { typ: typ.to_owned(), parameter: parameter.to_owned() };
    let video_feedback = vec![feedback("ccm", "fir"), feedback("nack", ""), feedback("nack", "pli")];
    let video_codecs = match video {
        Some(VideoCodec::Vp8) | None => vec![("video/VP8", String::new(), 96)],
        Some(VideoCodec::H264) => vec![
            ("video/H264", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f".to_owned(), 102),
            ("video/H264", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f".to_owned(), 127),
        ],
    };
    for (mime, fmtp, pt) in video_codecs {
        me.register_codec(
            RTCRtpCodecParameters {
                rtp_codec: RTCRtpCodec {
                    mime_type: mime.to_owned(),
                    clock_rate: 90_000,
                    channels: 0,
                    sdp_fmtp_line: fmtp,
                    rtcp_feedback: video_feedback.clone(),
                },
                payload_type: pt,
            },
            RtpCodecKind::Video,
        )?;
    }
    for (uri, kind) in [(FORWARDED_EXTENSIONS[0], RtpCodecKind::Audio), (FORWARDED_EXTENSIONS[1], RtpCodecKind::Video)]
    {
        me.register_header_extension(
            RTCRtpHeaderExtensionCapability { uri: uri.to_owned() },
            kind,
            Some(RTCRtpTransceiverDirection::Sendrecv),
        )?;
    }
    Ok(me)
}

/// The kinds of media (`audio`, `video`) an offer wanted and the answer refused: an
/// offered `m=` section with a port, answered with port 0 (no codec in common: the
/// participant offered none of Opus, or of the session's video codec). The participant is
/// told, so nobody wonders why their video never shows.
pub fn refused_kinds(offer_sdp: &str, answer_sdp: &str) -> Vec<&'static str> {
    fn sections(sdp: &str) -> Vec<(&str, bool)> {
        sdp.lines()
            .filter_map(|l| l.strip_prefix("m="))
            .map(|m| {
                let mut parts = m.split_whitespace();
                let kind = parts.next().unwrap_or_default();
                let port = parts.next().unwrap_or_default();
                (kind, port != "0")
            })
            .collect()
    }
    let (offered, answered) = (sections(offer_sdp), sections(answer_sdp));
    let mut refused = Vec::new();
    for ((kind, wanted), (_, taken)) in offered.iter().zip(answered.iter()) {
        let kind = match *kind {
            "audio" => "audio",
            "video" => "video",
            _ => continue,
        };
        if *wanted && !*taken && !refused.contains(&kind) {
            refused.push(kind);
        }
    }
    refused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_sections_are_found_by_their_port() {
        let offer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nm=video 9 UDP/TLS/RTP/SAVPF 98\r\nm=application 9 x\r\n";
        let answer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nm=video 0 UDP/TLS/RTP/SAVPF 0\r\nm=application 0 x\r\n";
        assert_eq!(refused_kinds(offer, answer), vec!["video"]);
        assert!(refused_kinds(offer, offer).is_empty());
        assert!(refused_kinds("garbage", "").is_empty());
        let inactive = "m=video 0 UDP/TLS/RTP/SAVPF 98\r\n";
        assert!(refused_kinds(inactive, inactive).is_empty(), "not wanted, not refused");
    }

    #[test]
    fn the_offer_decides_the_codec() {
        let both = "m=video 9 UDP/TLS/RTP/SAVPF 96 102\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:102 H264/90000\r\n";
        assert_eq!(VideoCodec::preferred_in(both), Some(VideoCodec::Vp8));
        let h264 = "a=rtpmap:102 h264/90000\r\n";
        assert_eq!(VideoCodec::preferred_in(h264), Some(VideoCodec::H264));
        assert_eq!(VideoCodec::preferred_in("a=rtpmap:111 opus/48000/2\r\n"), None);
        assert_eq!(VideoCodec::preferred_in("a=rtpmap:"), None);
        assert!(VideoCodec::Vp8.is("video/vp8") && !VideoCodec::Vp8.is("video/H264"));
    }

    #[test]
    fn vp8_keyframes_are_found_behind_every_descriptor_shape() {
        // S=1, PID=0, no extension; frame tag P=0.
        assert!(VideoCodec::Vp8.starts_keyframe(&[0x10, 0x00]));
        assert!(!VideoCodec::Vp8.starts_keyframe(&[0x10, 0x01]), "P=1 is an inter frame");
        assert!(!VideoCodec::Vp8.starts_keyframe(&[0x00, 0x00]), "not the start of a partition");
        // X=1, I=1 with a 15-bit picture id, L=1, T=1.
        assert!(VideoCodec::Vp8.starts_keyframe(&[0x90, 0xe0, 0x81, 0x02, 0x03, 0x04, 0x00]));
        assert!(!VideoCodec::Vp8.starts_keyframe(&[0x90, 0xe0, 0x81, 0x02, 0x03, 0x04, 0x01]));
        for truncated in [&[][..], &[0x90], &[0x90, 0x80], &[0x90, 0x80, 0x81, 0x02]] {
            assert!(!VideoCodec::Vp8.starts_keyframe(truncated));
        }
    }

    #[test]
    fn h264_keyframes_are_found_alone_aggregated_and_fragmented() {
        assert!(VideoCodec::H264.starts_keyframe(&[0x65, 0x88]), "IDR");
        assert!(VideoCodec::H264.starts_keyframe(&[0x67, 0x42]), "SPS");
        assert!(!VideoCodec::H264.starts_keyframe(&[0x41, 0x9a]), "non-IDR slice");
        // STAP-A: a 2-byte SEI then an SPS.
        assert!(VideoCodec::H264.starts_keyframe(&[0x18, 0x00, 0x02, 0x06, 0x01, 0x00, 0x02, 0x67, 0x42]));
        assert!(!VideoCodec::H264.starts_keyframe(&[0x18, 0x00, 0x02, 0x06, 0x01]));
        // FU-A: start bit with IDR, then a middle fragment.
        assert!(VideoCodec::H264.starts_keyframe(&[0x7c, 0x85, 0x00]));
        assert!(!VideoCodec::H264.starts_keyframe(&[0x7c, 0x05, 0x00]));
        assert!(!VideoCodec::H264.starts_keyframe(&[]));
        assert!(!VideoCodec::H264.starts_keyframe(&[0x18, 0xff, 0xff]));
    }

    #[test]
    fn an_engine_registers_for_each_codec() {
        for video in [None, Some(VideoCodec::Vp8), Some(VideoCodec::H264)] {
            assert!(media_engine(video).is_ok());
        }
    }

    proptest::proptest! {
        #[test]
        fn keyframe_detection_never_panics(payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)) {
            let _ = VideoCodec::Vp8.starts_keyframe(&payload);
            let _ = VideoCodec::H264.starts_keyframe(&payload);
        }
    }
}
