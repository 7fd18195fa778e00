//! What the engine tells the caller: outputs to act on, and answers about requests.

use std::time::Duration;

use crate::ids::{BookingId, InterpreterId, OfferId, RequestId};
use crate::time::Timestamp;

/// An interpreter's presence, as shown to supervisors and exported as metrics.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Presence {
    /// Not signed in.
    Offline,
    /// Signed in and ready for an offer (offers also need the roster to be on).
    Available,
    /// An offer is ringing.
    Offered,
    /// In a call.
    InCall,
    /// After a call, before being ready again.
    WrapUp,
    /// Signed in but not taking calls.
    NotReady(NotReadyReason),
}

impl Presence {
    /// Lowercase label, for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Offline => "offline",
            Presence::Available => "available",
            Presence::Offered => "offered",
            Presence::InCall => "in_call",
            Presence::WrapUp => "wrap_up",
            Presence::NotReady(_) => "not_ready",
        }
    }

    /// Index for per-state tables (not-ready reasons share one slot).
    pub fn index(self) -> usize {
        match self {
            Presence::Offline => 0,
            Presence::Available => 1,
            Presence::Offered => 2,
            Presence::InCall => 3,
            Presence::WrapUp => 4,
            Presence::NotReady(_) => 5,
        }
    }

    /// Number of slots of [`Presence::index`].
    pub const COUNT: usize = 6;
}

/// Why an interpreter is not ready.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum NotReadyReason {
    /// They said so.
    Manual,
    /// Too many offers in a row rang out.
    MissedOffers,
}

/// What an interpreter asks to become.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Availability {
    /// Ready for offers (also ends wrap-up and not-ready).
    Available,
    /// Signed in, not taking calls.
    NotReady,
    /// Signed out.
    Offline,
}

/// How an offer ended without being accepted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum OfferEnd {
    /// The interpreter declined.
    Declined,
    /// It rang out.
    Missed,
    /// Withdrawn by the engine.
    Rescinded(RescindReason),
}

/// Why an offer was withdrawn.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RescindReason {
    /// Another interpreter accepted the same request first.
    AnsweredElsewhere,
    /// The request ended (the desk cancelled, or it expired).
    RequestEnded,
    /// The interpreter went not-ready or offline while it rang.
    InterpreterLeft,
}

/// How a request ended without an interpreter.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Outcome {
    /// The desk cancelled while waiting.
    Abandoned,
    /// It waited the policy's maximum.
    Expired,
    /// No interpreter could take it: nobody eligible is online (or all declined).
    Unserved(Suggestion),
}

impl Outcome {
    /// Lowercase label, for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Abandoned => "abandoned",
            Outcome::Expired => "expired",
            Outcome::Unserved(_) => "unserved",
        }
    }
}

/// What the desk can do instead, when no interpreter is online.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Suggestion {
    /// Someone eligible is rostered later today, from this time.
    LaterToday(Timestamp),
    /// Someone eligible is rostered on a later day: book a slot.
    Booking(Timestamp),
    /// Nobody in the pool covers this: use a phone interpretation line.
    Phone,
}

/// The bucketed estimated wait shown to a desk.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum WaitEstimate {
    /// Less than a minute.
    UnderOneMinute,
    /// One to three minutes.
    OneToThreeMinutes,
    /// Three to five minutes.
    ThreeToFiveMinutes,
    /// Five to ten minutes.
    FiveToTenMinutes,
    /// Ten to twenty minutes.
    TenToTwentyMinutes,
    /// Twenty minutes or more.
    OverTwentyMinutes,
    /// No data yet to estimate from.
    Unknown,
}

impl WaitEstimate {
    /// The bucket holding `wait`.
    pub fn bucket(wait: Duration) -> WaitEstimate {
        match wait.as_secs() {
            0..60 => WaitEstimate::UnderOneMinute,
            60..180 => WaitEstimate::OneToThreeMinutes,
            180..300 => WaitEstimate::ThreeToFiveMinutes,
            300..600 => WaitEstimate::FiveToTenMinutes,
            600..1200 => WaitEstimate::TenToTwentyMinutes,
            _ => WaitEstimate::OverTwentyMinutes,
        }
    }
}

/// The honest answer given when a request is accepted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Outlook {
    /// An eligible interpreter is free: an offer is ringing.
    Ringing,
    /// Eligible interpreters are online but busy: this is the place and the estimate.
    Wait {
        /// Requests ahead in the same language.
        position: usize,
        /// Estimated wait.
        estimate: WaitEstimate,
    },
}

/// Something the caller must act on.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Output {
    /// A request was accepted.
    Queued {
        /// The request.
        request: RequestId,
        /// Now or later.
        outlook: Outlook,
    },
    /// The pool of a waiting request widened.
    StepAdvanced {
        /// The request.
        request: RequestId,
        /// The policy step it is in now.
        step: u8,
    },
    /// Ring this interpreter.
    Offered {
        /// The offer, to accept or decline.
        offer: OfferId,
        /// The request offered.
        request: RequestId,
        /// Who is rung.
        interpreter: InterpreterId,
        /// When it counts as missed.
        ring_until: Timestamp,
    },
    /// An offer ended without being accepted: stop ringing.
    OfferClosed {
        /// The offer.
        offer: OfferId,
        /// Its request.
        request: RequestId,
        /// Who was rung.
        interpreter: InterpreterId,
        /// How it ended.
        reason: OfferEnd,
    },
    /// The request is answered: connect desk and interpreter.
    Assigned {
        /// The request.
        request: RequestId,
        /// Who answered.
        interpreter: InterpreterId,
        /// The accepted offer.
        offer: OfferId,
        /// Time from request to answer.
        waited: Duration,
        /// Offers made for it, this one included.
        offers: u32,
    },
    /// The request ended without an interpreter.
    Ended {
        /// The request.
        request: RequestId,
        /// How.
        outcome: Outcome,
        /// Time from request to its end.
        waited: Duration,
        /// Offers made for it.
        offers: u32,
    },
    /// A call ended; the interpreter is in wrap-up.
    CallEnded {
        /// The request.
        request: RequestId,
        /// The interpreter.
        interpreter: InterpreterId,
        /// Talk time.
        talk: Duration,
    },
    /// An interpreter's presence changed.
    PresenceChanged {
        /// The interpreter.
        interpreter: InterpreterId,
        /// The new presence.
        presence: Presence,
    },
    /// A booked slot begins: connect the parties. A booking with a desk has its request
    /// now (an [`Output::Offered`] to the interpreter follows when they are available).
    BookingStarted {
        /// The booking.
        booking: BookingId,
        /// The interpreter reserved.
        interpreter: InterpreterId,
        /// The request opened for the booked desk.
        request: Option<RequestId>,
    },
    /// A booked slot is over; the interpreter returns to on-demand calls.
    BookingEnded {
        /// The booking.
        booking: BookingId,
        /// The interpreter.
        interpreter: InterpreterId,
    },
}
