//! A desk calls a phone into its call (ADR 0015): a seat for party `phone`, like a PIN's,
//! whose token goes to the phone gateway with the number. The number passes through to
//! the gateway's order and is kept nowhere; a call that fails takes the seat back and
//! tells the desk why.

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::convert::err;
use super::links::Dialled;
use super::{Core, Delivery};

/// How long an answered call has to join with its token (ringing included).
pub(super) const DIAL_WINDOW: std::time::Duration = std::time::Duration::from_secs(120);

/// A number a person can dial: 3 to 20 digits, with `+ - ( )` and spaces.
pub fn dialable(number: &str) -> bool {
    let digits = number.chars().filter(char::is_ascii_digit).count();
    (3..=20).contains(&digits)
        && number.len() <= 40
        && number.chars().all(|c| c.is_ascii_digit() || "+- ()".contains(c))
        && !number[1..].contains('+')
}

impl Core {
    /// `dial_out`: a seat and an order to the gateway; the desk hears `dialling`.
    pub(super) fn dial_out(
        &mut self,
        now: d::Timestamp,
        desk: i64,
        call: u64,
        number: String,
    ) -> Result<(), p::ProtocolError> {
        let id = self.own_request(desk, call)?;
        if !self.settings.dial_out {
            return Err(err(p::ErrorCode::NotAllowed, "calling a phone is not set up on this server"));
        }
        if !dialable(&number) {
            return Err(err(p::ErrorCode::InvalidField, "number: 3 to 20 digits, with + - ( ) and spaces"));
        }
        let Some(language) = self.calls.get(&id).filter(|c| c.answered()).map(|c| c.language.clone()) else {
            return Err(err(p::ErrorCode::NotAllowed, "a phone can be called once the call has started"));
        };
        let token = self.tokens.token();
        let token_hash = crate::auth::hash_token(&token);
        self.links.invite(token_hash.clone(), id, p::Party::Phone, now + DIAL_WINDOW);
        self.links.last_dial += 1;
        let dial = self.links.last_dial;
        self.links.dials.insert(dial, Dialled { desk, call: id, token_hash });
        self.deliver(Delivery::Gateway(p::GatewayEvent::Dial { dial, token, number, language }));
        self.deliver(Delivery::Desk(desk, p::DeskEvent::Dialling { call }));
        Ok(())
    }

    /// The gateway could not place dial `dial`: its seat is closed and its desk told.
    pub(super) fn dial_failed(&mut self, dial: u64, reason: p::DialFailure) {
        let Some(d) = self.links.dial_failed(dial) else { return };
        if self.calls.contains_key(&d.call) {
            self.deliver(Delivery::Desk(d.desk, p::DeskEvent::DialFailed { call: d.call.0, reason }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dialable;

    #[test]
    fn numbers_people_write_are_dialable_and_nothing_else_is() {
        for ok in ["090-1234-5678", "+81 90 1234 5678", "(03) 1234-5678", "110"] {
            assert!(dialable(ok), "{ok}");
        }
        for bad in ["12", "090-1234-5678;user=phone", "sip:x@y", "+81+90", "", "1".repeat(21).as_str()] {
            assert!(!dialable(bad), "{bad}");
        }
    }
}
