//! Every event of every role round-trips through the protocol's own types, numbered or
//! not: what the server writes, a client built on this crate reads back unchanged. The
//! samples cover every variant (checked against the generated schema), and events keep
//! parsing when the server adds a field.

use std::collections::BTreeSet;

use kakehashi_protocol::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn welcome() -> Welcome {
    Welcome {
        protocol: PROTOCOL_VERSION,
        resume_token: "t".into(),
        heartbeat_secs: 15,
        resume_grace_secs: 60,
        resumed: true,
        ice_servers: vec![IceServer {
            urls: vec!["turns:turn.example.jp:443?transport=tcp".into()],
            username: Some("1700000000:x".into()),
            credential: Some("c".into()),
        }],
    }
}

fn error() -> ProtocolError {
    ProtocolError { code: ErrorCode::NotAllowed, message: "no".into() }
}

fn part() -> DocumentPart {
    DocumentPart { id: 3, part: 0, parts: 2, mime: DocumentMime::Png, data: "aGk=".into() }
}

fn sdp(kind: SdpKind) -> SessionDescription {
    SessionDescription { kind, sdp: "v=0\r\n".into() }
}

fn people() -> Vec<Participant> {
    vec![
        Participant { id: 0, party: Party::Desk, away: false, muted: true, camera_off: false },
        Participant { id: 1, party: Party::Interpreter, away: true, muted: false, camera_off: false },
        Participant { id: 2, party: Party::Resident, away: false, muted: false, camera_off: true },
        Participant { id: 3, party: Party::Guest, away: false, muted: false, camera_off: false },
        Participant { id: 4, party: Party::Phone, away: false, muted: false, camera_off: false },
    ]
}

fn desk_events() -> Vec<DeskEvent> {
    use DeskEvent as E;
    vec![
        E::Welcome(welcome()),
        E::Queued { request: 7, ringing: true, position: 0, estimate: WaitEstimate::Unknown },
        E::Position { request: 7, ringing: false, position: 2, estimate: WaitEstimate::OneToThreeMinutes },
        E::Unserved { request: 7, suggestion: Suggestion::LaterToday { from: "2026-12-04T09:00:00Z".into() } },
        E::Unserved { request: 7, suggestion: Suggestion::Booking { from: "2026-12-05T09:00:00Z".into() } },
        E::Unserved { request: 7, suggestion: Suggestion::Phone },
        E::Expired { request: 7 },
        E::Cancelled { request: 7 },
        E::Assigned { request: 7, call: 7, interpreter: 12, you: 0, participants: people()[..2].to_vec() },
        E::ParticipantJoined { call: 7, party: Party::Guest, participant: 3 },
        E::ParticipantLeft { call: 7, party: Party::Resident, participant: 2, reason: LeftReason::Dropped },
        E::CallEnded { call: 7, by: Party::Interpreter },
        E::Invite {
            call: 7,
            party: Party::Guest,
            url: "https://k.example/join/x".into(),
            qr_svg: "<svg/>".into(),
            expires_at: "2026-12-04T09:15:00Z".into(),
        },
        E::PhoneInvite {
            call: 7,
            number: "03-1234-5678".into(),
            pin: "042719".into(),
            expires_at: "2026-12-04T09:15:00Z".into(),
        },
        E::Dialling { call: 7 },
        E::LineCall { request: 8, language: "ne".into(), online: false },
        E::LineCall { request: 10, language: "ne".into(), online: true },
        E::Availability {
            languages: vec![
                LanguageAvailability { language: "vi".into(), state: AvailabilityState::Now, from: None },
                LanguageAvailability {
                    language: "ne".into(),
                    state: AvailabilityState::LaterToday,
                    from: Some("2026-12-07T05:00:00Z".into()),
                },
            ],
        },
        E::BookingCall {
            request: 9,
            booking: 4,
            language: "vi".into(),
            ends_at: "2026-12-07T01:30:00Z".into(),
            resident: ResidentJoins::Phone,
        },
        E::DialFailed { call: 7, reason: DialFailure::Busy },
        E::DocumentPassed { call: 7, id: 3, part: 1 },
        E::Document { call: 7, from: Party::Resident, document: part() },
        E::OutcomeRecorded { call: 7 },
        E::Sdp { call: 7, description: sdp(SdpKind::Answer) },
        E::ParticipantMedia { call: 7, participant: 2, muted: true, camera_off: false },
        E::MediaMoved { call: 7 },
        E::MediaFailed { call: 7 },
        E::Ice { call: 7, candidate: "candidate:1 1 udp 1 192.0.2.1 9 typ host".into() },
        E::Error(error()),
        E::Pong,
    ]
}

fn interpreter_events() -> Vec<InterpreterEvent> {
    use InterpreterEvent as E;
    vec![
        E::Welcome(welcome()),
        E::Presence { presence: PresenceState::NotReadyMissedOffers },
        E::Offer {
            offer: 31,
            tenant: "Asahi City".into(),
            desk: "City hall, counter 2".into(),
            urgent: true,
            requested_at: "2026-12-04T08:58:40Z".into(),
            language: "vi".into(),
            modality: Modality::Audio,
            speciality: Some(Speciality::Labour),
            ring_until: "2026-12-04T09:00:20Z".into(),
            booking: Some(4),
        },
        E::OfferClosed { offer: 31, reason: OfferClosedReason::AnsweredElsewhere },
        E::Assigned { offer: 31, call: 7, you: 1, participants: people()[..2].to_vec() },
        E::ParticipantJoined { call: 7, party: Party::Resident, participant: 2 },
        E::ParticipantLeft { call: 7, party: Party::Desk, participant: 0, reason: LeftReason::Left },
        E::CallEnded { call: 7, by: Party::Desk },
        E::DocumentPassed { call: 7, id: 3, part: 0 },
        E::Document { call: 7, from: Party::Desk, document: part() },
        E::Sdp { call: 7, description: sdp(SdpKind::Offer) },
        E::ParticipantMedia { call: 7, participant: 0, muted: false, camera_off: true },
        E::MediaMoved { call: 7 },
        E::MediaFailed { call: 7 },
        E::Ice { call: 7, candidate: "c".into() },
        E::Notice {
            id: 3,
            from: "Asahi City".into(),
            text: "明日は臨時休館です".into(),
            at: "2026-12-06T01:00:00Z".into(),
        },
        E::BookingSoon { booking: 4, starts_at: "2026-12-07T01:00:00Z".into(), language: "ne".into() },
        E::Error(error()),
        E::Pong,
    ]
}

fn resident_events() -> Vec<ResidentEvent> {
    use ResidentEvent as E;
    vec![
        E::Welcome(welcome()),
        E::Joined { language: "vi".into(), party: Party::Resident, you: 2, participants: people(), call: 7 },
        E::ParticipantJoined { party: Party::Interpreter, participant: 1 },
        E::ParticipantLeft { party: Party::Desk, participant: 0, reason: LeftReason::Dropped },
        E::DocumentPassed { id: 3, part: 1 },
        E::Document { from: Party::Interpreter, document: part() },
        E::CallEnded,
        E::Sdp { description: sdp(SdpKind::Answer) },
        E::ParticipantMedia { participant: 1, muted: true, camera_off: true },
        E::MediaMoved {},
        E::MediaFailed {},
        E::Ice { candidate: "c".into() },
        E::Error(error()),
        E::Pong,
    ]
}

fn supervisor_events() -> Vec<SupervisorEvent> {
    use SupervisorEvent as E;
    vec![
        E::Welcome(welcome()),
        E::Snapshot {
            at: "2026-12-04T09:00:00Z".into(),
            languages: vec![LanguageLive {
                language: "ne".into(),
                waiting: 2,
                longest_wait_secs: 95,
                idle: 0,
                staffed: 3,
                service_level_20s: Some(0.75),
            }],
            interpreters: vec![PresenceCount { presence: PresenceState::InCall, count: 3 }],
            calls: CallsLive { calls: 3, by_link: 1, phone_legs: 1 },
            waiting: vec![WaitingRequest {
                request: 12,
                desk: "City hall, counter 2".into(),
                language: "ne".into(),
                urgent: false,
                waited_secs: 95,
                ringing: false,
            }],
        },
        E::Error(error()),
        E::Pong,
    ]
}

/// The `type` values a schema file allows.
fn schema_types(file: &str) -> BTreeSet<String> {
    let (_, schema) = schemas().into_iter().find(|(name, _)| *name == file).expect("a schema of that name");
    schema["oneOf"]
        .as_array()
        .expect("oneOf")
        .iter()
        .filter_map(|v| {
            v["properties"]["type"]["const"].as_str().or_else(|| v["properties"]["type"]["enum"][0].as_str())
        })
        .map(str::to_string)
        .collect()
}

/// Each sample round-trips numbered and plain, and the samples cover every `type` of
/// the role's schema.
fn round_trip<E: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug + Clone>(file: &str, samples: Vec<E>) {
    let mut seen = BTreeSet::new();
    for (n, event) in samples.into_iter().enumerate() {
        let text = sequenced(n as u64 + 1, &event).expect("serializes");
        assert!(text.starts_with(&format!("{{\"seq\":{},\"type\":", n + 1)), "{text}");
        let back: Sequenced<E> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(back, Sequenced::numbered(n as u64 + 1, event.clone()), "{text}");
        let plain = serde_json::to_string(&event).expect("serializes");
        let back: Sequenced<E> = serde_json::from_str(&plain).unwrap_or_else(|e| panic!("{plain}: {e}"));
        assert_eq!(back, Sequenced::plain(event.clone()));
        // A field the server adds later is ignored.
        let extended = plain.replacen('{', "{\"added_later\":{\"x\":[1]},", 1);
        let back: Sequenced<E> = serde_json::from_str(&extended).unwrap_or_else(|e| panic!("{extended}: {e}"));
        assert_eq!(back.event, event);
        let value: serde_json::Value = serde_json::from_str(&plain).expect("json");
        seen.insert(value["type"].as_str().expect("a type").to_string());
    }
    let all = schema_types(file);
    assert!(!all.is_empty(), "{file} lists its types");
    assert_eq!(seen, all, "{file}: samples and schema differ");
}

#[test]
fn every_desk_event_round_trips() {
    round_trip("desk-event.json", desk_events());
}

#[test]
fn every_interpreter_event_round_trips() {
    round_trip("interpreter-event.json", interpreter_events());
}

#[test]
fn every_resident_event_round_trips() {
    round_trip("resident-event.json", resident_events());
}

#[test]
fn every_supervisor_event_round_trips() {
    round_trip("supervisor-event.json", supervisor_events());
}

fn gateway_events() -> Vec<GatewayEvent> {
    use GatewayEvent as E;
    vec![
        E::Welcome(welcome()),
        E::Redeemed { pin: "042719".into(), token: "t".into(), language: "vi".into() },
        E::PinRefused { pin: "000000".into() },
        E::Dial { dial: 4, token: "t".into(), number: "+819012345678".into(), language: "vi".into() },
        E::LineQueued { line: 2, ringing: false, ahead: 3, estimate: WaitEstimate::OneToThreeMinutes },
        E::LineAnswered { line: 2, token: "t".into() },
        E::LineEnded { line: 2, reason: LineEnd::Closed },
        E::OfferCall { offer: 5, token: "t".into(), number: "0312345678".into(), language: "vi".into(), ring_secs: 30 },
        E::OfferTaken { offer: 5 },
        E::OfferClosed { offer: 5 },
        E::Error(error()),
        E::Pong,
    ]
}

#[test]
fn every_gateway_event_round_trips() {
    round_trip("gateway-event.json", gateway_events());
}

/// What a version-1 server before open participants sent still parses: the new fields
/// have defaults.
#[test]
fn events_without_the_newer_fields_still_parse() {
    let old = r#"{"seq":4,"type":"assigned","request":7,"call":7,"interpreter":12}"#;
    let e: Sequenced<DeskEvent> = serde_json::from_str(old).expect("parses");
    assert!(matches!(e.event, DeskEvent::Assigned { you: 0, ref participants, .. } if participants.is_empty()));
    let old = r#"{"type":"joined","language":"vi"}"#;
    let e: Sequenced<ResidentEvent> = serde_json::from_str(old).expect("parses");
    assert!(matches!(e.event, ResidentEvent::Joined { party: Party::Resident, .. }));
    let old = r#"{"type":"invite","call":7,"url":"u","qr_svg":"s","expires_at":"e"}"#;
    let e: Sequenced<DeskEvent> = serde_json::from_str(old).expect("parses");
    assert!(matches!(e.event, DeskEvent::Invite { party: Party::Resident, .. }));
}

/// A desk's outcome: the one-tap form of before still parses; topics are written with the
/// codes the records keep, and the taxonomy lists each once.
#[test]
fn an_outcome_carries_topics_and_a_residence_and_the_old_form_parses() {
    let old: DeskCommand = serde_json::from_str(r#"{"type":"record_outcome","call":7,"outcome":"resolved"}"#).unwrap();
    assert_eq!(
        old,
        DeskCommand::RecordOutcome {
            call: 7,
            outcome: OutcomeCategory::Resolved,
            topics: vec![],
            residence: None,
            referral: None,
            note: None
        }
    );
    let new = DeskCommand::RecordOutcome {
        call: 7,
        outcome: OutcomeCategory::Referred,
        topics: Topic::ALL.to_vec(),
        residence: Some(3),
        referral: None,
        note: Some(Note("次回は在留カードを持参".into())),
    };
    assert!(!format!("{new:?}").contains("在留カード"), "a note is never formatted for a log");
    let text = serde_json::to_string(&new).unwrap();
    for topic in Topic::ALL {
        assert!(text.contains(&format!("\"{}\"", topic.code())), "{} in {text}", topic.code());
    }
    assert_eq!(serde_json::from_str::<DeskCommand>(&text).unwrap(), new);
    let codes: BTreeSet<&str> = Topic::ALL.iter().map(|t| t.code()).collect();
    assert_eq!(codes.len(), Topic::ALL.len());
    let wrong = serde_json::from_str::<DeskCommand>(
        r#"{"type":"record_outcome","call":7,"outcome":"resolved","topics":["gossip"]}"#,
    );
    assert!(wrong.unwrap_err().to_string().contains("unknown variant `gossip`"));
}
