//! A partner's OpenID provider as Causeway will use it: validated, secret held apart.

use serde::{Deserialize, Serialize};

use super::{required, IdmConfigInput};
use crate::domain::field_error::{FieldError, Reason, Verdicts};
use crate::domain::identity::{ClaimNames, EmailTrust, IdentityPolicy, StandardClaim};
use crate::domain::urls::{PartnerUrl, UrlPolicy};
use crate::domain::values::{BoundedText, Invalid};

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
    pub const ALL: [Self; 2] = [Self::ClientSecretBasic, Self::ClientSecretPost];

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

/// Why `invalid_client` may come back although the secret is right.
pub const BASIC_ENCODING_HINT: &str = "The secret has characters that client_secret_basic form-encodes (RFC 6749 §2.3.1) and some IdMs do not decode: try client_secret_post, or a secret of letters, digits, '-', '.', '_' and '*' only.";

/// Whether client_secret_basic changes the secret on the wire (RFC 6749 §2.3.1 form-encodes
/// it), which IdMs that do not decode it refuse as invalid_client.
pub fn basic_encoding_changes(secret: &str) -> bool {
    url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>() != secret
}

/// When the login asks the IdM's userinfo endpoint (OIDC Core §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserinfoMode {
    /// Only when a claim Causeway needs is missing from the ID token.
    WhenNeeded,
    Always,
    Never,
}

impl UserinfoMode {
    pub const ALL: [Self; 3] = [Self::WhenNeeded, Self::Always, Self::Never];

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "when_needed" => Ok(Self::WhenNeeded),
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            _ => Err(Invalid { reason: Reason::InvalidValue, message: "must be when_needed, always or never".into() }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::WhenNeeded => "when_needed",
            Self::Always => "always",
            Self::Never => "never",
        }
    }
}

fn parse_email_trust(raw: &str) -> Result<EmailTrust, Invalid> {
    match raw {
        "required" => Ok(EmailTrust::Required),
        "trusted_idm" => Ok(EmailTrust::TrustedIdm),
        _ => Err(Invalid { reason: Reason::InvalidValue, message: "must be required or trusted_idm".into() }),
    }
}

/// The claim names a partner's IdM uses, as sent (each defaults to the standard name).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimNamesInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// `None`: `https://{domain}/wepay_account_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
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
pub struct OidcConfig {
    pub issuer: PartnerUrl,
    pub client_id: String,
    pub token_endpoint_auth_method: TokenAuthMethod,
    pub endpoints: EndpointOverrides,
    pub domain: ClaimDomain,
    pub logout_url: PartnerUrl,
    pub scopes: Vec<String>,
    pub clock_leeway_seconds: i64,
    pub userinfo: UserinfoMode,
    /// The account claim's name when the partner set one (else the domain's default).
    pub account_claim_override: Option<String>,
    pub policy: IdentityPolicy,
}

/// A claim name: what an IdM could put in a JSON object key, within reason.
fn claim_name(raw: &str) -> Result<String, Invalid> {
    BoundedText::parse(raw, 1, 255).map(BoundedText::into_string)
}

/// Required claims default to WePay's shape: e-mail and both names.
pub const DEFAULT_REQUIRED_CLAIMS: [StandardClaim; 3] = [StandardClaim::Email, StandardClaim::GivenName, StandardClaim::FamilyName];

fn scope_ok(scope: &str) -> bool {
    // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    !scope.is_empty() && scope.bytes().all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

impl OidcConfig {
    pub fn parse(input: &IdmConfigInput, policy: UrlPolicy) -> Result<Self, Vec<FieldError>> {
        let mut v = Verdicts::default();
        let issuer = v.check(&["issuer"], required(&input.issuer).and_then(|raw| PartnerUrl::parse_issuer(raw, policy)));
        let client_id = v.check(&["client_id"], required(&input.client_id).and_then(|raw| BoundedText::parse(raw, 1, 255)));
        let method = v.check(
            &["token_endpoint_auth_method"],
            input.token_endpoint_auth_method.as_deref().map_or(Ok(TokenAuthMethod::ClientSecretBasic), TokenAuthMethod::parse),
        );
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
        let domain = v.check(&["domain"], required(&input.domain).and_then(ClaimDomain::parse));
        let logout_url = v.check(&["logout_url"], required(&input.logout_url).and_then(|raw| PartnerUrl::parse(raw, policy)));
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
        let userinfo = v.check(&["userinfo"], input.userinfo.as_deref().map_or(Ok(UserinfoMode::WhenNeeded), UserinfoMode::parse));
        let email_trust = v.check(&["email_verified"], input.email_verified.as_deref().map_or(Ok(EmailTrust::Required), parse_email_trust));
        let names = input.claims.clone().unwrap_or_default();
        let mut name = |field: &'static str, raw: &Option<String>| match raw {
            None => Some(None),
            Some(raw) => v.check(&["claims", field], claim_name(raw)).map(Some),
        };
        let names = (
            name("email", &names.email),
            name("given_name", &names.given_name),
            name("family_name", &names.family_name),
            name("phone_number", &names.phone_number),
            name("account", &names.account),
        );
        let required = match &input.required_claims {
            None => Some(DEFAULT_REQUIRED_CLAIMS.to_vec()),
            Some(list) => {
                let mut required = Vec::new();
                let mut ok = true;
                for (i, raw) in list.iter().enumerate() {
                    match StandardClaim::parse(raw) {
                        Some(claim) if !required.contains(&claim) => required.push(claim),
                        Some(_) => {}
                        None => {
                            ok = false;
                            v.check::<()>(
                                &["required_claims", &i.to_string()],
                                Err(Invalid { reason: Reason::InvalidValue, message: "must be one of email, given_name, family_name, phone_number".into() }),
                            );
                        }
                    }
                }
                ok.then_some(required)
            }
        };
        let (a, t, j, u, e) = endpoints;
        let (ne, ng, nf, np, na) = names;
        v.finish(|| {
            let domain = domain?;
            let account_claim_override = na?;
            let account = account_claim_override.clone().unwrap_or_else(|| domain.account_claim());
            let standard = ClaimNames::standard(account.clone());
            let policy = IdentityPolicy {
                names: ClaimNames {
                    email: ne?.unwrap_or(standard.email),
                    given_name: ng?.unwrap_or(standard.given_name),
                    family_name: nf?.unwrap_or(standard.family_name),
                    phone_number: np?.unwrap_or(standard.phone_number),
                    account,
                },
                required: required?,
                email_trust: email_trust?,
            };
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
                domain,
                logout_url: logout_url?,
                scopes: scopes?,
                clock_leeway_seconds: leeway?,
                userinfo: userinfo?,
                account_claim_override,
                policy,
            })
        })
    }

    /// The fields back in their raw form: what is stored and what the API shows.
    pub fn to_input(&self) -> IdmConfigInput {
        let url = |u: &Option<PartnerUrl>| u.as_ref().map(|u| u.as_str().to_owned());
        IdmConfigInput {
            kind: Some("oidc".into()),
            issuer: Some(self.issuer.as_str().to_owned()),
            client_id: Some(self.client_id.clone()),
            token_endpoint_auth_method: Some(self.token_endpoint_auth_method.as_str().to_owned()),
            authorization_endpoint: url(&self.endpoints.authorization_endpoint),
            token_endpoint: url(&self.endpoints.token_endpoint),
            jwks_uri: url(&self.endpoints.jwks_uri),
            userinfo_endpoint: url(&self.endpoints.userinfo_endpoint),
            end_session_endpoint: url(&self.endpoints.end_session_endpoint),
            domain: Some(self.domain.as_str().to_owned()),
            logout_url: Some(self.logout_url.as_str().to_owned()),
            scopes: Some(self.scopes.clone()),
            clock_leeway_seconds: Some(self.clock_leeway_seconds),
            userinfo: Some(self.userinfo.as_str().to_owned()),
            claims: Some(ClaimNamesInput {
                email: Some(self.policy.names.email.clone()),
                given_name: Some(self.policy.names.given_name.clone()),
                family_name: Some(self.policy.names.family_name.clone()),
                phone_number: Some(self.policy.names.phone_number.clone()),
                account: self.account_claim_override.clone(),
            }),
            required_claims: Some(self.policy.required.iter().map(|c| c.as_str().to_owned()).collect()),
            email_verified: Some(self.policy.email_trust.as_str().to_owned()),
            ..IdmConfigInput::default()
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
            issuer: Some("https://idm.partner.example/".into()),
            client_id: Some("causeway".into()),
            token_endpoint_auth_method: Some("client_secret_basic".into()),
            domain: Some("partner.example".into()),
            logout_url: Some("https://partner.example/after-logout".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_minimal_config_gets_default_scopes() {
        let config = OidcConfig::parse(&input(), UrlPolicy::Strict).unwrap();
        assert_eq!(config.scopes, DEFAULT_SCOPES.map(String::from).to_vec());
        assert_eq!(config.domain.account_claim(), "https://partner.example/wepay_account_id");
        assert_eq!(OidcConfig::parse(&config.to_input(), UrlPolicy::Strict).unwrap(), config);
        // The auth method defaults to the discovery default, client_secret_basic.
        let bare = IdmConfigInput { token_endpoint_auth_method: None, ..input() };
        assert_eq!(OidcConfig::parse(&bare, UrlPolicy::Strict).unwrap().token_endpoint_auth_method, TokenAuthMethod::ClientSecretBasic);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = IdmConfigInput {
            issuer: Some("http://idm.partner.example/".into()),
            client_id: Some("".into()),
            token_endpoint_auth_method: Some("private_key_jwt".into()),
            jwks_uri: Some("https://10.0.0.1/jwks".into()),
            domain: Some("https://partner.example/".into()),
            logout_url: Some("javascript:alert(1)".into()),
            scopes: Some(vec!["email".into()]),
            ..Default::default()
        };
        let errors = OidcConfig::parse(&bad, UrlPolicy::Strict).unwrap_err();
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
    fn required_fields_are_named_when_missing() {
        let errors = OidcConfig::parse(&IdmConfigInput::default(), UrlPolicy::Strict).unwrap_err();
        let missing: Vec<_> = errors.iter().filter(|e| e.reason == Reason::MissingField).map(|e| e.target[0].as_str()).collect();
        assert_eq!(missing, vec!["issuer", "client_id", "domain", "logout_url"]);
    }

    #[test]
    fn secrets_that_basic_auth_changes() {
        assert!(!basic_encoding_changes("Abc-123_x.y*z"));
        for odd in ["a+b", "a/b", "a=b", "a%b", "a:b", "a b", "a~b"] {
            assert!(basic_encoding_changes(odd), "{odd}");
        }
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
