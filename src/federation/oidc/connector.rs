//! A partner IdM opened for logins: endpoints from discovery or the partner's overrides,
//! the authorization request (code flow, PKCE S256, state, nonce) and the code exchange
//! with the configured client authentication.

use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::endpoints::Endpoints;
use crate::domain::idm_config::{IdmConfig, TokenAuthMethod};
use crate::domain::sso_error::SsoError;
use crate::federation::http::{DOCUMENT_CAP_BYTES, FetchError, OutboundClient};
use crate::federation::idm_check::discovery_url;

/// Token responses carry a few short tokens; anything larger is not a token response.
const TOKEN_RESPONSE_CAP_BYTES: usize = 64 * 1024;

pub struct Connector {
    pub config_version: i64,
    pub issuer: String,
    pub client_id: String,
    client_secret: SecretString,
    pub auth_method: TokenAuthMethod,
    pub scopes: Vec<String>,
    pub account_claim: String,
    pub logout_url: String,
    pub clock_leeway_seconds: i64,
    authorization: Url,
    token: Url,
    pub jwks_uri: Url,
    pub end_session: Option<Url>,
    pub iss_parameter_supported: bool,
}

/// A login about to be sent to the IdM; the caller stores state, nonce and verifier.
pub struct LoginStart {
    pub url: Url,
    pub state: SecretString,
    pub nonce: String,
    pub pkce_verifier: SecretString,
}

fn parse_endpoint(raw: Option<String>) -> Option<Url> {
    raw.and_then(|u| Url::parse(&u).ok())
}

impl Connector {
    /// The origins a sign-out passes through: the end-session endpoint's and the logout
    /// page's, space-separated (a CSP source list).
    pub fn sign_out_origins(&self) -> String {
        let mut origins: Vec<String> = Vec::new();
        let logout = Url::parse(&self.logout_url).ok();
        for url in self.end_session.iter().chain(logout.iter()) {
            let origin = url.origin().ascii_serialization();
            if origin != "null" && !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        origins.join(" ")
    }

    /// Resolves the IdM's endpoints (discovery unless the partner configured all of them)
    /// and checks that discovery names exactly the configured issuer (OIDC Discovery §4.3).
    pub async fn open(config: &IdmConfig, client_secret: SecretString, config_version: i64, client: &OutboundClient) -> Result<Self, SsoError> {
        let overrides = &config.endpoints;
        let needs_discovery = overrides.authorization_endpoint.is_none() || overrides.token_endpoint.is_none() || overrides.jwks_uri.is_none();
        let discovery = if needs_discovery {
            let doc = client
                .get_json(&discovery_url(config.issuer.url()), DOCUMENT_CAP_BYTES)
                .await
                .map_err(|err: FetchError| SsoError::IdmUnavailable { detail: err.to_string() })?;
            if doc.get("issuer").and_then(Value::as_str) != Some(config.issuer.as_str()) {
                return Err(SsoError::IssMismatch);
            }
            Some(doc)
        } else {
            None
        };
        let endpoints = Endpoints::resolve(overrides, discovery.as_ref());
        let (Some(authorization), Some(token), Some(jwks_uri)) =
            (parse_endpoint(endpoints.authorization), parse_endpoint(endpoints.token), parse_endpoint(endpoints.jwks_uri))
        else {
            return Err(SsoError::IdmNotConfigured);
        };
        Ok(Self {
            config_version,
            issuer: config.issuer.as_str().to_owned(),
            client_id: config.client_id.clone(),
            client_secret,
            auth_method: config.token_endpoint_auth_method,
            scopes: config.scopes.clone(),
            account_claim: config.domain.account_claim(),
            logout_url: config.logout_url.as_str().to_owned(),
            clock_leeway_seconds: config.clock_leeway_seconds,
            authorization,
            token,
            jwks_uri,
            end_session: parse_endpoint(endpoints.end_session),
            iss_parameter_supported: endpoints.iss_parameter_supported,
        })
    }

    /// The authorization request (OIDC Core §3.1.2.1) with PKCE S256 (RFC 7636).
    pub fn begin(&self, redirect_uri: &str) -> LoginStart {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = CsrfToken::new_random();
        let nonce = Nonce::new_random();
        let mut url = self.authorization.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &self.scopes.join(" "))
            .append_pair("state", state.secret())
            .append_pair("nonce", nonce.secret())
            .append_pair("code_challenge", challenge.as_str())
            .append_pair("code_challenge_method", "S256");
        LoginStart {
            url,
            state: SecretString::from(state.secret().clone()),
            nonce: nonce.secret().clone(),
            pkce_verifier: SecretString::from(verifier.secret().clone()),
        }
    }

    /// Exchanges the code for the ID token (OIDC Core §3.1.3), authenticating as the
    /// partner configured (client_secret_basic or client_secret_post).
    pub async fn exchange(&self, code: &str, verifier: &SecretString, redirect_uri: &str, client: &OutboundClient) -> Result<String, SsoError> {
        let secret = self.client_secret.expose_secret();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.expose_secret()),
        ];
        // RFC 6749 §2.3.1: id and secret are form-encoded before they go into Basic auth.
        let encode = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
        let (basic_id, basic_secret) = (encode(&self.client_id), encode(secret));
        let basic = match self.auth_method {
            TokenAuthMethod::ClientSecretBasic => Some((basic_id.as_str(), basic_secret.as_str())),
            TokenAuthMethod::ClientSecretPost => {
                form.push(("client_id", &self.client_id));
                form.push(("client_secret", secret));
                None
            }
        };
        let (status, body) = client
            .post_form(&self.token, &form, basic, TOKEN_RESPONSE_CAP_BYTES)
            .await
            .map_err(|err| SsoError::TokenEndpointFailed { detail: err.to_string() })?;
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        if status != 200 {
            let error = json.as_ref().and_then(|j| j.get("error")).and_then(Value::as_str).unwrap_or_default();
            return Err(match error {
                "invalid_grant" => SsoError::CodeRejected,
                _ => SsoError::TokenEndpointFailed { detail: format!("HTTP {status} {error}").trim().to_owned() },
            });
        }
        let json = json.ok_or_else(|| SsoError::TokenEndpointFailed { detail: "the response is not JSON".into() })?;
        json.get("id_token").and_then(Value::as_str).map(str::to_owned).ok_or(SsoError::IdTokenMissing)
    }
}
