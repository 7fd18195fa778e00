//! A booking as the writer keeps it (the saved core, the journal of its inputs): with
//! its links' hashes, which the API's form of a booking leaves out.

use std::borrow::Borrow;
use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Booking, BookingLinks};

/// `#[serde(with = "crate::bookings::held")]` on a `Booking` or a `Box<Booking>`.
pub fn serialize<S: Serializer, B: Borrow<Booking>>(booking: &B, serializer: S) -> Result<S::Ok, S::Error> {
    let booking = booking.borrow();
    (booking, &booking.links).serialize(serializer)
}

/// See [`serialize`].
pub fn deserialize<'de, D: Deserializer<'de>, B: From<Booking>>(deserializer: D) -> Result<B, D::Error> {
    let (mut booking, links) = <(Booking, BookingLinks)>::deserialize(deserializer)?;
    booking.links = links;
    Ok(B::from(booking))
}

/// Bookings by id, each with its links.
pub mod by_id {
    use super::*;

    /// `#[serde(with = "crate::bookings::held::by_id")]` on a `HashMap<i64, Booking>`.
    pub fn serialize<S: Serializer>(bookings: &HashMap<i64, Booking>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(bookings.values().map(|b| (b, &b.links)))
    }

    /// See [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<HashMap<i64, Booking>, D::Error> {
        let held = <Vec<(Booking, BookingLinks)>>::deserialize(deserializer)?;
        Ok(held
            .into_iter()
            .map(|(mut booking, links)| {
                booking.links = links;
                (booking.id, booking)
            })
            .collect())
    }
}
