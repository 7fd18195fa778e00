//! The directory as the engine knows it: built from the store at start, changed live
//! as the admin API stores changes.

use std::collections::HashMap;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::Core;
use super::convert::{engine_error, id32};
use crate::directory::Directory;

/// What people are called, for the screens: tenants (shown to interpreters, metric
/// labels) and desks (shown to interpreters with an offer).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Names {
    pub(super) tenants: HashMap<i64, String>,
    pub(super) desks: HashMap<i64, String>,
    /// Each desk's tenant.
    pub(super) desk_tenants: HashMap<i64, i64>,
}

impl Names {
    pub(super) fn tenant(&self, id: i64) -> String {
        self.tenants.get(&id).cloned().unwrap_or_default()
    }

    pub(super) fn desk(&self, id: i64) -> String {
        self.desks.get(&id).cloned().unwrap_or_default()
    }
}

/// A directory change for the live engine.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum DirectoryChange {
    /// A new tenant (id, name, spec).
    Tenant(i64, String, Box<d::TenantSpec>),
    /// A tenant's new policy.
    Policy(i64, Box<d::RoutingPolicy>),
    /// A new desk (desk, tenant, name).
    Desk(i64, i64, String),
    /// A new interpreter, and the number they are reached at by phone, if they are.
    Interpreter(Box<d::InterpreterSpec>, Option<String>),
    /// An interpreter's new profile, and number if reached by phone.
    UpdateInterpreter(Box<d::InterpreterSpec>, Option<String>),
    /// An interpreter's roster alone (their own leave and extra hours), applied in any
    /// state.
    Roster(i64, Box<d::Roster>),
    /// A municipality's centre calendar (its "when" answers keep to it); `None`: none set.
    Calendar(i64, Option<Box<crate::calendar::Calendar>>),
}

/// Build the engine from the directory. Invalid rows are skipped with a warning (the
/// admin API refuses them; this guards against hand edits).
pub(super) fn engine_from(directory: &Directory, now: d::Timestamp) -> (d::Engine, Names, HashMap<i64, d::Tier>) {
    let mut engine = d::Engine::new();
    let mut names = Names::default();
    let mut tiers = HashMap::new();
    for t in &directory.tenants {
        let Ok(tz) = crate::directory::time_zone(&t.time_zone, "time_zone") else {
            tracing::warn!(tenant = t.id, "tenant has an unknown time zone; skipped");
            continue;
        };
        let spec = d::TenantSpec {
            id: d::TenantId(id32(t.id)),
            foreign_residents: u32::try_from(t.foreign_residents).unwrap_or(u32::MAX),
            time_zone: tz,
            policy: match t.policy.as_ref().map(|p| p.to_policy()) {
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    tracing::warn!(tenant = t.id, error = %e, "stored policy refused; using the defaults");
                    d::RoutingPolicy::default()
                }
                None => d::RoutingPolicy::default(),
            },
        };
        if engine.add_tenant(now, spec).is_ok() {
            names.tenants.insert(t.id, t.name.clone());
        }
    }
    for desk in &directory.desks {
        match engine.add_desk(now, d::DeskId(id32(desk.id)), d::TenantId(id32(desk.tenant_id))) {
            Ok(()) => {
                names.desks.insert(desk.id, desk.name.clone());
                names.desk_tenants.insert(desk.id, desk.tenant_id);
            }
            Err(e) => tracing::warn!(desk = desk.id, error = %e, "desk skipped"),
        }
    }
    for i in &directory.interpreters {
        match i.to_spec() {
            Ok(spec) => {
                tiers.insert(i.id, spec.tier);
                if let Err(e) = engine.add_interpreter(now, spec) {
                    tracing::warn!(interpreter = i.id, error = %e, "interpreter skipped");
                }
            }
            Err(e) => tracing::warn!(interpreter = i.id, error = %e, "interpreter skipped"),
        }
    }
    while engine.poll_output().is_some() {}
    (engine, names, tiers)
}

impl Core {
    pub(super) fn directory(&mut self, now: d::Timestamp, change: DirectoryChange) -> Result<(), p::ProtocolError> {
        match change {
            DirectoryChange::Tenant(id, name, spec) => {
                self.engine.add_tenant(now, *spec).map_err(engine_error)?;
                self.names.tenants.insert(id, name);
            }
            DirectoryChange::Policy(tenant, policy) => {
                self.engine.set_policy(now, d::TenantId(id32(tenant)), *policy).map_err(engine_error)?;
            }
            DirectoryChange::Desk(desk, tenant, name) => {
                self.engine.add_desk(now, d::DeskId(id32(desk)), d::TenantId(id32(tenant))).map_err(engine_error)?;
                self.names.desks.insert(desk, name);
                self.names.desk_tenants.insert(desk, tenant);
            }
            DirectoryChange::Interpreter(spec, phone) => {
                let (id, tier) = (i64::from(spec.id.0), spec.tier);
                self.engine.add_interpreter(now, *spec).map_err(engine_error)?;
                self.tiers.insert(id, tier);
                self.set_reach_by_phone(now, id, phone);
            }
            DirectoryChange::UpdateInterpreter(spec, phone) => {
                let (id, tier) = (i64::from(spec.id.0), spec.tier);
                self.engine.update_interpreter(now, *spec).map_err(engine_error)?;
                self.tiers.insert(id, tier);
                self.set_reach_by_phone(now, id, phone);
            }
            DirectoryChange::Roster(id, roster) => {
                self.engine.set_roster(now, d::InterpreterId(id32(id)), *roster).map_err(engine_error)?;
            }
            DirectoryChange::Calendar(tenant, calendar) => match calendar {
                Some(c) => {
                    self.calendars.insert(tenant, *c);
                }
                None => {
                    self.calendars.remove(&tenant);
                }
            },
        }
        Ok(())
    }
}
