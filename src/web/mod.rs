//! Plain HTTP surfaces outside the OpenAPI document, and request-wide middleware.

pub mod assets;
pub mod body_limit;
pub mod client_ip;
pub mod correlation;
pub mod csrf;
pub mod headers;
pub mod health;
pub mod metrics;
pub mod server;
pub mod session;
pub mod view;
