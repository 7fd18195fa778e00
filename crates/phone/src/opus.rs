//! Opus on the bridge's WebRTC side, at the phone's 8 kHz: what a phone says is encoded
//! from 8 kHz (narrowband: nothing above 4 kHz exists on a phone line anyway, and it
//! costs a third of a 48 kHz encode), and what browsers send is decoded straight to 8 kHz
//! (libopus resamples inside the decoder). The RTP clock stays at 48 kHz either way.
//! Debian's libopus 1.3 through `audiopus`.

use audiopus::coder::{Decoder, Encoder};
use audiopus::{Application, Bitrate, Channels, SampleRate};

use crate::FRAME_8K;

/// Opus's failures, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("opus {doing}: {source}")]
pub struct OpusError {
    doing: &'static str,
    source: audiopus::Error,
}

fn failed(doing: &'static str) -> impl FnOnce(audiopus::Error) -> OpusError {
    move |source| OpusError { doing, source }
}

/// RTP timestamp units (48 kHz) per 20 ms frame.
pub const TICKS_PER_FRAME: u32 = 960;

/// A phone's voice, encoded for the call.
#[derive(Debug)]
pub struct Voice {
    encoder: Encoder,
    out: Vec<u8>,
}

impl Voice {
    /// An encoder for speech: 8 kHz mono, 24 kbit/s, complexity 5, in-band FEC for 5% loss.
    pub fn new() -> Result<Voice, OpusError> {
        let mut encoder = Encoder::new(SampleRate::Hz8000, Channels::Mono, Application::Voip)
            .map_err(failed("creating an encoder"))?;
        encoder.set_bitrate(Bitrate::BitsPerSecond(24_000)).map_err(failed("setting the bitrate"))?;
        encoder.set_complexity(5).map_err(failed("setting the complexity"))?;
        encoder.set_inband_fec(true).map_err(failed("turning on FEC"))?;
        encoder.set_packet_loss_perc(5).map_err(failed("setting the expected loss"))?;
        Ok(Voice { encoder, out: vec![0; 400] })
    }

    /// Encode one 20 ms frame (160 samples; a shorter one is padded with silence).
    pub fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>, OpusError> {
        let mut frame = [0i16; FRAME_8K];
        let n = pcm.len().min(FRAME_8K);
        frame[..n].copy_from_slice(&pcm[..n]);
        let len = self.encoder.encode(&frame, &mut self.out).map_err(failed("encoding"))?;
        Ok(self.out[..len].to_vec())
    }
}

/// Someone's Opus, decoded for the phones.
#[derive(Debug)]
pub struct Listener {
    decoder: Decoder,
    out: Vec<i16>,
}

impl Listener {
    /// A decoder to 8 kHz mono.
    pub fn new() -> Result<Listener, OpusError> {
        let decoder = Decoder::new(SampleRate::Hz8000, Channels::Mono).map_err(failed("creating a decoder"))?;
        // Up to 120 ms in one packet.
        Ok(Listener { decoder, out: vec![0; 6 * FRAME_8K] })
    }

    /// Decode a packet into `pcm` (cleared first); `None` conceals a lost 20 ms frame.
    /// A packet that does not decode is an error and `pcm` holds 20 ms of silence.
    pub fn decode(&mut self, packet: Option<&[u8]>, pcm: &mut Vec<i16>) -> Result<(), OpusError> {
        pcm.clear();
        let result = match packet.filter(|p| !p.is_empty()) {
            Some(p) => {
                let out = &mut self.out[..];
                self.decoder.decode(Some(p), out, false)
            }
            None => {
                let out = &mut self.out[..FRAME_8K];
                self.decoder.decode(None::<&[u8]>, out, false)
            }
        };
        match result {
            Ok(n) => {
                pcm.extend_from_slice(&self.out[..n.min(self.out.len())]);
                Ok(())
            }
            Err(e) => {
                pcm.resize(FRAME_8K, 0);
                Err(failed("decoding")(e))
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) use crate::tone::{share, tone};

    /// What comes out of 50 frames of a 440 Hz tone, every `lose`-th packet lost.
    fn round_trip(lose: u32) -> Vec<i16> {
        let (mut voice, mut listener) = (Voice::new().unwrap(), Listener::new().unwrap());
        let mut heard = Vec::new();
        let mut pcm = Vec::new();
        for n in 0..50 {
            let packet = voice.encode(&tone(440.0, n)).unwrap();
            assert!(!packet.is_empty() && packet.len() < 120, "{} bytes", packet.len());
            let got = if n % lose == lose - 1 { None } else { Some(&packet[..]) };
            listener.decode(got, &mut pcm).unwrap();
            assert_eq!(pcm.len(), FRAME_8K);
            if n >= 5 {
                heard.extend_from_slice(&pcm);
            }
        }
        heard
    }

    #[test]
    fn a_tone_survives_the_round_trip_and_losses_are_concealed() {
        let clean = share(&round_trip(u32::MAX), 440.0);
        assert!(clean > 0.9, "440 Hz is {clean:.2} of what came out");
        // Every tenth packet lost: concealed, the tone still dominates.
        let lossy = round_trip(10);
        let s = share(&lossy, 440.0);
        assert!(s > 0.5, "with losses 440 Hz is {s:.2}");
        let loud = lossy.chunks(FRAME_8K).filter(|f| f.iter().any(|x| x.unsigned_abs() > 1000)).count();
        assert!(loud >= 40, "concealed frames are not silence: {loud} of 45 loud");
    }

    #[test]
    fn garbage_is_an_error_and_silence() {
        let mut listener = Listener::new().unwrap();
        let mut pcm = Vec::new();
        // A code-3 packet that claims 48 frames in 2 bytes.
        let bad = listener.decode(Some(&[0x03, 0xff]), &mut pcm);
        assert!(bad.is_err());
        assert_eq!(pcm, vec![0; FRAME_8K]);
        listener.decode(Some(&[]), &mut pcm).unwrap();
        assert_eq!(pcm.len(), FRAME_8K, "an empty packet is a lost one");
    }
}
