//! A partner's identity manager as Causeway will use it, of one of the connector kinds:
//! validated, its secret (client secret or service key) held apart.

mod hosted_login;
mod oidc;

use serde::{Deserialize, Serialize};

pub use hosted_login::{HostedLoginConfig, SERVICE_KEY_MAX};
pub use oidc::*;

use super::field_error::{FieldError, Reason};
use super::urls::{PartnerUrl, UrlPolicy};
use super::values::Invalid;

/// The raw fields of an IdM configuration of either kind, as a partner sent them (the
/// secret apart). Stored as JSON; configurations stored before kinds existed are OIDC.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdmConfigInput {
    /// `oidc` (the default when absent) or `hosted_login`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    // OpenID Connect
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_leeway_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<ClaimNamesInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_claims: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<String>,
    // Hosted login
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id_field: Option<String>,
    // Both
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<String>,
}

impl IdmConfigInput {
    /// Where the IdM is, for display: the OIDC issuer or the hosted-login base URL.
    pub fn location(&self) -> &str {
        self.issuer.as_deref().or(self.base_url.as_deref()).unwrap_or_default()
    }

    /// Who Causeway is at the IdM, for display: the OIDC client id or the site key.
    pub fn client_label(&self) -> &str {
        self.client_id.as_deref().or(self.site_key.as_deref()).unwrap_or_default()
    }
}

/// A required field: present (whether its text is acceptable is its validator's to say).
pub(crate) fn required(raw: &Option<String>) -> Result<&str, Invalid> {
    raw.as_deref().ok_or_else(|| Invalid { reason: Reason::MissingField, message: "this field is required".into() })
}

/// The connector kinds Causeway speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Oidc,
    HostedLogin,
}

impl Kind {
    pub const ALL: [Self; 2] = [Self::Oidc, Self::HostedLogin];

    pub fn parse(raw: Option<&str>) -> Result<Self, Invalid> {
        match raw {
            None | Some("oidc") => Ok(Self::Oidc),
            Some("hosted_login") => Ok(Self::HostedLogin),
            Some(other) => Err(Invalid { reason: Reason::InvalidValue, message: format!("{other:?} is not a connector kind: use oidc or hosted_login") }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oidc => "oidc",
            Self::HostedLogin => "hosted_login",
        }
    }

    /// The name of the kind's secret in the API (`client_secret`, `service_key`).
    pub fn secret_field(self) -> &'static str {
        match self {
            Self::Oidc => "client_secret",
            Self::HostedLogin => "service_key",
        }
    }
}

/// A validated configuration of one kind.
// Parsed once per configuration version and kept in the connector cache: the size of the
// larger kind costs nothing on a login.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectorConfig {
    Oidc(OidcConfig),
    HostedLogin(HostedLoginConfig),
}

/// The fields each kind accepts besides `kind` and `logout_url`: a field of the other
/// kind is refused rather than silently ignored.
fn foreign_fields(input: &IdmConfigInput, kind: Kind) -> Vec<&'static str> {
    let oidc = [
        ("issuer", input.issuer.is_some()),
        ("client_id", input.client_id.is_some()),
        ("token_endpoint_auth_method", input.token_endpoint_auth_method.is_some()),
        ("authorization_endpoint", input.authorization_endpoint.is_some()),
        ("token_endpoint", input.token_endpoint.is_some()),
        ("jwks_uri", input.jwks_uri.is_some()),
        ("userinfo_endpoint", input.userinfo_endpoint.is_some()),
        ("end_session_endpoint", input.end_session_endpoint.is_some()),
        ("domain", input.domain.is_some()),
        ("scopes", input.scopes.is_some()),
        ("clock_leeway_seconds", input.clock_leeway_seconds.is_some()),
        ("userinfo", input.userinfo.is_some()),
        ("claims", input.claims.is_some()),
        ("required_claims", input.required_claims.is_some()),
        ("email_verified", input.email_verified.is_some()),
    ];
    let hosted = [
        ("base_url", input.base_url.is_some()),
        ("login_url", input.login_url.is_some()),
        ("exchange_url", input.exchange_url.is_some()),
        ("site_key", input.site_key.is_some()),
        ("user_id_field", input.user_id_field.is_some()),
    ];
    let other: &[(&'static str, bool)] = match kind {
        Kind::Oidc => &hosted,
        Kind::HostedLogin => &oidc,
    };
    other.iter().filter(|(_, set)| *set).map(|(field, _)| *field).collect()
}

impl ConnectorConfig {
    pub fn parse(input: &IdmConfigInput, policy: UrlPolicy) -> Result<Self, Vec<FieldError>> {
        let kind = match Kind::parse(input.kind.as_deref()) {
            Ok(kind) => kind,
            Err(invalid) => {
                // Every other problem too, as for the default kind: one answer lists them all.
                let unknown = FieldError::new(&["kind"], invalid.reason, invalid.message);
                let rest = OidcConfig::parse(input, policy).err().unwrap_or_default();
                return Err(std::iter::once(unknown).chain(rest).collect());
            }
        };
        let foreign: Vec<FieldError> = foreign_fields(input, kind)
            .into_iter()
            .map(|field| FieldError::new(&[field], Reason::UnknownField, format!("not a field of kind {}", kind.as_str())))
            .collect();
        let parsed = match kind {
            Kind::Oidc => OidcConfig::parse(input, policy).map(Self::Oidc),
            Kind::HostedLogin => HostedLoginConfig::parse(input, policy).map(Self::HostedLogin),
        };
        match (parsed, foreign.is_empty()) {
            (Ok(config), true) => Ok(config),
            (Ok(_), false) => Err(foreign),
            (Err(errors), _) => Err(foreign.into_iter().chain(errors).collect()),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Self::Oidc(_) => Kind::Oidc,
            Self::HostedLogin(_) => Kind::HostedLogin,
        }
    }

    /// The fields back in their raw form: what is stored and what the API shows.
    pub fn to_input(&self) -> IdmConfigInput {
        match self {
            Self::Oidc(c) => c.to_input(),
            Self::HostedLogin(c) => c.to_input(),
        }
    }

    /// URLs Causeway itself calls (the others only send browsers): these get the SSRF check.
    pub fn server_side_urls(&self) -> Vec<(&'static str, &PartnerUrl)> {
        match self {
            Self::Oidc(c) => c.server_side_urls(),
            Self::HostedLogin(c) => c.server_side_urls(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_decides_which_fields_belong() {
        let mixed = IdmConfigInput {
            kind: Some("hosted_login".into()),
            base_url: Some("https://id.partner.example".into()),
            site_key: Some("atp".into()),
            user_id_field: Some("wesb_user_id".into()),
            logout_url: Some("https://partner.example/bye".into()),
            issuer: Some("https://idm.partner.example/".into()),
            ..IdmConfigInput::default()
        };
        let errors = ConnectorConfig::parse(&mixed, UrlPolicy::Strict).unwrap_err();
        assert_eq!(errors.iter().map(|e| (e.target[0].as_str(), e.reason)).collect::<Vec<_>>(), vec![("issuer", Reason::UnknownField)]);
        let hosted = IdmConfigInput { issuer: None, ..mixed };
        assert_eq!(ConnectorConfig::parse(&hosted, UrlPolicy::Strict).unwrap().kind(), Kind::HostedLogin);
        let unknown = IdmConfigInput { kind: Some("saml".into()), ..IdmConfigInput::default() };
        assert_eq!(ConnectorConfig::parse(&unknown, UrlPolicy::Strict).unwrap_err()[0].target, vec!["kind".to_string()]);
        // A configuration stored before kinds existed reads as OIDC.
        let stored: IdmConfigInput = serde_json::from_str(r#"{"issuer": "https://idm.partner.example/", "client_id": "c",
            "token_endpoint_auth_method": "client_secret_basic", "domain": "partner.example", "logout_url": "https://partner.example/bye"}"#).unwrap();
        assert_eq!(ConnectorConfig::parse(&stored, UrlPolicy::Strict).unwrap().kind(), Kind::Oidc);
    }
}
