//! A partner's identity manager as Causeway will use it: validated, secret held apart.

use serde::{Deserialize, Serialize};

use super::field_error::{FieldError, Reason, Verdicts};
use super::urls::{PartnerUrl, UrlPolicy};
use super::values::{BoundedText, Invalid};

pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];
const MAX_SCOPES: usize = 20;
pub const CLIENT_SECRET_MAX: usize = 1024;
/// Clock skew allowed on ID-token `exp` and `iat` unless the partner sets another.
pub const DEFAULT_CLOCK_LEEWAY_SECONDS: i64 = 60;
const MAX_CLOCK_LEEWAY_SECONDS: i64 = 300;

/// How Causeway authenticates to the IdM's token endpoint (OIDC Core §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
}

impl TokenAuthMethod {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "client_secret_basic" => Ok(Self::ClientSecretBasic),
            "client_secret_post" => Ok(Self::ClientSecretPost),
            _ => Err(Invalid { reason: Reason::InvalidValue, message: "must be client_secret_basic or client_secret_post".into() }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }
}

/// The bare host name that namespaces the account claim: `https://{domain}/wepay_account_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimDomain(String);

impl ClaimDomain {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let fail = || Invalid {
            reason: Reason::InvalidDomain,
            message: "must be a bare host name such as partner.example (no scheme, port or path)".into(),
        };
        let domain = raw.trim().to_ascii_lowercase();
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if domain.len() > 253 || !domain.contains('.') || !domain.split('.').all(label_ok) {
            return Err(fail());
        }
        Ok(Self(domain))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ID-token claim that names the merchant account.
    pub fn account_claim(&self) -> String {
        format!("https://{}/wepay_account_id", self.0)
    }
}

/// Endpoints that override (or stand in for) discovery.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointOverrides {
    pub authorization_endpoint: Option<PartnerUrl>,
    pub token_endpoint: Option<PartnerUrl>,
    pub jwks_uri: Option<PartnerUrl>,
    pub userinfo_endpoint: Option<PartnerUrl>,
    pub end_session_endpoint: Option<PartnerUrl>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdmConfig {
    pub issuer: PartnerUrl,
    pub client_id: String,
    pub token_endpoint_auth_method: TokenAuthMethod,
    pub endpoints: EndpointOverrides,
    pub domain: ClaimDomain,
    pub logout_url: PartnerUrl,
    pub scopes: Vec<String>,
    pub clock_leeway_seconds: i64,
}

/// The raw fields of an IdM configuration, as a partner sent them (the secret apart).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdmConfigInput {
    pub issuer: String,
    pub client_id: String,
    pub token_endpoint_auth_method: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
    pub domain: String,
    pub logout_url: String,
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_leeway_seconds: Option<i64>,
}

fn scope_ok(scope: &str) -> bool {
    // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    !scope.is_empty() && scope.bytes().all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

impl IdmConfig {
    pub fn parse(input: &IdmConfigInput, policy: UrlPolicy) -> Result<Self, Vec<FieldError>> {
        let mut v = Verdicts::default();
        let issuer = v.check(&["issuer"], PartnerUrl::parse_issuer(&input.issuer, policy));
        let client_id = v.check(&["client_id"], BoundedText::parse(&input.client_id, 1, 255));
        let method = v.check(&["token_endpoint_auth_method"], TokenAuthMethod::parse(&input.token_endpoint_auth_method));
        let mut endpoint = |field: &str, raw: &Option<String>| match raw.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(raw) => v.check(&[field], PartnerUrl::parse(raw, policy)).map(Some),
        };
        let endpoints = (
            endpoint("authorization_endpoint", &input.authorization_endpoint),
            endpoint("token_endpoint", &input.token_endpoint),
            endpoint("jwks_uri", &input.jwks_uri),
            endpoint("userinfo_endpoint", &input.userinfo_endpoint),
            endpoint("end_session_endpoint", &input.end_session_endpoint),
        );
        let domain = v.check(&["domain"], ClaimDomain::parse(&input.domain));
        let logout_url = v.check(&["logout_url"], PartnerUrl::parse(&input.logout_url, policy));
        let scopes = input.scopes.clone().unwrap_or_else(|| DEFAULT_SCOPES.map(String::from).to_vec());
        let scopes = if !scopes.iter().any(|s| s == "openid") {
            v.check(&["scopes"], Err(Invalid { reason: Reason::InvalidScope, message: "must include openid".into() }))
        } else if scopes.len() > MAX_SCOPES || !scopes.iter().all(|s| scope_ok(s)) {
            v.check(&["scopes"], Err(Invalid { reason: Reason::InvalidScope, message: format!("at most {MAX_SCOPES} scope tokens without spaces, quotes or backslashes") }))
        } else {
            let mut unique = scopes;
            unique.dedup();
            Some(unique)
        };
        let leeway = input.clock_leeway_seconds.unwrap_or(DEFAULT_CLOCK_LEEWAY_SECONDS);
        let leeway = v.check(
            &["clock_leeway_seconds"],
            if (0..=MAX_CLOCK_LEEWAY_SECONDS).contains(&leeway) {
                Ok(leeway)
            } else {
                Err(Invalid { reason: Reason::InvalidValue, message: format!("must be 0 to {MAX_CLOCK_LEEWAY_SECONDS} seconds") })
            },
        );
        let (a, t, j, u, e) = endpoints;
        v.finish(|| {
            Some(Self {
                issuer: issuer?,
                client_id: client_id?.into_string(),
                token_endpoint_auth_method: method?,
                endpoints: EndpointOverrides {
                    authorization_endpoint: a?,
                    token_endpoint: t?,
                    jwks_uri: j?,
                    userinfo_endpoint: u?,
                    end_session_endpoint: e?,
                },
                domain: domain?,
                logout_url: logout_url?,
                scopes: scopes?,
                clock_leeway_seconds: leeway?,
            })
        })
    }

    /// The fields back in their raw form: what is stored and what the API shows.
    pub fn to_input(&self) -> IdmConfigInput {
        let url = |u: &Option<PartnerUrl>| u.as_ref().map(|u| u.as_str().to_owned());
        IdmConfigInput {
            issuer: self.issuer.as_str().to_owned(),
            client_id: self.client_id.clone(),
            token_endpoint_auth_method: self.token_endpoint_auth_method.as_str().to_owned(),
            authorization_endpoint: url(&self.endpoints.authorization_endpoint),
            token_endpoint: url(&self.endpoints.token_endpoint),
            jwks_uri: url(&self.endpoints.jwks_uri),
            userinfo_endpoint: url(&self.endpoints.userinfo_endpoint),
            end_session_endpoint: url(&self.endpoints.end_session_endpoint),
            domain: self.domain.as_str().to_owned(),
            logout_url: self.logout_url.as_str().to_owned(),
            scopes: Some(self.scopes.clone()),
            clock_leeway_seconds: Some(self.clock_leeway_seconds),
        }
    }

    /// URLs Causeway itself calls (the others only send browsers): these get the SSRF check.
    pub fn server_side_urls(&self) -> Vec<(&'static str, &PartnerUrl)> {
        let e = &self.endpoints;
        let mut urls = vec![("issuer", &self.issuer)];
        urls.extend(e.token_endpoint.as_ref().map(|u| ("token_endpoint", u)));
        urls.extend(e.jwks_uri.as_ref().map(|u| ("jwks_uri", u)));
        urls.extend(e.userinfo_endpoint.as_ref().map(|u| ("userinfo_endpoint", u)));
        urls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn input() -> IdmConfigInput {
        IdmConfigInput {
            issuer: "https://idm.partner.example/".into(),
            client_id: "causeway".into(),
            token_endpoint_auth_method: "client_secret_basic".into(),
            domain: "partner.example".into(),
            logout_url: "https://partner.example/after-logout".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_minimal_config_gets_default_scopes() {
        let config = IdmConfig::parse(&input(), UrlPolicy::Strict).unwrap();
        assert_eq!(config.scopes, DEFAULT_SCOPES.map(String::from).to_vec());
        assert_eq!(config.domain.account_claim(), "https://partner.example/wepay_account_id");
        assert_eq!(IdmConfig::parse(&config.to_input(), UrlPolicy::Strict).unwrap(), config);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = IdmConfigInput {
            issuer: "http://idm.partner.example/".into(),
            client_id: "".into(),
            token_endpoint_auth_method: "private_key_jwt".into(),
            jwks_uri: Some("https://10.0.0.1/jwks".into()),
            domain: "https://partner.example/".into(),
            logout_url: "javascript:alert(1)".into(),
            scopes: Some(vec!["email".into()]),
            ..Default::default()
        };
        let errors = IdmConfig::parse(&bad, UrlPolicy::Strict).unwrap_err();
        let got: Vec<_> = errors.iter().map(|e| (e.target[0].as_str(), e.reason)).collect();
        assert_eq!(
            got,
            vec![
                ("issuer", Reason::InsecureUrl),
                ("client_id", Reason::InvalidLength),
                ("token_endpoint_auth_method", Reason::InvalidValue),
                ("jwks_uri", Reason::ForbiddenAddress),
                ("domain", Reason::InvalidDomain),
                ("logout_url", Reason::InsecureUrl),
                ("scopes", Reason::InvalidScope),
            ]
        );
    }

    #[test]
    fn claim_domains() {
        for ok in ["partner.example", "Sub.Partner.Example", "a-b.co"] {
            assert!(ClaimDomain::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["partner", "partner.example:443", "partner.example/x", "-a.example", "a..example", "ex ample.com", ""] {
            assert!(ClaimDomain::parse(bad).is_err(), "{bad}");
        }
    }
}
