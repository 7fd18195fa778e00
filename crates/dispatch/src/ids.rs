//! Identifiers. Directory ids (tenants, desks, interpreters) come from the caller's
//! directory; request, offer and booking ids are issued by the engine in sequence, so a
//! replay of the same inputs issues the same ids.

use std::fmt;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident($inner:ty), $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub struct $name(pub $inner);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}

id!(
    /// A municipality (or other organisation) whose desks request interpreters.
    TenantId(u32),
    "t"
);
id!(
    /// A counter or tablet of a tenant.
    DeskId(u32),
    "d"
);
id!(
    /// An interpreter of the pool.
    InterpreterId(u32),
    "i"
);
id!(
    /// A request for an interpreter, issued by the engine.
    RequestId(u64),
    "r"
);
id!(
    /// One offer of one request to one interpreter, issued by the engine.
    OfferId(u64),
    "o"
);
id!(
    /// A reservation of an interpreter for a slot, issued by the engine.
    BookingId(u64),
    "b"
);
