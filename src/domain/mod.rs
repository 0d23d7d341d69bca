//! Pure types and rules: values here can only hold what the contract allows.

pub mod app;
pub mod field_error;
pub mod ids;
pub mod onboarding;
pub mod values;
