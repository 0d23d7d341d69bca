//! The contract's one JSON error shape, for every API path.

use poem::error::ResponseError;
use poem::http::StatusCode;
use poem::IntoResponse;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object};

use crate::domain::field_error::{FieldError, Reason};
use crate::services::ServiceError;

/// The error's stable class (the contract's table).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// 400, 413, 415: bad JSON, a missing, unknown or invalid field or header.
    InvalidParams,
    /// 401.
    NotAuthorized,
    /// 404.
    NotFound,
    /// 409: a `Unique-Key` used before with another request.
    IdempotencyConflict,
    /// 409: a second of something there is one of.
    AlreadyExists,
    /// 429.
    ThrottleExceeded,
    /// 500.
    UnexpectedError,
    /// 503 (with `Retry-After`): the database is briefly unreachable; nothing was done.
    ServiceUnavailable,
}

#[derive(Object, Clone, Debug)]
#[oai(example)]
pub struct ErrorBody {
    pub error_code: ErrorCode,
    /// A sentence for the partner's developer.
    pub error_message: String,
    /// One entry per problem, each naming the field it concerns.
    pub details: Vec<ErrorDetail>,
}

#[derive(Object, Clone, Debug, serde::Serialize)]
pub struct ErrorDetail {
    /// Path from the body's root to the field (or the header or parameter name).
    pub target: Vec<String>,
    /// What is wrong with it (the spec lists every code).
    pub reason_code: String,
    pub message: String,
}

impl poem_openapi::types::Example for ErrorBody {
    fn example() -> Self {
        body(
            ErrorCode::InvalidParams,
            "The legal entity has invalid fields.",
            vec![ErrorDetail {
                target: vec!["controller".into(), "email".into()],
                reason_code: Reason::InvalidEmail.code().into(),
                message: crate::domain::values::EmailAddress::parse("owner@").map_or_else(|e| e.message, |_| String::new()),
            }],
        )
        .0
    }
}

impl From<&FieldError> for ErrorDetail {
    fn from(err: &FieldError) -> Self {
        Self { target: err.target.clone(), reason_code: err.reason.code().to_owned(), message: err.message.clone() }
    }
}

/// Every failure an API operation can answer with; listed in each operation's spec.
#[derive(ApiResponse, Clone, Debug)]
pub enum ApiError {
    /// Bad JSON, a missing, unknown or invalid field, or a bad `Api-Version`.
    #[oai(status = 400)]
    InvalidParams(Json<ErrorBody>),
    /// `App-Id`/`App-Token` missing or wrong, or the app is suspended.
    #[oai(status = 401)]
    NotAuthorized(Json<ErrorBody>),
    /// No such object among this app's objects.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// `Unique-Key` already used with a different request (`IDEMPOTENCY_CONFLICT`), or a
    /// second of something there is one of (`ALREADY_EXISTS`).
    #[oai(status = 409)]
    IdempotencyConflict(Json<ErrorBody>),
    /// Request body over the size limit.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// Request body is not JSON.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// Too many calls from this app; retry after the given number of seconds.
    #[oai(status = 429)]
    ThrottleExceeded(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Something failed on our side; quote the correlation id (in the message, and in
    /// `X-Correlation-Id` like every response) to support.
    #[oai(status = 500)]
    Unexpected(Json<ErrorBody>),
    /// The database is briefly unreachable (a restart, a failover): nothing was done; retry
    /// after the given number of seconds, with the same `Unique-Key` for a create.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
}

/// A database restart takes a second or two; clients retrying sooner only add load.
const RETRY_UNAVAILABLE_AFTER_SECONDS: u64 = 2;

fn body(error_code: ErrorCode, message: impl Into<String>, details: Vec<ErrorDetail>) -> Json<ErrorBody> {
    Json(ErrorBody { error_code, error_message: message.into(), details })
}

impl ApiError {
    pub fn invalid(message: impl Into<String>, errors: &[FieldError]) -> Self {
        Self::InvalidParams(body(ErrorCode::InvalidParams, message, errors.iter().map(Into::into).collect()))
    }

    pub fn invalid_one(target: &[&str], reason: Reason, message: &str) -> Self {
        Self::invalid(message, &[FieldError::new(target, reason, message)])
    }

    pub fn not_authorized() -> Self {
        // One message for every cause, so a caller cannot probe which half was wrong.
        Self::NotAuthorized(body(ErrorCode::NotAuthorized, "App-Id and App-Token do not identify an active app.", vec![]))
    }

    pub fn not_found(field: Option<&FieldError>) -> Self {
        Self::NotFound(body(ErrorCode::NotFound, "No such object.", field.into_iter().map(Into::into).collect()))
    }

    pub fn too_large(limit: usize) -> Self {
        Self::PayloadTooLarge(body(
            ErrorCode::InvalidParams,
            format!("The request body is larger than {limit} bytes."),
            vec![ErrorDetail { target: vec![], reason_code: Reason::BodyTooLarge.code().into(), message: "body too large".into() }],
        ))
    }

    pub fn unsupported_media_type() -> Self {
        Self::UnsupportedMediaType(body(
            ErrorCode::InvalidParams,
            "The request body must be JSON, sent with Content-Type: application/json.",
            vec![ErrorDetail {
                target: vec!["Content-Type".into()],
                reason_code: Reason::UnsupportedContentType.code().into(),
                message: "expected application/json".into(),
            }],
        ))
    }

    pub fn throttled(retry_after_seconds: u64) -> Self {
        Self::ThrottleExceeded(body(ErrorCode::ThrottleExceeded, "Too many requests from this app; slow down.", vec![]), retry_after_seconds.max(1))
    }

    /// An opaque 500: the cause is logged with the correlation id, never sent; or a 503
    /// when the cause is a database that cannot be reached for now.
    pub fn unexpected(cause: &(dyn std::error::Error + 'static)) -> Self {
        let correlation = crate::web::correlation::current();
        if crate::store::StoreError::unavailable_in(cause) {
            tracing::warn!(correlation_id = %correlation, error = %ErrorChain(cause), "database unavailable");
            return Self::Unavailable(
                body(ErrorCode::ServiceUnavailable, format!("The service is briefly unavailable; retry shortly. Correlation id: {correlation}."), vec![]),
                RETRY_UNAVAILABLE_AFTER_SECONDS,
            );
        }
        tracing::error!(correlation_id = %correlation, error = %ErrorChain(cause), "unexpected error");
        Self::Unexpected(body(ErrorCode::UnexpectedError, format!("Something went wrong on our side. Correlation id: {correlation}."), vec![]))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidParams(_) => StatusCode::BAD_REQUEST,
            Self::NotAuthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::IdempotencyConflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::ThrottleExceeded(..) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Displays an error with its whole `source()` chain on one line.
pub struct ErrorChain<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// An `ApiError` raised by an extractor (auth, body), carried through `poem::Error` so
/// the operation's bad-request handler gets it back intact.
#[derive(Debug, Clone)]
pub struct Rejected(pub ApiError);

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request rejected with {}", self.0.status())
    }
}

impl std::error::Error for Rejected {}

impl ResponseError for Rejected {
    fn status(&self) -> StatusCode {
        self.0.status()
    }

    fn as_response(&self) -> poem::Response {
        self.0.clone().into_response()
    }
}

impl ApiError {
    pub fn reject(self) -> poem::Error {
        Rejected(self).into()
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound { field } => Self::not_found(field.as_ref()),
            ServiceError::Invalid(errors) => Self::invalid("The request has invalid fields.", &errors),
            ServiceError::IdempotencyConflict => Self::IdempotencyConflict(body(
                ErrorCode::IdempotencyConflict,
                "This Unique-Key was already used with a different request.",
                vec![ErrorDetail {
                    target: vec!["Unique-Key".into()],
                    reason_code: Reason::KeyReused.code().into(),
                    message: "use a new key for a different request".into(),
                }],
            )),
            ServiceError::AlreadyExists(field) => {
                Self::IdempotencyConflict(body(ErrorCode::AlreadyExists, field.message.clone(), vec![ErrorDetail::from(&field)]))
            }
            ServiceError::Unauthenticated | ServiceError::Forbidden | ServiceError::StepUpRequired => Self::not_authorized(),
            ServiceError::Internal(cause) => Self::unexpected(cause.as_ref()),
        }
    }
}

/// Renders any error that left an operation or the router in the contract's shape:
/// extractor rejections (auth, headers, body), unknown paths and methods.
pub fn render_poem_error(err: poem::Error) -> poem::Response {
    // An operation's own `ApiError` arrives wrapped as a response: it has the shape already.
    if err.is_from_response() {
        return err.into_response();
    }
    if let Some(Rejected(api)) = err.downcast_ref::<Rejected>() {
        return api.clone().into_response();
    }
    if let Some(param) = err.downcast_ref::<poem_openapi::error::ParseParamError>() {
        let (reason, message) = match param.name {
            "Unique-Key" => (Reason::InvalidHeader, "Unique-Key must be 1 to 255 visible ASCII characters.".to_owned()),
            name => (Reason::InvalidParameter, format!("The {name} parameter is missing or invalid.")),
        };
        return ApiError::invalid_one(&[param.name], reason, &message).into_response();
    }
    let api = match err.status() {
        StatusCode::METHOD_NOT_ALLOWED => {
            let body = body(ErrorCode::InvalidParams, "This method is not allowed on this path.", vec![]);
            return (StatusCode::METHOD_NOT_ALLOWED, body).into_response();
        }
        StatusCode::UNAUTHORIZED => ApiError::not_authorized(),
        StatusCode::NOT_FOUND => ApiError::not_found(None),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::unsupported_media_type(),
        status if status.is_client_error() => ApiError::invalid(err.to_string(), &[]),
        _ => ApiError::unexpected(&err),
    };
    api.into_response()
}
