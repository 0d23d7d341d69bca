use crate::domain::field_error::FieldError;
use crate::store::StoreError;

/// The one error every use case returns; each web surface renders it its own way.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("not found")]
    NotFound { field: Option<FieldError> },
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("idempotency key reused with a different request")]
    IdempotencyConflict,
    /// The request would create a second of something there may be only one of.
    #[error("already exists")]
    AlreadyExists(FieldError),
    /// Deliberately carries no reason: callers must not learn which credential was wrong.
    #[error("not authenticated")]
    Unauthenticated,
    /// Authenticated, but the role does not allow it.
    #[error("not allowed for this role")]
    Forbidden,
    /// Allowed, after the person authenticates at the IdM again (contract: step-up).
    #[error("a recent sign-in is needed")]
    StepUpRequired,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::NotFound { field: None },
            StoreError::CredentialRefused => Self::Unauthenticated,
            other => Self::Internal(other.into()),
        }
    }
}

impl From<Vec<FieldError>> for ServiceError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Invalid(errors)
    }
}
