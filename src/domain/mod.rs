//! Pure types and rules: values here can only hold what the contract allows.

pub mod access;
pub mod app;
pub mod audit;
pub mod branding;
pub mod field_error;
pub mod grant;
pub mod health;
pub mod identity;
pub mod idm_config;
pub mod idm_monitor;
pub mod kyc;
pub mod landing;
pub mod payout;
pub mod ids;
pub mod onboarding;
pub mod role;
pub mod session;
pub mod sso_error;
pub mod test_sign_in;
pub mod urls;
pub mod values;
