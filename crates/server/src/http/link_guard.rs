//! A request that names a link's token (a resident's or guest's invite, a booking's link)
//! without credentials: held to the address's budget of the guard, and every miss (a token
//! unknown, expired or too long to be one) spends an attempt, so that guessing links is
//! as slow as guessing passwords.

use std::net::IpAddr;

use tokio::time::Instant;

use super::error::ApiError;
use crate::app::{App, ClientAddr};

/// Longest token a link may carry; anything longer is a miss at once.
const MAX_TOKEN: usize = 200;

/// One attempt at a link from an address.
pub(crate) struct LinkAttempt<'a> {
    app: &'a App,
    ip: IpAddr,
    at: Instant,
}

impl<'a> LinkAttempt<'a> {
    /// Begin, or refuse: the address is throttled (429), or `token` is too long (`gone`).
    pub(crate) fn begin(
        app: &'a App,
        from: ClientAddr,
        token: &str,
        gone: impl FnOnce() -> ApiError,
    ) -> Result<Self, ApiError> {
        let attempt = LinkAttempt { app, ip: from.or_unspecified(), at: Instant::now() };
        if !app.guard.allowed(attempt.ip, attempt.at) {
            return Err(crate::auth::AuthError::Throttled.into());
        }
        if token.len() > MAX_TOKEN {
            return Err(attempt.miss(gone()));
        }
        Ok(attempt)
    }

    /// The token named nothing: spend the attempt, answer `e`.
    pub(crate) fn miss(&self, e: ApiError) -> ApiError {
        let _ = self.app.guard.spend(self.ip, self.at);
        e
    }
}
