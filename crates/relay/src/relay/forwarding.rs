//! Forwarding: a publisher's RTP to every other leg of its session that sends its source
//! (SSRC, payload type and header extensions rewritten for each, numbering continuous
//! across reconnects), and keyframe requests passed to publishers.

use rtc::media_stream::MediaStreamTrackId;

use super::leg::{Flow, KEYFRAME_REQUEST_INTERVAL, Source};
use super::{LegId, Relay, SessionId, kind_index};
use crate::rewrite::translate_extensions;

impl Relay {
    /// Forward a packet of `from`'s track to every other leg of the session that sends it.
    pub(super) fn forward(&mut self, from: LegId, track: &MediaStreamTrackId, packet: &rtc::rtp::Packet) {
        let now = self.now;
        let Relay { legs, sessions, dirty, .. } = self;
        let Some((session, source, ext_in)) =
            legs.get(&from).and_then(|l| l.inbound.get(track).map(|i| (l.session, i.source, i.ext)))
        else {
            return;
        };
        let Some(session) = sessions.get(&session) else { return };
        for id in session.legs.iter().filter(|l| **l != from) {
            let Some(leg) = legs.get_mut(id) else { continue };
            let Some(out) = leg.outbound.get_mut(&source) else { continue };
            // Before the leg's answer there is no payload type yet: the packet is dropped.
            let Some(pt) = out.pt else { continue };
            match out.flow {
                Flow::Forwarding => {}
                Flow::Paused => continue,
                Flow::AwaitingKeyframe => {
                    if !session.video.is_some_and(|c| c.starts_keyframe(&packet.payload)) {
                        continue;
                    }
                    out.flow = Flow::Forwarding;
                    out.continuity.rebase();
                }
            }
            let mut p = packet.clone();
            // Continuity notices a new source by its SSRC: before the SSRC is rewritten.
            out.continuity.apply(now, &mut p.header);
            p.header.ssrc = out.ssrc;
            p.header.payload_type = pt;
            translate_extensions(&mut p.header, &ext_in, &out.ext);
            let sent = leg.pc.rtp_sender(out.sender).is_some_and(|mut s| s.write_rtp(now, p).is_ok());
            if sent && !leg.dirty {
                leg.dirty = true;
                dirty.push_back(*id);
            }
        }
    }

    /// Ask the publisher of a source for a keyframe. Requests passed on from subscribers
    /// are throttled per source; the relay's own (a subscriber joined, video resumed) are
    /// `forced`: they are rare, and the subscriber sees nothing until a keyframe comes.
    pub(super) fn request_keyframe(&mut self, session: SessionId, source: Source, forced: bool) {
        let now = self.now;
        let key = (session, source);
        if !forced
            && self
                .keyframe_asked
                .get(&key)
                .is_some_and(|t| now.saturating_duration_since(*t) < KEYFRAME_REQUEST_INTERVAL)
        {
            return;
        }
        let Some((publisher, track)) = self.sessions.get(&session).and_then(|s| s.publishers.get(&source)).cloned()
        else {
            return;
        };
        let Some(leg) = self.legs.get_mut(&publisher) else { return };
        let Some(receiver_id) = leg.inbound.get(&track).map(|i| i.receiver) else { return };
        let Some(mut receiver) = leg.pc.rtp_receiver(receiver_id) else { return };
        let Some(media_ssrc) = receiver.track().ssrcs().last() else { return };
        let pli =
            rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication { sender_ssrc: 0, media_ssrc };
        if receiver.write_rtcp(now, vec![Box::new(pli)]).is_ok() {
            leg.keyframe_requests_sent[kind_index(source.video)] += 1;
            self.keyframe_asked.insert(key, now);
            self.keyframe_requests += 1;
            self.touch(publisher);
        }
    }

    /// Keyframe requests sent to publishers so far.
    pub fn keyframe_requests(&self) -> u64 {
        self.keyframe_requests
    }
}
