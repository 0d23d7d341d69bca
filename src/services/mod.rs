//! Use cases. Each function takes the `AppState` it needs and speaks domain types.

pub mod apps;
pub mod branding;
pub mod error;
pub mod idm;
pub mod master_key;
pub mod onboarding;
pub mod sso_events;

pub use error::ServiceError;
