//! Keys pressed on a phone. Two ways in: RFC 4733 `telephone-event` packets on the RTP
//! stream (the usual one), or a SIP INFO request (`application/dtmf-relay` or
//! `application/dtmf`, which some PBXs send instead).
//!
//! Every packet of one key press carries the same RTP timestamp, and the last one is sent
//! three times; a key is taken once, from the first packet of its timestamp that arrives
//! (so a lost first packet delays nothing). LiveKit SIP does the same, and for the same
//! reason: the marker bit of the first packet is lost as easily as any other.

/// What was wrong with a DTMF payload or body.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DtmfError {
    /// An RFC 4733 payload shorter than its 4 bytes.
    #[error("a telephone-event payload is 4 bytes; this one has {0}")]
    Short(usize),
    /// An event number that is not a key (16 and up are tones and line events).
    #[error("telephone-event {0} is not a key (0-15 are)")]
    NotAKey(u8),
    /// A SIP INFO body without a key.
    #[error("the INFO body names no key: {0:?}")]
    NoKey(String),
    /// A SIP INFO body of a type we do not read.
    #[error("INFO bodies of type {0:?} carry no keys we read (application/dtmf-relay and application/dtmf do)")]
    ContentType(String),
}

/// One RFC 4733 event packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The key: `0`–`9`, `*`, `#`, `A`–`D`.
    pub key: char,
    /// The last packets of the press (the E bit).
    pub end: bool,
    /// How long the key has been held so far, in RTP clock units (8 kHz: 1/8 ms).
    pub duration: u16,
}

/// The keys of events 0 to 15 (RFC 4733 section 3.2).
const KEYS: [char; 16] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'];

/// Read one `telephone-event` payload.
pub fn parse_event(payload: &[u8]) -> Result<Event, DtmfError> {
    let [event, flags, d0, d1, ..] = *payload else { return Err(DtmfError::Short(payload.len())) };
    let key = *KEYS.get(usize::from(event)).ok_or(DtmfError::NotAKey(event))?;
    Ok(Event { key, end: flags & 0x80 != 0, duration: u16::from_be_bytes([d0, d1]) })
}

/// The keys of one RTP stream's events, each press once.
#[derive(Debug, Default)]
pub struct Keys {
    /// The timestamp of the press last taken.
    last: Option<u32>,
}

impl Keys {
    /// A `telephone-event` packet with its RTP timestamp: the key if it starts a press.
    /// A payload that is not a key is an error, and changes nothing.
    pub fn packet(&mut self, timestamp: u32, payload: &[u8]) -> Result<Option<char>, DtmfError> {
        let event = parse_event(payload)?;
        if self.last == Some(timestamp) {
            return Ok(None);
        }
        self.last = Some(timestamp);
        Ok(Some(event.key))
    }
}

/// The key of a SIP INFO body of `content_type` (parameters after `;` ignored):
/// `application/dtmf-relay` (`Signal=5` and `Duration=160` lines) or `application/dtmf`
/// (the key alone).
pub fn info_key(content_type: &str, body: &str) -> Result<char, DtmfError> {
    let kind = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let value = match kind.as_str() {
        "application/dtmf-relay" => body
            .lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("signal"))
            .map(|(_, v)| v.trim())
            .ok_or_else(|| DtmfError::NoKey(body.chars().take(80).collect()))?,
        "application/dtmf" => body.trim(),
        _ => return Err(DtmfError::ContentType(kind)),
    };
    let key = match value.to_ascii_uppercase().as_str() {
        "10" => '*',
        "11" => '#',
        v if v.chars().count() == 1 => v.chars().next().unwrap_or(' '),
        _ => ' ',
    };
    if KEYS.contains(&key) { Ok(key) } else { Err(DtmfError::NoKey(value.chars().take(80).collect())) }
}

/// Keys gathered into an entry ended by `#` (a PIN, a menu choice), at most `max` long.
#[derive(Debug)]
pub struct Entry {
    keys: String,
    max: usize,
}

/// What a key did to an [`Entry`].
#[derive(Debug, PartialEq, Eq)]
pub enum Entered {
    /// Taken; more may come.
    More,
    /// `#`: the entry is complete (possibly empty).
    Done(String),
    /// Longer than allowed: the entry is refused and starts over.
    TooLong,
}

impl Entry {
    /// An empty entry of at most `max` keys.
    pub fn new(max: usize) -> Entry {
        Entry { keys: String::new(), max }
    }

    /// Take a key.
    pub fn key(&mut self, key: char) -> Entered {
        if key == '#' {
            return Entered::Done(std::mem::take(&mut self.keys));
        }
        if self.keys.len() >= self.max {
            self.keys.clear();
            return Entered::TooLong;
        }
        self.keys.push(key);
        Entered::More
    }

    /// The keys so far.
    pub fn so_far(&self) -> &str {
        &self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The packets SIPp's `dtmf_2833_1.pcap` sends for one press of `1`: ten packets with
    /// one timestamp, growing durations, the last three with the E bit.
    fn press(event: u8) -> Vec<[u8; 4]> {
        let mut v: Vec<[u8; 4]> = (1..=7u16)
            .map(|k| {
                let d = (k * 160).to_be_bytes();
                [event, 0x0a, d[0], d[1]]
            })
            .collect();
        for _ in 0..3 {
            let d = 1280u16.to_be_bytes();
            v.push([event, 0x8a, d[0], d[1]]);
        }
        v
    }

    #[test]
    fn each_press_is_one_key_even_with_its_first_packets_lost() {
        let mut keys = Keys::default();
        let mut got = String::new();
        for (n, (event, ts)) in
            [(1u8, 1000u32), (2, 3000), (3, 5000), (4, 7000), (11, 9000), (11, 11_000)].iter().enumerate()
        {
            // The first two packets of every other press never arrive.
            let skip = if n % 2 == 1 { 2 } else { 0 };
            for p in press(*event).iter().skip(skip) {
                if let Some(k) = keys.packet(*ts, p).unwrap() {
                    got.push(k);
                }
            }
        }
        assert_eq!(got, "1234##");
    }

    #[test]
    fn events_say_their_key_end_and_duration() {
        assert_eq!(parse_event(&[10, 0x8a, 0x05, 0x00]), Ok(Event { key: '*', end: true, duration: 1280 }));
        assert_eq!(parse_event(&[15, 0, 0, 160]), Ok(Event { key: 'D', end: false, duration: 160 }));
        assert_eq!(parse_event(&[16, 0, 0, 0]), Err(DtmfError::NotAKey(16)));
        assert_eq!(parse_event(&[1, 0]), Err(DtmfError::Short(2)));
        let mut keys = Keys::default();
        assert!(keys.packet(1, &[200, 0, 0, 0]).is_err());
        assert_eq!(keys.packet(1, &[5, 0, 0, 0]), Ok(Some('5')), "a bad packet changed nothing");
    }

    #[test]
    fn info_bodies_of_both_kinds() {
        assert_eq!(info_key("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"), Ok('5'));
        assert_eq!(info_key("Application/DTMF-Relay; charset=utf-8", "signal = #\nDuration=100"), Ok('#'));
        assert_eq!(info_key("application/dtmf-relay", "Signal=11\r\n"), Ok('#'));
        assert_eq!(info_key("application/dtmf", "7"), Ok('7'));
        assert_eq!(info_key("application/dtmf", " a \r\n"), Ok('A'));
        assert!(matches!(info_key("application/dtmf-relay", "Duration=160"), Err(DtmfError::NoKey(_))));
        assert!(matches!(info_key("application/dtmf", "12"), Err(DtmfError::NoKey(_))));
        assert!(matches!(info_key("text/plain", "5"), Err(DtmfError::ContentType(_))));
    }

    #[test]
    fn an_entry_ends_with_hash_and_refuses_what_is_too_long() {
        let mut e = Entry::new(4);
        for k in "1234".chars() {
            assert_eq!(e.key(k), Entered::More);
        }
        assert_eq!(e.so_far(), "1234");
        assert_eq!(e.key('5'), Entered::TooLong);
        assert_eq!(e.so_far(), "");
        assert_eq!(e.key('9'), Entered::More);
        assert_eq!(e.key('#'), Entered::Done("9".into()));
        assert_eq!(e.key('#'), Entered::Done(String::new()));
    }

    proptest! {
        /// Any bytes: a key or a clear error, never a panic.
        #[test]
        fn any_payload_or_body_is_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..12), body in ".{0,40}", kind in "[a-z/-]{0,24}") {
            let _ = parse_event(&bytes);
            let _ = Keys::default().packet(0, &bytes);
            let _ = info_key(&kind, &body);
            let _ = info_key("application/dtmf-relay", &body);
            let _ = info_key("application/dtmf", &body);
        }
    }
}
