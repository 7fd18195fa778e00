//! Plain vocabulary of the domain: tiers, modalities, specialities, priorities, and
//! small bit sets over them.

use std::fmt;

/// The kind of engagement an interpreter has with the operating centre.
/// Ordered best first: staff are preferred over contractors over volunteers.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Tier {
    /// Employed by the centre.
    Staff = 0,
    /// An interpretation company or operator under contract.
    Contractor = 1,
    /// A registered volunteer.
    Volunteer = 2,
}

impl Tier {
    /// All tiers, best first.
    pub const ALL: [Tier; 3] = [Tier::Staff, Tier::Contractor, Tier::Volunteer];

    /// Position in [`Tier::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Lowercase name, for labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Staff => "staff",
            Tier::Contractor => "contractor",
            Tier::Volunteer => "volunteer",
        }
    }
}

/// How a party takes part in a call.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Modality {
    /// Audio and video over WebRTC.
    Video = 0,
    /// Audio only over WebRTC.
    Audio = 1,
    /// An ordinary phone line through the phone gateway.
    Phone = 2,
}

impl Modality {
    /// All modalities.
    pub const ALL: [Modality; 3] = [Modality::Video, Modality::Audio, Modality::Phone];

    /// Lowercase name, for labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Modality::Video => "video",
            Modality::Audio => "audio",
            Modality::Phone => "phone",
        }
    }
}

/// Subject matter an interpreter is qualified for.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Speciality {
    /// Everyday administrative matters; every interpreter has it.
    General = 0,
    /// Residence status and immigration procedures.
    Immigration = 1,
    /// Employment, wages, technical intern training.
    Labour = 2,
    /// Health care and medical institutions.
    Medical = 3,
    /// Legal consultations (lawyers, scriveners).
    Legal = 4,
    /// Mental health and counselling.
    MentalHealth = 5,
}

impl Speciality {
    /// All specialities.
    pub const ALL: [Speciality; 6] = [
        Speciality::General,
        Speciality::Immigration,
        Speciality::Labour,
        Speciality::Medical,
        Speciality::Legal,
        Speciality::MentalHealth,
    ];

    /// Lowercase name, for labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Speciality::General => "general",
            Speciality::Immigration => "immigration",
            Speciality::Labour => "labour",
            Speciality::Medical => "medical",
            Speciality::Legal => "legal",
            Speciality::MentalHealth => "mental_health",
        }
    }
}

/// Urgency of a request.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Priority {
    /// The ordinary case.
    Normal,
    /// Jumps ahead by the tenant's urgent credit (see `RoutingPolicy::urgent_credit`).
    Urgent,
}

macro_rules! bitset {
    ($(#[$doc:meta])* $name:ident of $item:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub struct $name(u8);

        impl $name {
            /// The empty set.
            pub const EMPTY: $name = $name(0);

            /// Every member.
            pub fn all() -> $name {
                $item::ALL.iter().copied().collect()
            }

            /// Whether `item` is in the set.
            pub fn contains(self, item: $item) -> bool {
                self.0 & (1 << item as u8) != 0
            }

            /// The set with `item` added.
            #[must_use]
            pub fn with(self, item: $item) -> $name {
                $name(self.0 | (1 << item as u8))
            }

            /// Whether the set is empty.
            pub fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The union of both sets.
            #[must_use]
            pub fn union(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }

            /// Members in declaration order.
            pub fn iter(self) -> impl Iterator<Item = $item> {
                $item::ALL.into_iter().filter(move |i| self.contains(*i))
            }
        }

        impl FromIterator<$item> for $name {
            fn from_iter<I: IntoIterator<Item = $item>>(iter: I) -> Self {
                iter.into_iter().fold($name::EMPTY, $name::with)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_set().entries(self.iter()).finish()
            }
        }
    };
}

bitset!(
    /// A set of tiers.
    TierSet of Tier
);
bitset!(
    /// A set of modalities.
    ModalitySet of Modality
);
bitset!(
    /// A set of specialities.
    SpecialitySet of Speciality
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets() {
        let s: TierSet = [Tier::Staff, Tier::Volunteer].into_iter().collect();
        assert!(s.contains(Tier::Staff) && !s.contains(Tier::Contractor));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![Tier::Staff, Tier::Volunteer]);
        assert_eq!(format!("{s:?}"), "{Staff, Volunteer}");
        assert!(TierSet::EMPTY.is_empty());
        assert_eq!(ModalitySet::all().iter().count(), 3);
        assert_eq!(SpecialitySet::all().iter().count(), 6);
        assert!(
            TierSet::EMPTY.with(Tier::Staff).union(TierSet::EMPTY.with(Tier::Contractor)).contains(Tier::Contractor)
        );
    }
}
