//! The kinds of media a report names (`audio`, `video`), as a journal writes and reads
//! them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kinds there are.
const KINDS: [&str; 2] = ["audio", "video"];

pub(super) fn serialize<S: Serializer>(kinds: &[&'static str], serializer: S) -> Result<S::Ok, S::Error> {
    kinds.serialize(serializer)
}

pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<&'static str>, D::Error> {
    <Vec<String>>::deserialize(deserializer)?
        .iter()
        .map(|kind| {
            KINDS
                .iter()
                .find(|k| *k == kind)
                .copied()
                .ok_or_else(|| serde::de::Error::custom(format!("{kind:?} is not a kind of media (audio, video)")))
        })
        .collect()
}
