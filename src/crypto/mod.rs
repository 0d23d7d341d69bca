//! Randomness and credential handling.

pub mod digest;
pub mod random;
pub mod tokens;
