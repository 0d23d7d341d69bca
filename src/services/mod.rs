//! Use cases. Each function takes the `AppState` it needs and speaks domain types.

pub mod apps;
pub mod error;
pub mod onboarding;

pub use error::ServiceError;
