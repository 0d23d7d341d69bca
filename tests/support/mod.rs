//! What the integration tests (tests/it) and the benchmarks (benches) share: a test HTTP
//! server, the configurable fake OpenID provider, `causeway serve` as a subprocess, and a
//! client of the partner API.

pub mod fake_op;
pub mod partner_api;
pub mod serve;
pub mod server;
