//! The engine's directory: tenants, their policies and desks, interpreters added,
//! updated and removed.

use crate::directory::{InterpreterSpec, TenantSpec};
use crate::error::Error;
use crate::ids::{DeskId, InterpreterId, RequestId, TenantId};
use crate::model::Speciality;
use crate::policy::RoutingPolicy;
use crate::roster::Roster;
use crate::time::Timestamp;

use super::state::{IState, Interp, RState, Timer};

use super::{Engine, MAX_PAIRS, MAX_TENANTS_PER_INTERPRETER, Tenant};

impl Engine {
    // ---- directory ------------------------------------------------------------------

    /// Register a tenant.
    pub fn add_tenant(&mut self, now: Timestamp, spec: TenantSpec) -> Result<(), Error> {
        self.advance(now);
        if self.tenants.contains_key(&spec.id) {
            return Err(Error::Duplicate { what: "tenant", id: u64::from(spec.id.0) });
        }
        spec.policy.validate()?;
        self.tenants.insert(spec.id, Tenant { spec });
        Ok(())
    }

    /// Replace a tenant's routing policy. Waiting requests keep their step index
    /// (clamped to the new policy's last step) and their place.
    pub fn set_policy(&mut self, now: Timestamp, tenant: TenantId, policy: RoutingPolicy) -> Result<(), Error> {
        self.advance(now);
        self.tenant(tenant)?;
        policy.validate()?;
        let last = (policy.steps.len() - 1) as u8;
        if let Some(t) = self.tenants.get_mut(&tenant) {
            t.spec.policy = policy;
        }
        let mut affected: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.tenant == tenant && r.state == RState::Waiting)
            .map(|(id, _)| *id)
            .collect();
        affected.sort_unstable();
        for id in affected {
            if let Some(r) = self.requests.get_mut(&id)
                && r.step > last
            {
                r.step = last;
                r.step_deadline = None;
            }
            self.route(id);
        }
        self.match_became_idle();
        Ok(())
    }

    /// Register a desk of a tenant.
    pub fn add_desk(&mut self, now: Timestamp, desk: DeskId, tenant: TenantId) -> Result<(), Error> {
        self.advance(now);
        self.tenant(tenant)?;
        if self.desks.contains_key(&desk) {
            return Err(Error::Duplicate { what: "desk", id: u64::from(desk.0) });
        }
        self.desks.insert(desk, tenant);
        Ok(())
    }

    pub(super) fn check_interpreter_spec(&self, spec: &InterpreterSpec) -> Result<(), Error> {
        if spec.pairs.is_empty() {
            return Err(Error::Invalid {
                field: "pairs",
                problem: "an interpreter must cover at least one language pair",
            });
        }
        if spec.pairs.len() > MAX_PAIRS {
            return Err(Error::Invalid { field: "pairs", problem: "at most 32 language pairs" });
        }
        if spec.modalities.is_empty() {
            return Err(Error::Invalid { field: "modalities", problem: "at least one modality is needed" });
        }
        if spec.tenants.is_empty() && !spec.shared_pool {
            return Err(Error::Invalid {
                field: "tenants",
                problem: "an interpreter must serve a tenant or join the shared pool",
            });
        }
        if spec.tenants.len() > MAX_TENANTS_PER_INTERPRETER {
            return Err(Error::Invalid { field: "tenants", problem: "at most 256 tenants" });
        }
        if let Some(t) = spec.tenants.iter().find(|t| !self.tenants.contains_key(t)) {
            return Err(Error::UnknownTenant(*t));
        }
        Ok(())
    }

    pub(super) fn normalise(mut spec: InterpreterSpec) -> InterpreterSpec {
        spec.pairs.sort_unstable();
        spec.pairs.dedup();
        spec.tenants.sort_unstable();
        spec.tenants.dedup();
        spec.specialities = spec.specialities.with(Speciality::General);
        spec
    }

    /// Register an interpreter. They start offline.
    pub fn add_interpreter(&mut self, now: Timestamp, spec: InterpreterSpec) -> Result<(), Error> {
        self.advance(now);
        if self.interps.contains_key(&spec.id) {
            return Err(Error::Duplicate { what: "interpreter", id: u64::from(spec.id.0) });
        }
        self.check_interpreter_spec(&spec)?;
        let spec = Self::normalise(spec);
        let id = spec.id;
        let roster = spec.roster.state_at(self.now);
        for pair in &spec.pairs {
            self.pools.entry(*pair).or_default().all.push(id);
        }
        self.interps.insert(
            id,
            Interp {
                spec,
                state: IState::Offline,
                state_since: self.now,
                on_roster: roster.on,
                roster_next: roster.next_change,
                reserved: false,
                bookings: Vec::new(),
                idle_since: self.now,
                missed_in_row: 0,
                last_call: None,
                indexed_idle: false,
                indexed_staffed: false,
            },
        );
        if let Some(at) = roster.next_change {
            self.timer_at(at, Timer::Roster(id));
        }
        Ok(())
    }

    /// Replace an interpreter's profile. Refused while an offer rings or a call runs.
    /// Bookings already made are kept.
    pub fn update_interpreter(&mut self, now: Timestamp, spec: InterpreterSpec) -> Result<(), Error> {
        self.advance(now);
        let current = self.interps.get(&spec.id).ok_or(Error::UnknownInterpreter(spec.id))?;
        if matches!(current.state, IState::Offered(_) | IState::InCall(_)) {
            return Err(Error::InvalidTransition {
                interpreter: spec.id,
                from: current.state.presence(),
                action: "change profile",
            });
        }
        self.check_interpreter_spec(&spec)?;
        let spec = Self::normalise(spec);
        let id = spec.id;
        self.unindex(id);
        let old_pairs = self.interps[&id].spec.pairs.clone();
        for pair in &old_pairs {
            if let Some(p) = self.pools.get_mut(pair) {
                p.all.retain(|i| *i != id);
            }
        }
        for pair in &spec.pairs {
            self.pools.entry(*pair).or_default().all.push(id);
        }
        let roster = spec.roster.state_at(self.now);
        if let Some(i) = self.interps.get_mut(&id) {
            i.spec = spec;
            i.on_roster = roster.on;
            i.roster_next = roster.next_change;
        }
        if let Some(at) = roster.next_change {
            self.timer_at(at, Timer::Roster(id));
        }
        self.reindex(id);
        // Requests held for this interpreter are listed under their (maybe new) tier.
        let mut held: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.hold_until.is_some() && r.preferred == Some(id))
            .map(|(r, _)| *r)
            .collect();
        held.sort_unstable();
        for r in held {
            self.sync_queue(r);
        }
        self.match_became_idle();
        Ok(())
    }

    /// Replace an interpreter's roster only (their own leave or extra hours, a
    /// coordinator's calendar): allowed in any state, as a roster's own change at a
    /// shift's end would be; an offer ringing or a call running goes on.
    pub fn set_roster(&mut self, now: Timestamp, id: InterpreterId, roster: Roster) -> Result<(), Error> {
        self.advance(now);
        let i = self.interps.get_mut(&id).ok_or(Error::UnknownInterpreter(id))?;
        let s = roster.state_at(self.now);
        i.spec.roster = roster;
        i.on_roster = s.on;
        i.roster_next = s.next_change;
        if let Some(at) = s.next_change {
            self.timer_at(at, Timer::Roster(id));
        }
        self.reindex(id);
        self.match_became_idle();
        Ok(())
    }

    /// Remove an interpreter, who must be offline and hold no booking.
    pub fn remove_interpreter(&mut self, now: Timestamp, id: InterpreterId) -> Result<(), Error> {
        self.advance(now);
        let i = self.interps.get(&id).ok_or(Error::UnknownInterpreter(id))?;
        if i.state != IState::Offline {
            return Err(Error::InvalidTransition { interpreter: id, from: i.state.presence(), action: "be removed" });
        }
        if !i.bookings.is_empty() {
            return Err(Error::Invalid { field: "interpreter", problem: "cancel their bookings first" });
        }
        let pairs = i.spec.pairs.clone();
        for pair in &pairs {
            if let Some(p) = self.pools.get_mut(pair) {
                p.all.retain(|x| *x != id);
            }
        }
        self.interps.remove(&id);
        Ok(())
    }
}
