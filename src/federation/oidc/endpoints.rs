//! Where an IdM's endpoints are: the partner's overrides first, then discovery.

use serde_json::Value;
use url::Url;

use crate::domain::idm_config::EndpointOverrides;
use crate::domain::urls::{PartnerUrl, UrlPolicy};

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
    /// Discovery members that are not URLs Causeway may use (a `javascript:` or `data:`
    /// URL, plain http, an internal address): left out above, named here.
    pub refused: Vec<&'static str>,
}

impl Endpoints {
    /// The partner's overrides were validated when saved; what discovery says is checked
    /// here by the same rules as a partner URL, since a hostile or broken document's value
    /// would otherwise reach a `Location` header or an outbound call.
    pub fn resolve(overrides: &EndpointOverrides, discovery: Option<&Value>, policy: UrlPolicy) -> Self {
        let mut refused = Vec::new();
        let mut pick = |configured: &Option<PartnerUrl>, name: &'static str| {
            if let Some(url) = configured {
                return Some(url.as_str().to_owned());
            }
            let discovered = discovery.and_then(|d| d.get(name)).and_then(Value::as_str)?;
            match PartnerUrl::parse(discovered, policy) {
                Ok(url) => Some(url.as_str().to_owned()),
                Err(_) => {
                    refused.push(name);
                    None
                }
            }
        };
        let authorization = pick(&overrides.authorization_endpoint, "authorization_endpoint");
        let token = pick(&overrides.token_endpoint, "token_endpoint");
        let jwks_uri = pick(&overrides.jwks_uri, "jwks_uri");
        let userinfo = pick(&overrides.userinfo_endpoint, "userinfo_endpoint");
        let end_session = pick(&overrides.end_session_endpoint, "end_session_endpoint");
        Self {
            authorization,
            token,
            jwks_uri,
            userinfo,
            end_session,
            iss_parameter_supported: discovery
                .and_then(|d| d.get("authorization_response_iss_parameter_supported"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            refused,
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

    /// What the live check and a failed login say about refused discovery members.
    pub fn refused_sentence(&self) -> Option<String> {
        (!self.refused.is_empty()).then(|| {
            format!("The discovery document's {} is not an absolute https URL of a public host; Causeway does not use it.", self.refused.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn discovered_endpoints_follow_the_partner_url_rules() {
        let doc = json!({
            "authorization_endpoint": "javascript:alert(1)",
            "token_endpoint": "http://idm.example/token",
            "jwks_uri": "https://10.0.0.7/jwks",
            "userinfo_endpoint": "data:text/html,hi",
            "end_session_endpoint": "https://idm.example/logout",
        });
        let strict = Endpoints::resolve(&EndpointOverrides::default(), Some(&doc), UrlPolicy::Strict);
        assert_eq!(strict.end_session.as_deref(), Some("https://idm.example/logout"));
        assert_eq!((strict.authorization, strict.token, strict.jwks_uri, strict.userinfo), (None, None, None, None));
        assert_eq!(strict.refused, ["authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"]);

        // Tests and the demo allow plain http and loopback, never another scheme.
        let insecure = Endpoints::resolve(&EndpointOverrides::default(), Some(&doc), UrlPolicy::AllowInsecure);
        assert_eq!(insecure.token.as_deref(), Some("http://idm.example/token"));
        assert_eq!(insecure.refused, ["authorization_endpoint", "userinfo_endpoint"]);
    }

    #[test]
    fn a_configured_endpoint_wins_over_discovery() {
        let overrides = EndpointOverrides {
            authorization_endpoint: Some(PartnerUrl::parse("https://idm.example/authorize", UrlPolicy::Strict).unwrap()),
            ..EndpointOverrides::default()
        };
        let resolved = Endpoints::resolve(&overrides, Some(&json!({"authorization_endpoint": "javascript:x"})), UrlPolicy::Strict);
        assert_eq!(resolved.authorization.as_deref(), Some("https://idm.example/authorize"));
        assert!(resolved.refused.is_empty());
    }
}
