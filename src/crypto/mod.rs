//! Randomness, credential handling and sealing of secrets at rest.

pub mod digest;
pub mod keyring;
pub mod random;
pub mod sealed;
pub mod session_ids;
pub mod tokens;
