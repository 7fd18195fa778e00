//! `--demo`: a directory a newcomer can try at once. A shared centre run by a city for
//! itself and two towns, six desks, and thirty interpreters over the 17 languages of the
//! domain notes with realistic rosters: staff on weekdays, a Filipino counsellor on
//! Fridays and the 1st and 3rd Wednesday, volunteers on fixed weekdays, a contractor
//! call centre from 8:00 to 22:00 every day. And forty days of made-up consultations,
//! with each municipality's partners, for the reports (`seed_history`).

use crate::auth::{AuthError, hash_password_off_runtime, hash_token, new_enrolment_code};
use crate::directory::{InterpreterRow, RosterDoc, ShiftDoc};
use crate::reports::sample::Shape;
use crate::store::{Store, StoreError};

/// The credentials a newcomer needs, printed once when the demo is seeded.
#[derive(Clone, Debug, Default)]
pub struct DemoCredentials {
    /// (desk name, enrolment code).
    pub desks: Vec<(String, String)>,
    /// (interpreter login, password).
    pub interpreters: Vec<(String, String)>,
    /// (supervisor login, password).
    pub supervisors: Vec<(String, String)>,
}

const TZ: &str = "Asia/Tokyo";

/// The demo's phone line (answered on loopback, any free SIP port).
pub const PHONE_LINE: &str = "0120-000-000";

fn shift(days: &[&str], start: &str, end: &str) -> ShiftDoc {
    ShiftDoc {
        days: days.iter().map(|d| d.to_string()).collect(),
        start: start.into(),
        end: end.into(),
        ..ShiftDoc::default()
    }
}

fn roster(shifts: Vec<ShiftDoc>) -> RosterDoc {
    RosterDoc { time_zone: Some(TZ.into()), shifts, ..RosterDoc::default() }
}

/// Seed the demonstration directory into an empty store.
pub async fn seed(store: &Store) -> Result<DemoCredentials, AuthError> {
    let mut creds = DemoCredentials::default();
    let city = store.insert_tenant("Asahi City", 21_400, TZ).await?;
    let minami = store.insert_tenant("Minami Town", 2_100, TZ).await?;
    let kita = store.insert_tenant("Kita Town", 1_350, TZ).await?;
    // A demonstration: nobody is made to set up two-factor sign-in (anyone may).
    for t in [city, minami, kita] {
        store.set_two_factor_rule(t, crate::store::TwoFactorRule::Optional).await?;
    }
    for (tenant, name) in [
        (city, "Asahi City Hall, counter 1"),
        (city, "Asahi City Hall, counter 2"),
        (city, "Asahi City, outreach tablet"),
        (minami, "Minami Town Hall"),
        (minami, "Minami Town, branch office"),
        (kita, "Kita Town Hall"),
    ] {
        let code = new_enrolment_code();
        store.insert_desk(tenant, name, &hash_token(&code)).await?;
        creds.desks.push((name.to_string(), code));
    }
    let all = vec![city, minami, kita];
    let weekdays = ["mon", "tue", "wed", "thu", "fri"];
    let staff_hours = || roster(vec![shift(&weekdays, "08:30", "17:15")]);
    let call_centre = || roster(vec![shift(&["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "08:00", "22:00")]);
    /// (login, tier, languages, specialities, roster)
    type Person<'a> = (String, &'a str, Vec<&'a str>, Vec<&'a str>, RosterDoc);
    let mut people: Vec<Person> = vec![
        ("staff-vi-1".to_string(), "staff", vec!["vi"], vec!["labour"], staff_hours()),
        ("staff-vi-2".to_string(), "staff", vec!["vi", "en"], vec!["immigration"], staff_hours()),
        ("staff-zh-1".to_string(), "staff", vec!["zh"], vec!["immigration"], staff_hours()),
        ("staff-pt-1".to_string(), "staff", vec!["pt", "es"], vec!["labour"], staff_hours()),
        ("staff-en-1".to_string(), "staff", vec!["en"], vec!["medical"], staff_hours()),
        ("staff-ne-1".to_string(), "staff", vec!["ne", "hi"], vec![], staff_hours()),
        ("staff-id-1".to_string(), "staff", vec!["id", "ms"], vec![], staff_hours()),
        ("staff-ko-1".to_string(), "staff", vec!["ko"], vec!["legal"], staff_hours()),
        (
            "staff-fil-1".to_string(),
            "staff",
            vec!["fil", "en"],
            vec!["mental_health"],
            roster(vec![
                shift(&["fri"], "09:00", "17:00"),
                ShiftDoc {
                    weekday: Some("wed".into()),
                    nth: vec![1, 3],
                    start: "09:00".into(),
                    end: "17:00".into(),
                    ..ShiftDoc::default()
                },
            ]),
        ),
    ];
    for (i, lang) in
        ["vi", "zh", "pt", "fil", "en", "ne", "id", "es", "th", "my", "km", "ru", "uk"].into_iter().enumerate()
    {
        people.push((format!("callcentre-{lang}-{}", i % 2 + 1), "contractor", vec![lang], vec![], call_centre()));
    }
    for (login, langs, days, start, end) in [
        ("volunteer-vi-mon", vec!["vi"], vec!["mon"], "10:00", "16:00"),
        ("volunteer-pt-tue", vec!["pt"], vec!["tue"], "13:00", "17:00"),
        ("volunteer-th-wed", vec!["th"], vec!["wed"], "10:00", "15:00"),
        ("volunteer-my-thu", vec!["my"], vec!["thu", "sat"], "10:00", "16:00"),
        ("volunteer-ru-fri", vec!["ru", "uk"], vec!["fri"], "18:00", "22:00"),
        ("volunteer-fr-sat", vec!["fr"], vec!["sat"], "10:00", "14:00"),
        ("volunteer-hi-sun", vec!["hi", "ne"], vec!["sun"], "10:00", "14:00"),
        ("volunteer-km-tue", vec!["km"], vec!["tue", "thu"], "09:00", "12:00"),
    ] {
        people.push((login.to_string(), "volunteer", langs, vec![], roster(vec![shift(&days, start, end)])));
    }
    for (login, tier, languages, specialities, roster) in people {
        let password = format!("demo-{login}");
        let row = InterpreterRow {
            id: 0,
            login: login.clone(),
            tier: tier.to_string(),
            languages: languages.iter().map(|l| l.to_string()).collect(),
            modalities: vec!["video".into(), "audio".into(), "phone".into()],
            specialities: specialities.iter().map(|s| s.to_string()).collect(),
            tenants: all.clone(),
            shared_pool: tier != "staff",
            roster,
            reach_by_phone: None,
        };
        row.to_spec().map_err(|e| AuthError::Hash(format!("demo interpreter {login}: {e}")))?;
        store.insert_interpreter(&row, &hash_password_off_runtime(&password).await?).await?;
        creds.interpreters.push((login, password));
    }
    for (login, tenant) in
        [("supervisor-asahi", Some(city)), ("supervisor-minami", Some(minami)), ("supervisor-kita", Some(kita))]
    {
        let password = format!("demo-{login}");
        store.insert_staff(login, "supervisor", tenant, &hash_password_off_runtime(&password).await?).await?;
        creds.supervisors.push((login.to_string(), password));
    }
    store.insert_staff("admin", "admin", None, &hash_password_off_runtime("demo-admin").await?).await?;
    creds.supervisors.push(("admin".into(), "demo-admin".into()));
    Ok(creds)
}

/// Forty days of made-up consultations up to yesterday, and each municipality's partners,
/// so that the reports have something to show: returns how many records. Called after
/// [`seed`], on the directory it wrote.
pub async fn seed_history(store: &Store) -> Result<usize, StoreError> {
    let directory = store.directory().await?;
    let mut partners = Vec::new();
    for tenant in &directory.tenants {
        for (name, kind) in [
            ("出入国在留管理局", "immigration"),
            ("法テラス", "legal_aid"),
            ("ハローワーク", "employment"),
            ("社会福祉協議会", "social_welfare"),
        ] {
            partners.push((store.add_partner(tenant.id, name, kind).await?, tenant.id));
        }
    }
    let tier = |t: &str| match t {
        "staff" => "staff",
        "contractor" => "contractor",
        _ => "volunteer",
    };
    let shape = Shape {
        desks: store.desks_all().await?.into_iter().map(|d| (d.id, d.tenant)).collect(),
        members: directory.tenants.iter().map(|t| t.id).collect(),
        interpreters: directory.interpreters.iter().map(|i| (i.id, tier(&i.tier))).collect(),
        partners,
    };
    let made_up = |e: jiff::Error| StoreError::Corrupt { table: "demo history", problem: e.to_string() };
    let tz = jiff::tz::TimeZone::get(TZ).map_err(made_up)?;
    let first = jiff::Zoned::now()
        .with_time_zone(tz.clone())
        .date()
        .checked_sub(jiff::Span::new().days(40))
        .map_err(made_up)?;
    let records = crate::reports::sample::days(&shape, first, 40, &tz, 2_400, 2026).map_err(made_up)?;
    store.import_call_records(&records).await
}
