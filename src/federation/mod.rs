//! Everything Causeway says to partner identity managers.

pub mod cache;
pub mod http;
pub mod idm_check;
pub mod jwks;
pub mod oidc;
