//! Whether a language can be served now, and if not, when: the answer a desk's language
//! grid shows before the tap, the same a request would get.

use crate::error::Error;
use crate::event::Suggestion;
use crate::ids::TenantId;
use crate::language::{LanguageId, LanguagePair};
use crate::model::Modality;

use super::Engine;
use super::state::Request;

impl Engine {
    /// `None` when someone who could take a request of `tenant` in `language` (against
    /// `desk_language`, by `modality`) is on duty now: signed in, on roster, not held for a
    /// booking (a request may still wait for them). Otherwise what a request would be
    /// told: someone later today, on a later day (book), or nobody (the phone).
    pub fn availability(
        &self,
        tenant: TenantId,
        language: LanguageId,
        desk_language: LanguageId,
        modality: Modality,
    ) -> Result<Option<Suggestion>, Error> {
        let t = self.tenant(tenant)?;
        let pair = LanguagePair::new(language, desk_language).ok_or(Error::Invalid {
            field: "language",
            problem: "the resident's and the desk's language are the same",
        })?;
        let probe = Request::fresh(tenant, pair, language, modality, self.now, self.now);
        if self.has_candidate(&probe, &t.spec.policy.steps) {
            return Ok(None);
        }
        Ok(Some(self.suggest(&probe)))
    }
}
