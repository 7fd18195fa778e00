//! The SIP side's session descriptions: one audio stream of G.711, with RFC 4733 events
//! (RFC 3264 offer and answer, RFC 3551 static payload types). The bridge answers an
//! offer by taking the first of PCMU and PCMA in the offerer's order, mirroring its
//! `telephone-event` payload type, mirroring its direction (a hold is `sendonly` or
//! `inactive`, or the old `c=0.0.0.0`), and refusing every other stream with port 0. Its
//! own offers (calls it places) offer PCMU, PCMA and events on 101.
//!
//! Plain RTP only (`RTP/AVP`): trunks and PBXs on a municipality's network do not
//! encrypt media; an offer of SRTP is refused with a clear reason (`488`).

use std::io::Cursor;
use std::net::{IpAddr, SocketAddr};

use rtc::sdp::description::media::MediaDescription;
use rtc::sdp::description::session::SessionDescription;

use crate::g711::Law;

/// The largest description read (a PBX's are under 2 KB).
pub const MAX_SDP: usize = 16 * 1024;

/// The payload type of our own offers' `telephone-event`.
pub const OUR_DTMF_PT: u8 = 101;

/// Why a description cannot be used: the text goes into the SIP refusal and the log.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdpError {
    /// Too large to read.
    #[error("the session description is {0} bytes; at most {MAX_SDP} are read")]
    TooLarge(usize),
    /// Not SDP.
    #[error("the session description does not parse: {0}")]
    Syntax(String),
    /// No audio stream to take.
    #[error("the session description has no audio stream (an m=audio line with a port)")]
    NoAudio,
    /// Encrypted media.
    #[error("the audio stream is {0}; the bridge takes plain RTP (RTP/AVP) from trunks and PBXs")]
    Transport(String),
    /// No codec the bridge takes.
    #[error("no codec in common: the audio stream offers {0}; the bridge takes PCMU/8000 and PCMA/8000")]
    NoCommonCodec(String),
    /// No address to send to.
    #[error("the audio stream has no connection address (c=)")]
    NoAddress,
    /// An address that is not an IP address.
    #[error("the connection address {0:?} is not an IP address")]
    Address(String),
    /// A port that is not one.
    #[error("the audio port {0} is not a UDP port")]
    Port(isize),
}

/// Which way media flows, from one side's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Both ways.
    SendRecv,
    /// This side sends only (the other holds it, or is muted).
    SendOnly,
    /// This side receives only.
    RecvOnly,
    /// Neither (held both ways).
    Inactive,
}

impl Direction {
    fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The answerer's direction for an offer of this one (RFC 3264 section 6.1).
    pub fn mirrored(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }

    /// This side sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// This side takes media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// Read an `a=` flag.
    fn of(key: &str) -> Option<Direction> {
        match key {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }
}

/// What an offer and its answer agreed, from the bridge's side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Where to send RTP (the other side's address and port).
    pub remote: SocketAddr,
    /// The law, and the payload type it goes by in this session.
    pub law: Law,
    /// Its payload type.
    pub payload_type: u8,
    /// The `telephone-event` payload type, if the other side takes events.
    pub dtmf: Option<u8>,
    /// The packet length the other side asked for, in milliseconds (20 if it said none).
    pub ptime: u32,
    /// What the bridge does: send, receive, both or neither.
    pub direction: Direction,
}

/// The bridge's own side of a session.
#[derive(Clone, Copy, Debug)]
pub struct Local {
    /// Where it takes RTP.
    pub rtp: SocketAddr,
    /// The `o=` line's session id.
    pub session_id: u64,
    /// The `o=` line's version (one more for each new description of the session).
    pub version: u64,
}

/// The audio stream of a parsed description: its index, and what it says.
struct Audio<'a> {
    index: usize,
    media: &'a MediaDescription,
    remote: SocketAddr,
    direction: Direction,
}

fn parse(sdp: &str) -> Result<SessionDescription, SdpError> {
    if sdp.len() > MAX_SDP {
        return Err(SdpError::TooLarge(sdp.len()));
    }
    // Bodies from the wire may end lines with LF alone; the parser wants CRLF.
    let normalised: String = sdp.lines().map(|l| format!("{}\r\n", l.trim_end_matches('\r'))).collect();
    SessionDescription::unmarshal(&mut Cursor::new(normalised.as_bytes())).map_err(|e| SdpError::Syntax(e.to_string()))
}

fn audio(session: &SessionDescription) -> Result<Audio<'_>, SdpError> {
    let (index, media) = session
        .media_descriptions
        .iter()
        .enumerate()
        .find(|(_, m)| m.media_name.media.eq_ignore_ascii_case("audio") && m.media_name.port.value != 0)
        .ok_or(SdpError::NoAudio)?;
    let proto = media.media_name.protos.join("/");
    if !proto.eq_ignore_ascii_case("RTP/AVP") {
        return Err(SdpError::Transport(proto));
    }
    let port = media.media_name.port.value;
    let port = u16::try_from(port).map_err(|_| SdpError::Port(port))?;
    let connection = media
        .connection_information
        .as_ref()
        .or(session.connection_information.as_ref())
        .and_then(|c| c.address.as_ref())
        .ok_or(SdpError::NoAddress)?;
    let ip: IpAddr = connection.address.parse().map_err(|_| SdpError::Address(connection.address.clone()))?;
    let flag = |attributes: &[rtc::sdp::description::common::Attribute]| {
        attributes.iter().find_map(|a| Direction::of(a.key.as_str()))
    };
    let mut direction = flag(&media.attributes).or_else(|| flag(&session.attributes)).unwrap_or(Direction::SendRecv);
    // RFC 2543's hold: an unspecified address.
    if ip.is_unspecified() {
        direction = Direction::Inactive;
    }
    Ok(Audio { index, media, remote: SocketAddr::new(ip, port), direction })
}

/// `(payload type, encoding name, clock rate)` of each format of `media`, in its order;
/// static types (0 and 8) without an `a=rtpmap` by their RFC 3551 names.
fn formats(media: &MediaDescription) -> Vec<(u8, String, u32)> {
    let rtpmap = |pt: u8| {
        media.attributes.iter().filter(|a| a.key == "rtpmap").filter_map(|a| a.value.as_deref()).find_map(|v| {
            let (number, codec) = v.split_once(' ')?;
            if number.trim().parse::<u8>().ok()? != pt {
                return None;
            }
            let mut parts = codec.trim().split('/');
            let name = parts.next()?.to_string();
            let clock = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
            Some((name, clock))
        })
    };
    media
        .media_name
        .formats
        .iter()
        .filter_map(|f| f.parse::<u8>().ok())
        .map(|pt| {
            let (name, clock) = rtpmap(pt).unwrap_or_else(|| match pt {
                0 => ("PCMU".into(), 8000),
                8 => ("PCMA".into(), 8000),
                other => (format!("payload type {other}"), 0),
            });
            (pt, name, clock)
        })
        .collect()
}

/// What `audio` offers or answers: the first G.711 law, the events' payload type, the
/// packet time.
fn agree(audio: &Audio<'_>, direction: Direction) -> Result<Negotiated, SdpError> {
    let formats = formats(audio.media);
    let law = |name: &str| match name.to_ascii_uppercase().as_str() {
        "PCMU" => Some(Law::Mu),
        "PCMA" => Some(Law::A),
        _ => None,
    };
    let (payload_type, law) = formats
        .iter()
        .find_map(|(pt, name, clock)| law(name).filter(|_| *clock == 8000).map(|l| (*pt, l)))
        .ok_or_else(|| {
            SdpError::NoCommonCodec(formats.iter().map(|(_, n, c)| format!("{n}/{c}")).collect::<Vec<_>>().join(", "))
        })?;
    let dtmf = formats
        .iter()
        .find(|(_, name, clock)| name.eq_ignore_ascii_case("telephone-event") && *clock == 8000)
        .map(|(pt, ..)| *pt);
    let ptime = audio
        .media
        .attributes
        .iter()
        .find(|a| a.key == "ptime")
        .and_then(|a| a.value.as_deref()?.trim().parse().ok())
        .filter(|p| (10..=60).contains(p))
        .unwrap_or(20);
    Ok(Negotiated { remote: audio.remote, law, payload_type, dtmf, ptime, direction })
}

/// The session-level lines of our descriptions.
fn head(local: &Local) -> String {
    let family = if local.rtp.is_ipv4() { "IP4" } else { "IP6" };
    let ip = local.rtp.ip();
    format!(
        "v=0\r\no=kakehashi {} {} IN {family} {ip}\r\ns=kakehashi\r\nc=IN {family} {ip}\r\nt=0 0\r\n",
        local.session_id, local.version
    )
}

/// The audio lines for `law` on `pt` with events on `dtmf`.
fn audio_lines(local: &Local, codecs: &[(u8, &str)], dtmf: Option<u8>, direction: Direction) -> String {
    let mut pts: Vec<String> = codecs.iter().map(|(pt, _)| pt.to_string()).collect();
    pts.extend(dtmf.map(|d| d.to_string()));
    let mut s = format!("m=audio {} RTP/AVP {}\r\n", local.rtp.port(), pts.join(" "));
    for (pt, name) in codecs {
        s.push_str(&format!("a=rtpmap:{pt} {name}/8000\r\n"));
    }
    if let Some(d) = dtmf {
        s.push_str(&format!("a=rtpmap:{d} telephone-event/8000\r\na=fmtp:{d} 0-15\r\n"));
    }
    s.push_str(&format!("a=ptime:20\r\na={}\r\n", direction.attribute()));
    s
}

/// Answer an offer: what was agreed, and the answer to send.
pub fn answer(offer: &str, local: &Local) -> Result<(Negotiated, String), SdpError> {
    let session = parse(offer)?;
    let audio = audio(&session)?;
    let ours = audio.direction.mirrored();
    let agreed = agree(&audio, ours)?;
    let mut sdp = head(local);
    for (i, m) in session.media_descriptions.iter().enumerate() {
        if i == audio.index {
            sdp.push_str(&audio_lines(local, &[(agreed.payload_type, agreed.law.name())], agreed.dtmf, ours));
        } else {
            // Refused (RFC 3264 section 6): the same line with port 0.
            let formats =
                if m.media_name.formats.is_empty() { "0".to_string() } else { m.media_name.formats.join(" ") };
            sdp.push_str(&format!("m={} 0 {} {formats}\r\n", m.media_name.media, m.media_name.protos.join("/")));
        }
    }
    Ok((agreed, sdp))
}

/// Our offer for a call we place (or a re-offer, with `direction` for a hold).
pub fn offer(local: &Local, direction: Direction) -> String {
    let mut sdp = head(local);
    sdp.push_str(&audio_lines(local, &[(0, "PCMU"), (8, "PCMA")], Some(OUR_DTMF_PT), direction));
    sdp
}

/// Read the answer to our offer.
pub fn answered(answer: &str) -> Result<Negotiated, SdpError> {
    let session = parse(answer)?;
    let audio = audio(&session)?;
    let ours = audio.direction.mirrored();
    agree(&audio, ours)
}

#[cfg(test)]
#[path = "sdp_tests.rs"]
mod tests;
