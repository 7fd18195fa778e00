//! Request bodies: JSON only, parsed strictly into the handler's type, with every refusal
//! an `ApiError` (400, `invalid_field`) whose message names the field at fault. A number
//! written with a zero fraction (`3.0`) is the integer it equals, as JSON Schema says.

use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use bytes::Bytes;
use kakehashi_protocol as p;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// A JSON body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

fn refused(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, p::ErrorCode::InvalidField, message)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(refused("Expected request with `Content-Type: application/json`"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| refused(e.body_text()))?;
        parse(&bytes).map(JsonBody)
    }
}

/// Parse a body: JSON, integral floats made integers, then `T`, naming the field at fault.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| refused(format!("the body is not JSON: {e}")))?;
    integral(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." { refused(e.inner().to_string()) } else { refused(format!("{path}: {}", e.inner())) }
    })
}

/// Numbers with a zero fraction, within the range floats hold exactly, become integers.
fn integral(v: &mut Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT) {
                #[allow(clippy::cast_possible_truncation)]
                let i = f as i64;
                *v = Value::from(i);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral),
        Value::Object(fields) => fields.values_mut().for_each(integral),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Thing {
        n: u32,
        list: Vec<i64>,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        seconds: u64,
    }

    fn message(e: ApiError) -> String {
        format!("{e:?}")
    }

    #[test]
    fn integral_floats_are_integers_and_errors_name_the_field() {
        let t: Thing = parse(br#"{"n": 194.0, "list": [-481.0, 3], "inner": {"seconds": 2.0}}"#).unwrap();
        assert_eq!(t, Thing { n: 194, list: vec![-481, 3], inner: Some(Inner { seconds: 2 }) });
        let e = message(parse::<Thing>(br#"{"n": 1.5, "list": []}"#).unwrap_err());
        assert!(e.contains("n: invalid type"), "{e}");
        let e = message(parse::<Thing>(br#"{"n": 1, "list": [1], "inner": {"seconds": -1}}"#).unwrap_err());
        assert!(e.contains("inner.seconds"), "{e}");
        let e = message(parse::<Thing>(br#"{"n": 1, "list": [], "colour": 1}"#).unwrap_err());
        assert!(e.contains("colour"), "{e}");
        let e = message(parse::<Thing>(b"{not json").unwrap_err());
        assert!(e.contains("not JSON"), "{e}");
    }

    proptest::proptest! {
        /// Fuzz: any bytes are a body or a refusal, never a panic.
        #[test]
        fn any_bytes(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = parse::<Thing>(&b);
        }

        /// Fuzz: any JSON value is a body or a refusal.
        #[test]
        fn any_json(s in "[\\[\\]{}:,\"0-9.a-z \\-]{0,200}") {
            let _ = parse::<Thing>(s.as_bytes());
        }

        /// Fuzz: the directory's bodies, JSON made of their own field names and values,
        /// parse and validate into a policy or a roster, or are refused naming a field.
        #[test]
        fn directory_bodies(s in DIRECTORY_JSON) {
            if let Ok(doc) = parse::<crate::directory::PolicyDoc>(s.as_bytes()) {
                if let Err(e) = doc.to_policy() {
                    proptest::prop_assert!(e.field.starts_with("policy"), "{e}");
                }
            }
            if let Ok(doc) = parse::<crate::directory::RosterDoc>(s.as_bytes()) {
                if let Err(e) = doc.to_roster() {
                    proptest::prop_assert!(e.field.starts_with("roster"), "{e}");
                }
            }
        }
    }

    /// Objects with the directory's field names and plausible values.
    const DIRECTORY_JSON: &str = concat!(
        r#"\{("(steps|ring_timeout_secs|max_wait_secs|wrap_up_secs|missed_offers_limit|urgent_credit_secs|"#,
        r#"preferred_hold_secs|booking_guard_secs|parallel|order|always|time_zone|shifts|off|extra)":"#,
        r#"([0-9]{1,12}|-1|null|true|false|"(own|shared|staff|vi|Asia/Tokyo|mon|09:00|25:00|2026-02-30|x)"|"#,
        r#"\[\{"(seconds|tiers|scope|days|weekday|nth|start|end|from|until|date|languages|fan_out)":"#,
        r#"([0-9]{1,6}|\["(staff|mon|vi|own)"\]|"(09:00|17:00|2026-12-01|own)")\}\]|"#,
        r#"\{"(languages|fan_out)":([0-9]|\["vi"\])\}),?){0,5}\}"#
    );
}
