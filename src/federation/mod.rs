//! Everything Causeway says to partner identity managers: the connector seam, its kinds,
//! the one outbound HTTP client, and the key cache.

pub mod cache;
pub mod connector;
pub mod hosted_login;
pub mod http;
pub mod idm_check;
pub mod jwks;
pub mod oidc;
pub mod registry;
