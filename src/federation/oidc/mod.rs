//! The OpenID Connect connector: discovery and endpoints, the code flow with PKCE, ID-token
//! signatures and protocol claim rules, userinfo.

pub mod claims;
pub mod connector;
pub mod endpoints;
pub mod id_token;
pub mod jws;
pub mod live_check;
pub mod logout_token;
pub mod monitor;
#[cfg(feature = "demo")]
pub mod signer;
pub mod userinfo;
