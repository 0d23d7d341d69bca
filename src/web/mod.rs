//! Plain HTTP surfaces outside the OpenAPI document, and request-wide middleware.

pub mod correlation;
pub mod health;
