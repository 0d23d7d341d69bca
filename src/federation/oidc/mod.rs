//! OpenID Connect relying-party pieces: ID-token signatures and claim rules.

pub mod claims;
pub mod connector;
pub mod endpoints;
pub mod id_token;
pub mod jws;
pub mod signer;
