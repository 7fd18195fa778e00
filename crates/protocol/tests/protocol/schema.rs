//! The committed JSON Schema in `proto/schema/` matches the types, and messages
//! round-trip and are refused with the right codes.

use std::path::PathBuf;

use kakehashi_protocol::*;

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto/schema")
}

/// Fails when `proto/schema` is stale. To regenerate after changing the types:
/// `KAKEHASHI_WRITE_SCHEMA=1 cargo test -p kakehashi-protocol --test protocol`.
#[test]
fn committed_schema_is_current() {
    let write = std::env::var_os("KAKEHASHI_WRITE_SCHEMA").is_some();
    let mut stale = Vec::new();
    for (name, schema) in schemas() {
        let path = schema_dir().join(name);
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        if write {
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "proto/schema is stale for {stale:?}: run KAKEHASHI_WRITE_SCHEMA=1 cargo test -p kakehashi-protocol --test protocol"
    );
}

#[test]
fn messages_round_trip_as_documented() {
    let hello: Hello =
        parse(r#"{"type":"hello","protocol":1,"credential":{"desk_token":"abc"},"resume":"r1","last_seq":41}"#)
            .unwrap();
    assert_eq!(hello.credential, Credential::DeskToken("abc".into()));
    assert_eq!((hello.resume.as_deref(), hello.last_seq), (Some("r1"), Some(41)));
    assert_eq!(sequenced(42, &DeskEvent::Pong).unwrap(), r#"{"seq":42,"type":"pong"}"#);
    let gateway: Hello = parse(r#"{"type":"hello","protocol":1,"credential":{"gateway":"s"}}"#).unwrap();
    assert_eq!(gateway.credential, Credential::Gateway("s".into()));
    let redeem: GatewayCommand = parse(r#"{"type":"redeem_pin","pin":"042719"}"#).unwrap();
    assert_eq!(redeem, GatewayCommand::RedeemPin { pin: "042719".into() });
    let line: GatewayCommand = parse(r#"{"type":"line_call","line":1,"desk":3,"language":"vi"}"#).unwrap();
    assert_eq!(line, GatewayCommand::LineCall { line: 1, desk: 3, language: "vi".into() });
    assert_eq!(
        sequenced(7, &InterpreterEvent::CallEnded { call: 3, by: Party::Desk }).unwrap(),
        r#"{"seq":7,"type":"call_ended","call":3,"by":"desk"}"#
    );
    let c: DeskCommand = parse(r#"{"type":"request_interpreter","language":"vi","urgent":true}"#).unwrap();
    assert_eq!(
        c,
        DeskCommand::RequestInterpreter {
            language: "vi".into(),
            modality: None,
            speciality: None,
            urgent: true,
            preferred_interpreter: None
        }
    );
    let e = DeskEvent::Queued { request: 7, ringing: false, position: 2, estimate: WaitEstimate::OneToThreeMinutes };
    assert_eq!(
        serde_json::to_string(&e).unwrap(),
        r#"{"type":"queued","request":7,"ringing":false,"position":2,"estimate":"one_to_three_minutes"}"#
    );
    let w = DeskEvent::Welcome(Welcome {
        protocol: PROTOCOL_VERSION,
        resume_token: "t".into(),
        heartbeat_secs: 15,
        resume_grace_secs: 60,
        resumed: false,
        ice_servers: vec![],
    });
    let text = serde_json::to_string(&w).unwrap();
    assert!(text.starts_with(r#"{"type":"welcome","protocol":1"#), "{text}");
    assert_eq!(parse::<DeskEvent>(&text).unwrap(), w);
    let err = DeskEvent::Error(ProtocolError { code: ErrorCode::NotAllowed, message: "no".into() });
    assert_eq!(serde_json::to_string(&err).unwrap(), r#"{"type":"error","code":"not_allowed","message":"no"}"#);
    let i: InterpreterCommand = parse(r#"{"type":"set_availability","availability":"not_ready"}"#).unwrap();
    assert_eq!(i, InterpreterCommand::SetAvailability { availability: Availability::NotReady });
}

#[test]
fn garbage_is_refused_with_a_code() {
    let cases: &[(&str, ErrorCode)] = &[
        ("", ErrorCode::BadJson),
        ("{", ErrorCode::BadJson),
        ("not json", ErrorCode::BadJson),
        (r#"{"type":"launch_missiles"}"#, ErrorCode::UnknownType),
        (r#"{"type":"request_interpreter"}"#, ErrorCode::InvalidField),
        (r#"{"type":"request_interpreter","language":5}"#, ErrorCode::InvalidField),
        (r#"{"type":"request_interpreter","language":"vi","colour":"red"}"#, ErrorCode::InvalidField),
        (r#"{"type":"cancel_request","request":-1}"#, ErrorCode::InvalidField),
        (r#"{"type":"ping","extra":1}"#, ErrorCode::InvalidField),
        ("[]", ErrorCode::InvalidField),
        ("null", ErrorCode::InvalidField),
    ];
    for (frame, code) in cases {
        let e = parse::<DeskCommand>(frame).unwrap_err();
        assert_eq!(e.code, *code, "{frame:?}: {e}");
        assert!(!e.message.is_empty());
    }
    let big = format!(r#"{{"type":"ice","call":1,"candidate":"{}"}}"#, "a".repeat(MAX_FRAME_BYTES));
    assert_eq!(parse::<DeskCommand>(&big).unwrap_err().code, ErrorCode::TooLarge);
    assert_eq!(parse::<Hello>(r#"{"type":"hello","protocol":1}"#).unwrap_err().code, ErrorCode::InvalidField);
}

#[test]
fn document_parts_are_checked() {
    let part = |part: u32, parts: u32, data: &str| DocumentPart {
        id: 1,
        part,
        parts,
        mime: DocumentMime::Jpeg,
        data: data.into(),
    };
    assert!(part(0, 1, "aGVsbG8=").check().is_ok());
    assert!(part(1, 2, "aGk=").check().is_ok());
    let refused = |p: DocumentPart| p.check().unwrap_err().message;
    assert!(refused(part(0, 0, "aGk=")).starts_with("document.parts"));
    assert!(refused(part(0, MAX_DOCUMENT_PARTS + 1, "aGk=")).starts_with("document.parts"));
    assert!(refused(part(2, 2, "aGk=")).starts_with("document.part:"));
    assert!(refused(part(0, 1, "")).starts_with("document.data"));
    assert!(refused(part(0, 1, "not base64!")).contains("base64"));
    assert!(refused(part(0, 1, "abc")).contains("base64"));
    assert!(refused(part(0, 1, &"A".repeat(MAX_DOCUMENT_PART_CHARS + 4))).starts_with("document.data"));
    let frame = r#"{"type":"document","document":{"id":3,"part":0,"parts":1,"mime":"image/png","data":"aGk="}}"#;
    assert!(matches!(parse::<ResidentCommand>(frame).unwrap(), ResidentCommand::Document { .. }));
    let gif = r#"{"type":"document","document":{"id":3,"part":0,"parts":1,"mime":"image/gif","data":"aGk="}}"#;
    assert_eq!(parse::<ResidentCommand>(gif).unwrap_err().code, ErrorCode::InvalidField);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

    /// Fuzz: any text, or JSON-looking text with our field names, gets a command or an
    /// error with a code and a message; never a panic.
    #[test]
    fn any_frame_gets_an_answer(
        s in proptest::prop_oneof![
            "\\PC{0,200}",
            r#"\{"type":"(ping|request_interpreter|cancel_request|end_call|sdp|ice|accept|hello|redeem_pin)"(,"(language|request|call|offer|urgent|candidate|description|protocol|credential|pin)":("[a-z]{0,5}"|[0-9]{1,20}|-1|true|null|\{\}|\[\]))\{0,4\}\}"#,
        ]
    ) {
        for result in [
            parse::<DeskCommand>(&s).map(|_| ()),
            parse::<InterpreterCommand>(&s).map(|_| ()),
            parse::<ResidentCommand>(&s).map(|_| ()),
            parse::<SupervisorCommand>(&s).map(|_| ()),
            parse::<GatewayCommand>(&s).map(|_| ()),
            parse::<Hello>(&s).map(|_| ()),
        ] {
            if let Err(e) = result {
                proptest::prop_assert!(!e.message.is_empty());
            }
        }
    }
}
