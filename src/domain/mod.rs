//! Pure types and rules: values here can only hold what the contract allows.

pub mod app;
pub mod branding;
pub mod field_error;
pub mod idm_config;
pub mod kyc;
pub mod payout;
pub mod ids;
pub mod onboarding;
pub mod role;
pub mod sso_error;
pub mod urls;
pub mod values;
