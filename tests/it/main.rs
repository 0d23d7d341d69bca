//! Integration tests: each starts the real application on a random port with a fresh
//! database (SQLite by default; PostgreSQL when CAUSEWAY_TEST_POSTGRES_URL names a server).

mod helpers;
// Shared with the benchmarks: each side uses its part.
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

mod audit;
mod auth;
mod browser;
mod browser_support;
mod cli;
mod health;
mod idempotency;
mod logs;
mod onboarding;
mod openapi;
mod partner_center;
mod partner_center_forms;
mod partner_center_timeouts;
mod pc_client;
mod rate_limit;
mod sign_in_health;
mod tenancy;
mod test_sign_in;
mod transport;
mod validation;
mod idm_check;
mod idm_monitor;
mod idp;
mod partner_branding;
mod partner_idm;
mod secrets_at_rest;
mod sso_events;
mod id_token;
mod login_states;
mod form_browser;
mod oidc_interop;
mod sso_flow;
mod sso_hostile;
mod replicas;
mod faults;
mod merchant_center;
mod merchant_journey;
mod demo;
mod fake_hosted_idm;
mod grants;
mod hardening;
mod hosted_login;
mod idm_shapes;
mod userinfo;
mod generated_clients;
mod webdriver;
mod off_path;
mod parser_props;
mod backchannel_logout;
mod session_lifecycle;
