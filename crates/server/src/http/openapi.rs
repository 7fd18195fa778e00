//! The OpenAPI document of the HTTP API, served at `/api/openapi.json`.

use axum::Json;
use schemars::JsonSchema;

use super::admin::{DeskBody, DeskOut, IdOut, InterpreterBody, TenantBody, TenantOut};
use crate::directory::{InterpreterRow, PolicyDoc};

fn schema<T: JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
}

/// The OpenAPI document of the HTTP API.
pub fn openapi_document() -> serde_json::Value {
    use serde_json::json;
    let bearer = json!([{ "bearer": [] }]);
    let ok = |d: &str| json!({ "description": d });
    let err = json!({ "description": "an error: {\"error\": {\"code\", \"message\"}}; the message names the field at fault" });
    let with_body = |s: &str| json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{s}") } } } });
    json!({
        "openapi": "3.1.0",
        "info": { "title": "kakehashi", "version": env!("CARGO_PKG_VERSION"), "description": "Directory, credentials and records of a kakehashi server. Signalling is WebSocket at /ws (see proto/)." },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "TenantBody": schema::<TenantBody>(),
                "TenantOut": schema::<TenantOut>(),
                "PolicyDoc": schema::<PolicyDoc>(),
                "DeskBody": schema::<DeskBody>(),
                "DeskOut": schema::<DeskOut>(),
                "InterpreterBody": schema::<InterpreterBody>(),
                "InterpreterOut": schema::<InterpreterRow>(),
                "IdOut": schema::<IdOut>(),
            }
        },
        "paths": {
            "/api/enrol": { "post": { "summary": "Exchange a desk's enrolment code for its device token", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["code"], "properties": { "code": { "type": "string" } }, "additionalProperties": false } } } }, "responses": { "200": ok("{desk, tenant, token}"), "401": err.clone() } } },
            "/api/sign-in": { "post": { "summary": "Sign in an interpreter or a supervisor/admin", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["role", "login", "password"], "properties": { "role": { "enum": ["interpreter", "staff"] }, "login": { "type": "string" }, "password": { "type": "string" } }, "additionalProperties": false } } } }, "responses": { "200": ok("{token}"), "401": err.clone(), "429": ok("locked after repeated failures") } } },
            "/api/sign-out": { "post": { "summary": "End the caller's session", "security": bearer, "responses": { "204": ok("signed out"), "401": err.clone() } } },
            "/api/call-records": { "get": { "summary": "Call records of the caller's tenant (all for an admin); no names, numbers or content", "security": bearer, "responses": { "200": ok("records"), "401": err.clone(), "403": err.clone() } } },
            "/api/tenants": {
                "get": { "summary": "Tenants (a supervisor sees their own)", "security": bearer, "responses": { "200": ok("[TenantOut]") } },
                "post": { "summary": "Add a tenant (admin)", "security": bearer, "requestBody": with_body("TenantBody"), "responses": { "201": ok("{id}"), "400": err.clone(), "409": err.clone(), "422": err.clone() } }
            },
            "/api/tenants/{id}/policy": { "put": { "summary": "Replace a tenant's routing policy (admin)", "security": bearer, "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }], "requestBody": with_body("PolicyDoc"), "responses": { "204": ok("applied"), "404": err.clone(), "422": err.clone() } } },
            "/api/tenants/{id}/desks": { "post": { "summary": "Add a desk; returns its single-use enrolment code (admin)", "security": bearer, "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }], "requestBody": with_body("DeskBody"), "responses": { "201": ok("DeskOut"), "404": err.clone(), "422": err.clone() } } },
            "/api/desks/{id}": { "delete": { "summary": "Revoke a desk's device (admin)", "security": bearer, "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }], "responses": { "204": ok("revoked") } } },
            "/api/interpreters": {
                "get": { "summary": "Interpreters (a supervisor sees those serving their tenant)", "security": bearer, "responses": { "200": ok("[InterpreterOut]") } },
                "post": { "summary": "Add an interpreter (admin)", "security": bearer, "requestBody": with_body("InterpreterBody"), "responses": { "201": ok("{id}"), "409": err.clone(), "422": err.clone() } }
            },
            "/api/interpreters/{id}": { "put": { "summary": "Replace an interpreter's profile (admin); refused while they are rung or in a call", "security": bearer, "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }], "requestBody": with_body("InterpreterBody"), "responses": { "204": ok("applied"), "404": err.clone(), "409": err.clone(), "422": err } } },
            "/healthz": { "get": { "responses": { "200": ok("alive") } } },
            "/readyz": { "get": { "responses": { "200": ok("ready"), "503": ok("draining") } } },
            "/metrics": { "get": { "description": "Served on private_listen only when it is set; with metrics_token, only with that bearer token.", "responses": { "200": ok("Prometheus text format"), "401": ok("the metrics token is missing or wrong"), "404": ok("served on the private listener") } } },
            "/ws": { "get": { "summary": "WebSocket signalling (see proto/README.md)", "responses": { "101": ok("switching protocols") } } }
        }
    })
}

/// `GET /api/openapi.json`.
pub(super) async fn openapi() -> Json<serde_json::Value> {
    Json(openapi_document())
}
