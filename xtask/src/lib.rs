//! What the test runner shares with Causeway's own tests: the throwaway PostgreSQL (a
//! fault test starts one of its own, to stop and restart it under load) and the children
//! it runs in process groups of their own.

pub mod postgres;
pub mod process;
