//! A municipality's centre calendar over HTTP (issue 17, first part): the default until
//! set, a wrong field named, a closure and an extra opening in the next two weeks' plans,
//! another municipality's refused, every change audited; the desk's week of hours.

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn a_supervisor_keeps_the_centre_calendar_and_its_plans_follow() {
    let dir = temp("calendar");
    let creds = seed(&dir).await;
    let server = Server::start(dir.clone()).await;
    let path = "/api/tenants/1/calendar";
    let (status, body) = http(server.addr, "GET", path, Some(&creds.sup_a), None).await;
    assert_eq!(status, 200, "{body}");
    let read: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(read["set"], false);
    let (_, body) = http(server.addr, "GET", "/api/desk", Some(&creds.desk_a1), None).await;
    assert!(body.contains(r#""days":null"#), "no hours to show until set: {body}");
    assert_eq!(read["calendar"]["hours"][0]["open"], "08:30", "a municipal office's hours by default");
    assert_eq!(read["days"].as_array().unwrap().len(), 14);

    let put = |token: String, body: Value| async move {
        http(server.addr, "PUT", path, Some(&token), Some(&body.to_string())).await
    };
    let (status, body) =
        put(creds.sup_a.clone(), json!({"hours": [{"days": ["mon"], "open": "8:30", "close": "17:00"}]})).await;
    assert!(status == 422 && body.contains("hours[0].open"), "{status} {body}");
    let (status, body) = put(creds.sup_a.clone(), json!({"hours": [], "holidays": false})).await;
    assert!(status == 400 && body.contains("holidays"), "{status} {body}");
    let today = jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap()).date();
    let day = |n: i64| today.checked_add(jiff::Span::new().days(n)).unwrap().to_string();
    let calendar = json!({
        "hours": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "open": "09:00", "close": "17:00"}],
        "closed_on_holidays": false,
        "closed_year_end": false,
        "closures": [{"from": day(1), "until": day(2), "reason": "臨時休館"}],
        "extra": [{"date": day(3), "open": "18:00", "close": "20:00", "note": "夜間相談"}],
    });
    assert_eq!(put(creds.sup_b.clone(), calendar.clone()).await.0, 403, "another municipality's");
    assert_eq!(put(creds.sup_a.clone(), calendar).await.0, 204);
    let (_, body) = http(server.addr, "GET", path, Some(&creds.sup_a), None).await;
    let read: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(read["set"], true);
    let days = read["days"].as_array().unwrap();
    assert_eq!((days[1]["open"].clone(), days[1]["note"].clone()), (json!([]), json!("臨時休館")));
    assert_eq!(days[3]["open"], json!([["09:00", "17:00"], ["18:00", "20:00"]]));
    assert_eq!(days[3]["note"], "夜間相談");
    assert_eq!(days[0]["date"], today.to_string());
    assert!(read["next_open"].as_i64().is_some());
    // The desk's home screen shows the week from today.
    let (_, body) = http(server.addr, "GET", "/api/desk", Some(&creds.desk_a1), None).await;
    let home: Value = serde_json::from_str(&body).unwrap();
    let week = home["days"].as_array().expect("the desk sees the hours");
    assert_eq!(
        (week.len(), week[0]["date"].clone(), week[1]["note"].clone()),
        (7, json!(today.to_string()), json!("臨時休館"))
    );
    let (_, body) = http(server.addr, "GET", "/api/audit-log?tenant=1", Some(&creds.admin), None).await;
    assert!(body.contains("set_calendar"), "{body}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
