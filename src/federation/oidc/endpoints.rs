//! Where an IdM's endpoints are: the partner's overrides first, then discovery.

use serde_json::Value;
use url::Url;

use crate::domain::idm_config::EndpointOverrides;
use crate::domain::urls::PartnerUrl;

/// OIDC Discovery §4: the configuration document lives under the issuer's path.
pub fn discovery_url(issuer: &Url) -> Url {
    let mut url = issuer.clone();
    let path = format!("{}/.well-known/openid-configuration", issuer.path().trim_end_matches('/'));
    url.set_path(&path);
    url
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub authorization: Option<String>,
    pub token: Option<String>,
    pub jwks_uri: Option<String>,
    pub userinfo: Option<String>,
    pub end_session: Option<String>,
    /// RFC 9207: the IdM sends `iss` with the authorization response.
    pub iss_parameter_supported: bool,
}

impl Endpoints {
    pub fn resolve(overrides: &EndpointOverrides, discovery: Option<&Value>) -> Self {
        let pick = |configured: &Option<PartnerUrl>, name: &str| {
            configured
                .as_ref()
                .map(|u| u.as_str().to_owned())
                .or_else(|| discovery.and_then(|d| d.get(name)).and_then(Value::as_str).map(str::to_owned))
        };
        Self {
            authorization: pick(&overrides.authorization_endpoint, "authorization_endpoint"),
            token: pick(&overrides.token_endpoint, "token_endpoint"),
            jwks_uri: pick(&overrides.jwks_uri, "jwks_uri"),
            userinfo: pick(&overrides.userinfo_endpoint, "userinfo_endpoint"),
            end_session: pick(&overrides.end_session_endpoint, "end_session_endpoint"),
            iss_parameter_supported: discovery
                .and_then(|d| d.get("authorization_response_iss_parameter_supported"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }

    /// The endpoints a login cannot do without, by name, when missing.
    pub fn missing_required(&self) -> Vec<&'static str> {
        [("authorization_endpoint", &self.authorization), ("token_endpoint", &self.token), ("jwks_uri", &self.jwks_uri)]
            .into_iter()
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| n)
            .collect()
    }
}
