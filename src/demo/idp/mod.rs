//! The demo IdM: a small OpenID provider that stands in for a partner's IdM when running
//! `causeway demo`. It follows the standards Causeway expects of a real one — discovery,
//! authorization code flow with mandatory PKCE S256, client_secret_basic, ES256-signed
//! ID tokens, RFC 9207 `iss`, RP-initiated logout — for one client and two people, with
//! a button per person instead of a password.

mod authorize;
pub mod codes;
mod logout;
mod metadata;
pub(crate) mod pages;
mod token;

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, Response, Route, get, post};
use secrecy::SecretString;
use url::Url;

use crate::clock::Clock;
use crate::federation::oidc::signer::Signer;
use codes::Codes;

pub const AUTHORIZE_PATH: &str = "/authorize";
pub const TOKEN_PATH: &str = "/token";
pub const JWKS_PATH: &str = "/jwks";
pub const END_SESSION_PATH: &str = "/end-session";
/// The partner's product after sign-out: the demo's logout URL.
pub const SIGNED_OUT_PATH: &str = "/signed-out";

/// The one relying party the demo IdM knows: Causeway, as the partner registered it.
pub struct Client {
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: String,
    /// The only `post_logout_redirect_uri` accepted (OIDC RP-Initiated Logout §3).
    pub post_logout_redirect_uri: String,
}

pub struct ProviderConfig {
    /// `http://127.0.0.1:PORT`, without a trailing slash: `iss` is compared exactly.
    pub issuer: String,
    pub client: Client,
    /// `https://{domain}/wepay_account_id`, and the demo account every person works on.
    pub account_claim: String,
    pub account_id: String,
    /// Shown on the IdM's pages as the platform the people belong to.
    pub partner_name: String,
    /// Causeway's CTA: the signed-out page links to it to sign in again.
    pub cta_url: String,
}

pub struct Provider {
    config: ProviderConfig,
    signer: Signer,
    codes: Codes,
    clock: Clock,
    content_security_policy: String,
}

impl Provider {
    pub fn new(config: ProviderConfig, clock: Clock) -> anyhow::Result<Self> {
        let redirect = Url::parse(&config.client.redirect_uri)?;
        // After the login form is posted, the browser is redirected to Causeway; browsers
        // check that redirect against form-action too.
        let content_security_policy = format!(
            "default-src 'none'; style-src 'self'; form-action 'self' {}; frame-ancestors 'none'; base-uri 'none'",
            redirect.origin().ascii_serialization()
        );
        Ok(Self {
            config,
            signer: Signer::es256("demo-idm-1")?,
            codes: Codes::default(),
            clock,
            content_security_policy,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.issuer)
    }
}

pub fn routes(provider: Arc<Provider>) -> impl Endpoint<Output = Response> {
    Route::new()
        .at(
            "/.well-known/openid-configuration",
            get(metadata::discovery),
        )
        .at(JWKS_PATH, get(metadata::jwks))
        .at(
            AUTHORIZE_PATH,
            get(authorize::show).post(authorize::approve),
        )
        .at(TOKEN_PATH, post(token::exchange))
        .at(END_SESSION_PATH, get(logout::end_session))
        .at(SIGNED_OUT_PATH, get(logout::signed_out))
        .at(pages::STYLESHEET_PATH, get(pages::stylesheet))
        .data(provider)
        .map_to_response()
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/sso/oidc/app/callback";
    pub const LOGOUT_URI: &str = "http://127.0.0.1:9090/signed-out";

    pub fn provider() -> Arc<Provider> {
        let config = ProviderConfig {
            issuer: "http://127.0.0.1:9090".into(),
            client: Client {
                client_id: "causeway-demo".into(),
                client_secret: SecretString::from("s3cret"),
                redirect_uri: REDIRECT_URI.into(),
                post_logout_redirect_uri: LOGOUT_URI.into(),
            },
            account_claim: "https://demo.causeway.test/wepay_account_id".into(),
            account_id: "0b8a2f5e-1c7d-4e0a-9c61-2d5b7e8f9a10".into(),
            partner_name: "Demo Platform".into(),
            cta_url: "http://127.0.0.1:8080/sso/oidc/app".into(),
        };
        Arc::new(Provider::new(config, Clock::system()).unwrap())
    }
}
