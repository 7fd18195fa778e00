use super::*;
use proptest::prelude::*;

/// SIPp's `uac_pin.xml` offer (the research's recipe B), as a PBX sends it.
const PBX_OFFER: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\n";

fn local() -> Local {
    Local { rtp: "192.0.2.10:30000".parse().unwrap(), session_id: 42, version: 1 }
}

#[test]
fn a_pbx_offer_is_answered_with_its_first_law_and_its_event_type() {
    let (agreed, sdp) = answer(PBX_OFFER, &local()).unwrap();
    assert_eq!(
        agreed,
        Negotiated {
            remote: "127.0.0.1:6000".parse().unwrap(),
            law: Law::A,
            payload_type: 8,
            dtmf: Some(101),
            ptime: 20,
            direction: Direction::SendRecv,
        }
    );
    for line in [
        "o=kakehashi 42 1 IN IP4 192.0.2.10",
        "c=IN IP4 192.0.2.10",
        "m=audio 30000 RTP/AVP 8 101",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=ptime:20",
        "a=sendrecv",
    ] {
        assert!(sdp.lines().any(|l| l == line), "{line:?} in\n{sdp}");
    }
    assert!(!sdp.contains("PCMU"), "one codec answered");
    // Our answer is itself a description we read.
    let back = answered(&sdp).unwrap();
    assert_eq!((back.law, back.payload_type, back.dtmf), (Law::A, 8, Some(101)));
}

#[test]
fn static_types_need_no_rtpmap_and_events_keep_their_number() {
    let offer = "v=0\no=- 1 1 IN IP4 10.0.0.5\ns=call\nc=IN IP4 10.0.0.5\nt=0 0\nm=audio 4000 RTP/AVP 18 0 96\na=rtpmap:18 G729/8000\na=rtpmap:96 telephone-event/8000\na=ptime:30\n";
    let (agreed, sdp) = answer(offer, &local()).unwrap();
    assert_eq!((agreed.law, agreed.payload_type, agreed.dtmf, agreed.ptime), (Law::Mu, 0, Some(96), 30));
    assert!(sdp.contains("m=audio 30000 RTP/AVP 0 96\r\n"), "{sdp}");
}

#[test]
fn other_streams_are_refused_with_port_zero_in_their_place() {
    let offer = format!("{}m=video 6002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n", PBX_OFFER);
    let video_first = offer.replacen("m=audio", "m=video 7000 RTP/AVP 97\r\nm=audio", 1);
    let (_, sdp) = answer(&offer, &local()).unwrap();
    assert!(sdp.ends_with("m=video 0 RTP/AVP 96\r\n"), "{sdp}");
    let (agreed, sdp) = answer(&video_first, &local()).unwrap();
    assert_eq!(agreed.law, Law::A);
    let m: Vec<&str> = sdp.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(m, ["m=video 0 RTP/AVP 97", "m=audio 30000 RTP/AVP 8 101", "m=video 0 RTP/AVP 96"]);
}

#[test]
fn holds_are_mirrored() {
    let held = PBX_OFFER.replace("a=ptime:20\r\n", "a=ptime:20\r\na=sendonly\r\n");
    let (agreed, sdp) = answer(&held, &local()).unwrap();
    assert_eq!(agreed.direction, Direction::RecvOnly);
    assert!(sdp.contains("a=recvonly\r\n"));
    assert!(!agreed.direction.sends() && agreed.direction.receives());
    let old_style = PBX_OFFER.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0");
    let (agreed, sdp) = answer(&old_style, &local()).unwrap();
    assert_eq!(agreed.direction, Direction::Inactive);
    assert!(sdp.contains("a=inactive\r\n"));
    let session_level = PBX_OFFER.replace("t=0 0\r\n", "t=0 0\r\na=inactive\r\n");
    assert_eq!(answer(&session_level, &local()).unwrap().0.direction, Direction::Inactive);
}

#[test]
fn what_cannot_be_used_is_refused_with_its_reason() {
    let cases: [(String, SdpError); 6] = [
        (PBX_OFFER.replace("RTP/AVP", "RTP/SAVP"), SdpError::Transport("RTP/SAVP".into())),
        (
            PBX_OFFER.replace("8 0 101", "111").replace("a=rtpmap:8 PCMA/8000", "a=rtpmap:111 opus/48000/2"),
            SdpError::NoCommonCodec("opus/48000".into()),
        ),
        (PBX_OFFER.replace("c=IN IP4 127.0.0.1\r\n", ""), SdpError::NoAddress),
        (PBX_OFFER.replace("c=IN IP4 127.0.0.1", "c=IN IP4 pbx.example"), SdpError::Address("pbx.example".into())),
        (PBX_OFFER.replace("m=audio 6000", "m=audio 0"), SdpError::NoAudio),
        ("x".repeat(MAX_SDP + 1), SdpError::TooLarge(MAX_SDP + 1)),
    ];
    for (offer, want) in cases {
        assert_eq!(answer(&offer, &local()).map(|_| ()), Err(want.clone()), "{offer}");
        assert!(!want.to_string().is_empty());
    }
    assert!(matches!(answer("hello", &local()), Err(SdpError::Syntax(_))));
    let port = answer(&PBX_OFFER.replace("m=audio 6000", "m=audio 70000"), &local());
    assert!(matches!(port, Err(SdpError::Syntax(ref e)) if e.contains("too large")), "{port:?}");
}

#[test]
fn our_offer_is_one_we_can_answer_ourselves() {
    let sdp = offer(&local(), Direction::SendRecv);
    assert!(sdp.contains("m=audio 30000 RTP/AVP 0 8 101\r\n"), "{sdp}");
    let (agreed, _) =
        answer(&sdp, &Local { rtp: "127.0.0.1:5000".parse().unwrap(), session_id: 1, version: 1 }).unwrap();
    assert_eq!((agreed.law, agreed.dtmf, agreed.remote.port()), (Law::Mu, Some(OUR_DTMF_PT), 30_000));
    let held = offer(&local(), Direction::SendOnly);
    assert!(held.contains("a=sendonly\r\n"));
    let v6 =
        offer(&Local { rtp: "[2001:db8::1]:4000".parse().unwrap(), session_id: 1, version: 2 }, Direction::SendRecv);
    assert!(v6.contains("c=IN IP6 2001:db8::1\r\n"), "{v6}");
    assert_eq!(answered(&v6).unwrap().remote, "[2001:db8::1]:4000".parse::<SocketAddr>().unwrap());
}

proptest! {
    /// Any text, and a real offer spoiled line by line: an answer or a reason, never a
    /// panic.
    #[test]
    fn any_description_is_answered_or_refused(text in "(?s).{0,400}", drop in proptest::collection::vec(any::<bool>(), 12), junk in "[ -~]{0,30}") {
        let _ = answer(&text, &local());
        let _ = answered(&text);
        let spoiled: String = PBX_OFFER
            .split_inclusive("\r\n")
            .zip(drop.iter().cycle())
            .map(|(l, d)| if *d { format!("{junk}\r\n") } else { l.to_string() })
            .collect();
        let _ = answer(&spoiled, &local());
    }
}
