//! The desks' language grid: the whole list when a desk connects, then only what changed.

use super::*;

/// The `availability` events desk `DESK` got, as (language, state) lists.
fn told(out: &[Output]) -> Vec<Vec<(String, p::AvailabilityState)>> {
    deliveries(out)
        .into_iter()
        .filter_map(|d| match d {
            Delivery::Desk(DESK, p::DeskEvent::Availability { languages }) => {
                Some(languages.iter().map(|l| (l.language.clone(), l.state)).collect())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_desk_hears_every_language_when_it_connects_then_only_the_changes() {
    let mut w = World::new();
    let first = told(&w.take());
    assert_eq!(first.len(), 1, "one list on connecting");
    let all = &first[0];
    assert!(all.len() > 25 && !all.iter().any(|(l, _)| l == "ja"), "every language but Japanese");
    let state = |tag: &str| all.iter().find(|(l, _)| l == tag).map(|x| x.1);
    assert_eq!(state("vi"), Some(p::AvailabilityState::Phone), "nobody signed in, nobody rostered later");
    // Interpreter 21 signs in: at the next second only Vietnamese changes.
    w.sign_in(21);
    w.advance(1);
    assert_eq!(told(&w.take()), vec![vec![("vi".to_string(), p::AvailabilityState::Now)]]);
    w.advance(1);
    assert!(told(&w.take()).is_empty(), "nothing changed, nothing said");
    // A desk that comes back hears the whole list again.
    w.ok(Input::Detached { client: Client::Desk(DESK) });
    w.ok(Input::Attached { client: Client::Desk(DESK), resumed: true, resume_hash: "r".into() });
    assert_eq!(told(&w.take())[0].len(), all.len());
}
