//! Use cases. Each function takes the `AppState` it needs and speaks domain types.

pub mod access;
pub mod account_choice;
pub mod apps;
pub mod audit;
pub mod backchannel_logout;
pub mod branding;
pub mod deep_links;
pub mod error;
pub mod grants;
pub mod health;
pub mod idm;
pub mod idm_monitor;
pub mod kyc;
pub mod login;
pub mod login_state;
pub mod master_key;
pub mod merchant_sessions;
pub mod onboarding;
pub mod payout;
pub mod provisioning;
pub mod sign_in_throttle;
pub mod sso_events;
pub mod team;
pub mod test_sign_ins;

pub use error::ServiceError;
