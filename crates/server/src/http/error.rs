//! One error type for the HTTP API: a status, a code a client can act on, and a message
//! safe to show. A fault's details never reach the client: it gets "internal error" and
//! a reference, and the details are logged once, with the reference, by [`log_faults`].

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kakehashi_protocol as p;

use crate::auth::AuthError;
use crate::problem::{FieldProblem, Problem};
use crate::store::{Constraint, StoreError};

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: p::ErrorCode,
    message: String,
    /// For `invalid_field`: the field and what is wrong, for a page to say in its language.
    problem: Option<Box<FieldProblem>>,
    /// For faults: what went wrong, for the log only.
    detail: Option<String>,
}

/// A fault's details, carried from the handler to [`log_faults`] in the response's
/// extensions.
#[derive(Clone, Debug)]
struct Fault(String);

impl ApiError {
    /// A refusal the client caused: status, code and a message naming what was wrong.
    pub fn new(status: StatusCode, code: p::ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), problem: None, detail: None }
    }

    /// A fault of ours: the client gets a generic message; `detail` goes to the log.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: p::ErrorCode::Internal,
            message: "internal error".into(),
            problem: None,
            detail: Some(detail.to_string()),
        }
    }

    /// `422`: a field is wrong.
    pub fn invalid(field: &str, problem: impl Into<Problem>) -> ApiError {
        ApiError::from(problem.into().at(field))
    }

    /// `409`: a name or login that must be unique is taken.
    pub fn taken(field: &str) -> ApiError {
        ApiError::invalid(field, crate::problem::ProblemCode::Taken).with_status(StatusCode::CONFLICT)
    }

    /// `404`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, p::ErrorCode::NotFound, message)
    }

    /// `403`.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, p::ErrorCode::NotAllowed, message)
    }

    /// `409`.
    pub fn conflict(code: p::ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// The same error with another status (`400` for a query's field).
    pub fn with_status(self, status: StatusCode) -> ApiError {
        ApiError { status, ..self }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let reference = self.detail.as_ref().map(|_| crate::auth::new_token()[..12].to_string());
        let message = match &reference {
            Some(r) => format!("{}; reference {r}", self.message),
            None => self.message,
        };
        let body = ErrorBody { error: ErrorDetail { code: self.code, message, problem: self.problem } };
        let mut response = (self.status, Json(body)).into_response();
        if let (Some(detail), Some(r)) = (self.detail, reference) {
            response.extensions_mut().insert(Fault(format!("{detail} (reference {r})")));
        }
        response
    }
}

/// Log each fault once, with its reference, and keep its details out of the response.
pub async fn log_faults(req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let mut response = next.run(req).await;
    if let Some(Fault(detail)) = response.extensions_mut().remove::<Fault>() {
        tracing::error!(%method, path = %redact_path(&path), %detail, "api fault");
    }
    response
}

/// A path for the log: tokens in it (an invite link's) are cut.
fn redact_path(path: &str) -> String {
    match path.strip_prefix("/api/invites/") {
        Some(_) => "/api/invites/<token>".into(),
        None => path.to_string(),
    }
}

impl From<FieldProblem> for ApiError {
    /// `422`, naming the field.
    fn from(p: FieldProblem) -> Self {
        let message = p.to_string();
        ApiError {
            problem: Some(Box::new(p)),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, p::ErrorCode::InvalidField, message)
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Refused => ApiError::new(StatusCode::UNAUTHORIZED, p::ErrorCode::Unauthorized, "not accepted"),
            AuthError::SecondFactorNeeded => ApiError::new(
                StatusCode::UNAUTHORIZED,
                p::ErrorCode::SecondFactorRequired,
                "enter the code from the authenticator app",
            ),
            AuthError::EnrolmentRequired => {
                ApiError::new(StatusCode::FORBIDDEN, p::ErrorCode::SecondFactorSetup, "set up two-factor sign-in first")
            }
            AuthError::Throttled => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                p::ErrorCode::RateLimited,
                "too many attempts from this address; wait a minute",
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Constraint(Constraint::Unique) => {
                ApiError::conflict(p::ErrorCode::InvalidField, "that name or login is taken")
            }
            StoreError::Constraint(Constraint::ForeignKey) => ApiError::not_found("a row it names does not exist"),
            other => ApiError::internal(other),
        }
    }
}

/// The body of every error response (`ApiError`'s JSON).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ErrorBody {
    /// What went wrong: a code to act on and a message safe to show.
    pub error: ErrorDetail,
}

/// An error: a code, a message in English, and for a field that is wrong, which one and
/// what is wrong with it, so that a page can say it in its own language.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct ErrorDetail {
    /// What went wrong.
    pub code: p::ErrorCode,
    /// Details for people and logs, in English; never personal data.
    pub message: String,
    /// With `invalid_field` (mostly `422`): the field at fault and what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Box<FieldProblem>>,
}

/// A value from the path (an id, a token), refused like any other bad input, with the
/// usual error body, when it does not parse.
#[derive(Debug)]
pub struct PathOf<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S> for PathOf<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| PathOf(v))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, p::ErrorCode::InvalidField, e.body_text()))
    }
}

/// [`axum::extract::Query`], refused with an `invalid_field` error that says what is wrong
/// with the query string.
#[derive(Debug)]
pub struct QueryOf<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S> for QueryOf<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| QueryOf(v))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, p::ErrorCode::InvalidField, e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fault_shows_the_client_a_reference_and_nothing_else() {
        let response = ApiError::internal("database: disk I/O error at /var/lib/secret").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.extensions().get::<Fault>().is_some_and(|f| f.0.contains("disk I/O")));
        let bytes = axum::body::to_bytes(response.into_body(), 10_000).await.unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(text.contains("internal error; reference ") && !text.contains("disk"), "{text}");
    }

    #[test]
    fn constraint_errors_are_sorted_by_kind() {
        assert_eq!(ApiError::from(StoreError::Constraint(Constraint::Unique)).status(), StatusCode::CONFLICT);
        assert_eq!(ApiError::from(StoreError::Constraint(Constraint::ForeignKey)).status(), StatusCode::NOT_FOUND);
        assert_eq!(ApiError::from(StoreError::Timeout).status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(redact_path("/api/invites/abc"), "/api/invites/<token>");
    }
}
