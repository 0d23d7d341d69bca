use std::fmt;

/// Why one field of a request was refused; rendered as one `details[]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Path from the body's root to the bad field, e.g. `["controller", "email"]`.
    pub target: Vec<String>,
    pub reason: Reason,
    pub message: String,
}

/// Stable machine-readable reason codes (`details[].reason_code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    InvalidJson,
    MissingField,
    UnknownField,
    InvalidType,
    InvalidCountry,
    InvalidEmail,
    InvalidPhone,
    TimeInFuture,
    InvalidTime,
    InvalidIp,
    InvalidLength,
    InvalidCharacters,
    InvalidId,
    NotFound,
    InvalidHeader,
    InvalidParameter,
    InvalidApiVersion,
    BodyTooLarge,
    UnsupportedContentType,
    InvalidUrl,
    InsecureUrl,
    ForbiddenAddress,
    InvalidDomain,
    InvalidColor,
    InvalidScope,
    InvalidValue,
    AlreadyExists,
    /// An idempotency key sent again with a different request.
    KeyReused,
}

impl Reason {
    pub const ALL: [Self; 28] = [
        Self::InvalidJson,
        Self::MissingField,
        Self::UnknownField,
        Self::InvalidType,
        Self::InvalidCountry,
        Self::InvalidEmail,
        Self::InvalidPhone,
        Self::TimeInFuture,
        Self::InvalidTime,
        Self::InvalidIp,
        Self::InvalidLength,
        Self::InvalidCharacters,
        Self::InvalidId,
        Self::NotFound,
        Self::InvalidHeader,
        Self::InvalidParameter,
        Self::InvalidApiVersion,
        Self::BodyTooLarge,
        Self::UnsupportedContentType,
        Self::InvalidUrl,
        Self::InsecureUrl,
        Self::ForbiddenAddress,
        Self::InvalidDomain,
        Self::InvalidColor,
        Self::InvalidScope,
        Self::InvalidValue,
        Self::AlreadyExists,
        Self::KeyReused,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidJson => "INVALID_JSON",
            Self::MissingField => "MISSING_FIELD",
            Self::UnknownField => "UNKNOWN_FIELD",
            Self::InvalidType => "INVALID_TYPE",
            Self::InvalidCountry => "INVALID_COUNTRY",
            Self::InvalidEmail => "INVALID_EMAIL",
            Self::InvalidPhone => "INVALID_PHONE",
            Self::TimeInFuture => "TIME_IN_FUTURE",
            Self::InvalidTime => "INVALID_TIME",
            Self::InvalidIp => "INVALID_IP_ADDRESS",
            Self::InvalidLength => "INVALID_LENGTH",
            Self::InvalidCharacters => "INVALID_CHARACTERS",
            Self::InvalidId => "INVALID_ID",
            Self::NotFound => "NOT_FOUND",
            Self::InvalidHeader => "INVALID_HEADER",
            Self::InvalidParameter => "INVALID_PARAMETER",
            Self::InvalidApiVersion => "INVALID_API_VERSION",
            Self::BodyTooLarge => "BODY_TOO_LARGE",
            Self::UnsupportedContentType => "UNSUPPORTED_CONTENT_TYPE",
            Self::InvalidUrl => "INVALID_URL",
            Self::InsecureUrl => "INSECURE_URL",
            Self::ForbiddenAddress => "FORBIDDEN_ADDRESS",
            Self::InvalidDomain => "INVALID_DOMAIN",
            Self::InvalidColor => "INVALID_COLOR",
            Self::InvalidScope => "INVALID_SCOPE",
            Self::InvalidValue => "INVALID_VALUE",
            Self::AlreadyExists => "ALREADY_EXISTS",
            Self::KeyReused => "KEY_REUSED",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FieldError {
    pub fn new(target: &[&str], reason: Reason, message: impl Into<String>) -> Self {
        Self { target: target.iter().map(|s| s.to_string()).collect(), reason, message: message.into() }
    }
}

/// Collects every field's verdict so one response can list all the problems at once.
#[derive(Default)]
pub struct Verdicts(Vec<FieldError>);

impl Verdicts {
    pub fn check<T>(&mut self, target: &[&str], result: Result<T, super::values::Invalid>) -> Option<T> {
        result
            .map_err(|invalid| self.0.push(FieldError::new(target, invalid.reason, invalid.message)))
            .ok()
    }

    /// `build` assembles the value from the checked parts; it runs only if all passed.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<FieldError>> {
        match (self.0.is_empty(), build()) {
            (true, Some(value)) => Ok(value),
            _ => Err(self.0),
        }
    }
}
