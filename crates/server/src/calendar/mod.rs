//! The centre's calendar (issue 17): Japan's public holidays (`holidays.rs`), the
//! centre's opening days and hours (`opening.rs`) and the engine's "when can this be
//! served" answer moved into them (`answer.rs`).

pub mod answer;
pub mod holidays;
pub mod opening;

pub use opening::{Calendar, CalendarDoc, CalendarError, DayPlan};
