//! The centre's calendar (issue 17): Japan's public holidays (`holidays.rs`) and the
//! centre's opening days and hours (`opening.rs`), from which the engine's "when can this
//! be served" answer, the phone lines' "the counter is closed" and what residents are
//! shown will be drawn.

pub mod holidays;
pub mod opening;

pub use opening::{Calendar, CalendarDoc, CalendarError, DayPlan};
