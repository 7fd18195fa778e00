//! The inbound RTCP the relay itself must see. `rtc`'s interceptors keep all inbound RTCP
//! to themselves unless one marks a packet for the application; [`Feedback`] marks two
//! kinds and nothing else:
//! - keyframe requests (PLI and FIR): they concern a stream someone else produces, so only
//!   the relay can pass them on;
//! - reception reports (in receiver and sender reports): loss and round-trip time as the
//!   participant sees the relay's streams, which the bandwidth policy and the statistics
//!   read;
//! - NACKs, after the NACK responder has answered them, for the statistics.
//!
//! It goes last in the chain, after every interceptor that reads RTCP.

use std::collections::VecDeque;
use std::time::Instant;

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::sansio::Protocol;

/// The interceptor's place in the chain: after the default ones.
pub const FEEDBACK_SLOT: usize = 14_000;

/// Whether an RTCP packet asks for a keyframe.
pub fn is_keyframe_request(packet: &dyn rtc::rtcp::Packet) -> bool {
    let any = packet.as_any();
    any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
}

/// Whether an RTCP packet is a NACK (already answered by the NACK responder; the relay
/// counts it).
pub(crate) fn is_nack(packet: &dyn rtc::rtcp::Packet) -> bool {
    packet.as_any().is::<rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack>()
}

/// Whether an RTCP packet carries reception reports.
pub fn has_reception_reports(packet: &dyn rtc::rtcp::Packet) -> bool {
    let any = packet.as_any();
    any.downcast_ref::<ReceiverReport>().is_some_and(|r| !r.reports.is_empty())
        || any.downcast_ref::<SenderReport>().is_some_and(|r| !r.reports.is_empty())
}

/// Marks inbound keyframe requests and reception reports for the application; lets
/// everything else end in the interceptors, as it would without it.
#[derive(Default)]
pub struct Feedback {
    reads: VecDeque<TaggedPacket>,
    writes: VecDeque<TaggedPacket>,
}

impl std::fmt::Debug for Feedback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feedback").field("reads", &self.reads.len()).field("writes", &self.writes.len()).finish()
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for Feedback {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let requests: Vec<Box<dyn rtc::rtcp::Packet>> = packets
                .iter()
                .filter(|p| is_keyframe_request(p.as_ref()) || has_reception_reports(p.as_ref()) || is_nack(p.as_ref()))
                .cloned()
                .collect();
            if requests.is_empty() {
                return Ok(());
            }
            msg.message.packet = Packet::Rtcp(requests);
            msg.message.add(Attribute::DeliverToApplication);
        }
        self.reads.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.reads.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.writes.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.writes.pop_front()
    }
}

impl Interceptor for Feedback {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
