//! The builder of the OpenAPI document: operations with their parameters, bodies and
//! answers, schemas registered once, and the answers most operations share.

use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use super::super::error::ErrorBody;

/// Who may call an operation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Who {
    /// Anyone.
    Anyone,
    /// A bearer token of some kind (the summary says which).
    Bearer,
}

/// One operation.
pub(super) struct Op<'a> {
    pub(super) summary: &'a str,
    pub(super) who: Who,
    pub(super) params: &'a [(&'a str, &'a str, &'a str)],
    pub(super) body: Option<Value>,
    /// (status, what it means, its body schema).
    pub(super) answers: Vec<(u16, &'a str, Option<Value>)>,
}

pub(super) struct Doc {
    pub(super) generator: SchemaGenerator,
    pub(super) paths: Map<String, Value>,
}

impl Doc {
    pub(super) fn new() -> Doc {
        let settings = SchemaSettings::draft2020_12().with(|s| s.definitions_path = "/components/schemas".into());
        Doc { generator: settings.into_generator(), paths: Map::new() }
    }

    /// A `$ref` to `T`'s schema, registered under `components/schemas`.
    pub(super) fn of<T: JsonSchema>(&mut self) -> Value {
        serde_json::to_value(self.generator.subschema_for::<T>()).unwrap_or_default()
    }

    /// A JSON array of `T`.
    pub(super) fn list<T: JsonSchema>(&mut self) -> Value {
        json!({ "type": "array", "items": self.of::<T>() })
    }

    /// The error body.
    pub(super) fn error(&mut self) -> Option<Value> {
        Some(self.of::<ErrorBody>())
    }

    /// The operation's 200 answer may also be a CSV file or an Excel workbook.
    pub(super) fn files(&mut self, path: &str, method: &str) {
        let binary = json!({ "schema": { "type": "string", "format": "binary" } });
        if let Some(content) = self
            .paths
            .get_mut(path)
            .and_then(|p| p.get_mut(method))
            .and_then(|o| o.pointer_mut("/responses/200/content"))
            && let Some(content) = content.as_object_mut()
        {
            content.insert("text/csv".into(), binary.clone());
            content.insert("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into(), binary);
        }
    }

    pub(super) fn add(&mut self, path: &str, method: &str, op: Op<'_>) {
        let mut o = Map::new();
        o.insert("summary".into(), json!(op.summary));
        if op.who == Who::Bearer {
            o.insert("security".into(), json!([{ "bearer": [] }]));
        }
        if !op.params.is_empty() {
            let params: Vec<Value> = op
                .params
                .iter()
                .map(|(name, place, ty)| {
                    // A query parameter's type ending in `!` is required.
                    let (ty, required) = match ty.strip_suffix('!') {
                        Some(ty) => (ty, true),
                        None => (*ty, *place == "path"),
                    };
                    let schema = match ty {
                        "integer" => json!({ "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX }),
                        "since" => json!({ "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX, "description": "ms since the epoch" }),
                        "date" => json!({ "type": "string", "format": "date", "description": "YYYY-MM-DD" }),
                        "month" => json!({ "type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$", "description": "YYYY-MM" }),
                        "boolean" => json!({ "type": "boolean", "default": false }),
                        "limit" => json!({ "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 }),
                        "weeks" => json!({ "type": "integer", "minimum": 1, "maximum": 26, "default": 4 }),
                        "target" => json!({ "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "default": 0.8 }),
                        "secs" => json!({ "type": "number", "minimum": 1, "maximum": 600, "default": 20 }),
                        "format" => json!({ "type": "string", "enum": ["json", "csv", "xlsx"], "default": "json" }),
                        "lang" => json!({ "type": "string", "enum": ["ja", "en"], "default": "ja" }),
                        other => json!({ "type": other, "maxLength": 200 }),
                    };
                    json!({ "name": name, "in": place, "required": required, "schema": schema })
                })
                .collect();
            o.insert("parameters".into(), Value::Array(params));
        }
        if let Some(schema) = op.body {
            o.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": { "schema": schema } } }),
            );
        }
        let mut answers = op.answers;
        let error = self.error();
        if op.who == Who::Bearer {
            answers.push((401, "the token is missing, wrong, expired or revoked", error.clone()));
        }
        answers.push((500, "a fault on the server; the message carries a reference for its log", error));
        let mut responses = Map::new();
        for (status, description, schema) in answers {
            let mut r = Map::new();
            r.insert("description".into(), json!(description));
            if let Some(schema) = schema {
                let media =
                    if schema.get("type") == Some(&json!("string")) { "text/plain" } else { "application/json" };
                r.insert("content".into(), json!({ media: { "schema": schema } }));
            }
            responses.insert(status.to_string(), Value::Object(r));
        }
        o.insert("responses".into(), Value::Object(responses));
        let entry = self.paths.entry(path.to_string()).or_insert_with(|| json!({}));
        if let Some(map) = entry.as_object_mut() {
            map.insert(method.into(), Value::Object(o));
        }
    }
}

pub(super) const ID: &[(&str, &str, &str)] = &[("id", "path", "integer")];

/// An answer: status, what it means, its body's schema.
pub(super) type Answer = (u16, &'static str, Option<Value>);

/// The answers most operations share.
#[derive(Clone)]
pub(super) struct Common {
    /// The error body's schema.
    pub(super) error: Option<Value>,
    pub(super) bad_body: Answer,
    pub(super) invalid: Answer,
    pub(super) forbidden: Answer,
    pub(super) not_found: Answer,
    pub(super) conflict: Answer,
    pub(super) busy: Answer,
    pub(super) draining: Answer,
    pub(super) bad_id: Answer,
}

impl Common {
    pub(super) fn new(d: &mut Doc) -> Common {
        let e = d.error();
        // Refusals of the body, and of who asks.
        let bad_body = (400, "the body is not JSON of the documented shape (the message names the field)", e.clone());
        let invalid = (422, "a field's value is not acceptable (the message names the field)", e.clone());
        let forbidden = (
            403,
            "not for this role; or `second_factor_setup`: the session may only set up two-factor sign-in",
            e.clone(),
        );
        let not_found = (404, "no such thing, or not for the caller", e.clone());
        let conflict =
            (409, "conflicts with the directory's state (a taken name or login, a call in progress)", e.clone());
        let busy = (429, "too many attempts from this address; wait a minute", e.clone());
        let draining = (503, "the server is shutting down", e.clone());
        let bad_id = (400, "the id in the path is not a number", e.clone());
        Common { error: e, bad_body, invalid, forbidden, not_found, conflict, busy, draining, bad_id }
    }
}
