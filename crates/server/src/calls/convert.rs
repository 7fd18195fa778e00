//! Between the engine's types and the protocol's: modalities, specialities, presences,
//! estimates, times, and the engine's refusals as protocol errors.

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

pub(crate) fn err(code: p::ErrorCode, message: impl Into<String>) -> p::ProtocolError {
    p::ProtocolError { code, message: message.into() }
}

pub(crate) fn engine_error(e: d::Error) -> p::ProtocolError {
    use d::Error as E;
    let code = match &e {
        E::UnknownRequest(_) | E::UnknownOffer(_) | E::NotYourOffer { .. } | E::UnknownBooking(_) => {
            p::ErrorCode::NotFound
        }
        E::OfferClosed(_) | E::NotWaiting(_) | E::NotInCall(_) | E::InvalidTransition { .. } => {
            p::ErrorCode::NotAllowed
        }
        E::Invalid { .. } => p::ErrorCode::InvalidField,
        _ => p::ErrorCode::Internal,
    };
    err(code, e.to_string())
}

pub(crate) fn rfc3339(t: d::Timestamp) -> String {
    jiff::Timestamp::from_millisecond(t.as_millis()).map(|t| t.to_string()).unwrap_or_default()
}

pub(crate) fn estimate(e: d::WaitEstimate) -> p::WaitEstimate {
    match e {
        d::WaitEstimate::UnderOneMinute => p::WaitEstimate::UnderOneMinute,
        d::WaitEstimate::OneToThreeMinutes => p::WaitEstimate::OneToThreeMinutes,
        d::WaitEstimate::ThreeToFiveMinutes => p::WaitEstimate::ThreeToFiveMinutes,
        d::WaitEstimate::FiveToTenMinutes => p::WaitEstimate::FiveToTenMinutes,
        d::WaitEstimate::TenToTwentyMinutes => p::WaitEstimate::TenToTwentyMinutes,
        d::WaitEstimate::OverTwentyMinutes => p::WaitEstimate::OverTwentyMinutes,
        d::WaitEstimate::Unknown => p::WaitEstimate::Unknown,
    }
}

pub(crate) fn modality_in(m: Option<p::Modality>) -> d::Modality {
    match m {
        None | Some(p::Modality::Video) => d::Modality::Video,
        Some(p::Modality::Audio) => d::Modality::Audio,
        Some(p::Modality::Phone) => d::Modality::Phone,
    }
}

pub(crate) fn modality_out(m: d::Modality) -> p::Modality {
    match m {
        d::Modality::Video => p::Modality::Video,
        d::Modality::Audio => p::Modality::Audio,
        d::Modality::Phone => p::Modality::Phone,
    }
}

pub(crate) fn speciality_in(s: p::Speciality) -> d::Speciality {
    match s {
        p::Speciality::General => d::Speciality::General,
        p::Speciality::Immigration => d::Speciality::Immigration,
        p::Speciality::Labour => d::Speciality::Labour,
        p::Speciality::Medical => d::Speciality::Medical,
        p::Speciality::Legal => d::Speciality::Legal,
        p::Speciality::MentalHealth => d::Speciality::MentalHealth,
    }
}

pub(crate) fn speciality_out(s: d::Speciality) -> p::Speciality {
    match s {
        d::Speciality::General => p::Speciality::General,
        d::Speciality::Immigration => p::Speciality::Immigration,
        d::Speciality::Labour => p::Speciality::Labour,
        d::Speciality::Medical => p::Speciality::Medical,
        d::Speciality::Legal => p::Speciality::Legal,
        d::Speciality::MentalHealth => p::Speciality::MentalHealth,
    }
}

pub(crate) fn presence_out(s: d::Presence) -> p::PresenceState {
    match s {
        d::Presence::Offline => p::PresenceState::Offline,
        d::Presence::Available => p::PresenceState::Available,
        d::Presence::Offered => p::PresenceState::Offered,
        d::Presence::InCall => p::PresenceState::InCall,
        d::Presence::WrapUp => p::PresenceState::WrapUp,
        d::Presence::NotReady(d::NotReadyReason::Manual) => p::PresenceState::NotReady,
        d::Presence::NotReady(d::NotReadyReason::MissedOffers) => p::PresenceState::NotReadyMissedOffers,
    }
}

pub(crate) fn id32(id: i64) -> u32 {
    u32::try_from(id).unwrap_or(u32::MAX)
}
