//! The IdM form's values, for either kind, and how they become a configuration.

use serde::Deserialize;

use crate::domain::idm_config::{ClaimNamesInput, IdmConfigInput, Kind, TokenAuthMethod, UserinfoMode, DEFAULT_CLOCK_LEEWAY_SECONDS, DEFAULT_REQUIRED_CLAIMS, DEFAULT_SCOPES};

/// What the form posts. Every field defaults to empty, so a missing field is a
/// validation message next to it rather than an unreadable form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IdmForm {
    /// oidc or hosted_login (a hidden field of each kind's form).
    pub kind: String,
    issuer: String,
    client_id: String,
    pub client_secret: String,
    token_endpoint_auth_method: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    userinfo_endpoint: String,
    end_session_endpoint: String,
    domain: String,
    logout_url: String,
    scopes: String,
    clock_leeway_seconds: String,
    userinfo: String,
    claims_email: String,
    claims_given_name: String,
    claims_family_name: String,
    claims_phone_number: String,
    claims_account: String,
    /// Checkboxes: present ("on") when ticked.
    require_email: Option<String>,
    require_given_name: Option<String>,
    require_family_name: Option<String>,
    require_phone_number: Option<String>,
    email_verified: String,
    base_url: String,
    login_url: String,
    exchange_url: String,
    site_key: String,
    pub service_key: String,
    user_id_field: String,
    pub csrf_token: String,
}

/// The values shown in the form: everything but the secret, which is never sent back.
pub struct IdmValues {
    /// Which kind's form is shown: `oidc` or `hosted_login`.
    pub kind: String,
    pub issuer: String,
    pub client_id: String,
    pub method: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub userinfo_endpoint: String,
    pub end_session_endpoint: String,
    pub domain: String,
    pub logout_url: String,
    pub scopes: String,
    pub clock_leeway_seconds: String,
    pub userinfo: String,
    pub claims_email: String,
    pub claims_given_name: String,
    pub claims_family_name: String,
    pub claims_phone_number: String,
    /// Empty: the domain's default claim.
    pub claims_account: String,
    pub required: Vec<String>,
    pub email_verified: String,
    pub base_url: String,
    pub login_url: String,
    pub exchange_url: String,
    pub site_key: String,
    pub user_id_field: String,
}

fn optional(raw: &str) -> Option<String> {
    Some(raw.trim().to_owned()).filter(|v| !v.is_empty())
}

impl IdmValues {
    /// An empty form of `kind`.
    pub fn blank(kind: Kind) -> Self {
        let user_id_field = if kind == Kind::HostedLogin { Some("user_id".into()) } else { None };
        Self::from_config(&IdmConfigInput { kind: Some(kind.as_str().into()), user_id_field, ..Default::default() })
    }

    pub fn from_config(c: &IdmConfigInput) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let names = c.claims.clone().unwrap_or_default();
        Self {
            kind: c.kind.clone().unwrap_or_else(|| Kind::Oidc.as_str().into()),
            issuer: text(&c.issuer),
            client_id: text(&c.client_id),
            method: c.token_endpoint_auth_method.clone().unwrap_or_else(|| TokenAuthMethod::ClientSecretBasic.as_str().into()),
            authorization_endpoint: text(&c.authorization_endpoint),
            token_endpoint: text(&c.token_endpoint),
            jwks_uri: text(&c.jwks_uri),
            userinfo_endpoint: text(&c.userinfo_endpoint),
            end_session_endpoint: text(&c.end_session_endpoint),
            domain: text(&c.domain),
            logout_url: text(&c.logout_url),
            scopes: c.scopes.as_ref().map_or_else(|| DEFAULT_SCOPES.join(" "), |s| s.join(" ")),
            clock_leeway_seconds: c.clock_leeway_seconds.unwrap_or(DEFAULT_CLOCK_LEEWAY_SECONDS).to_string(),
            userinfo: c.userinfo.clone().unwrap_or_else(|| UserinfoMode::WhenNeeded.as_str().into()),
            claims_email: names.email.unwrap_or_else(|| "email".into()),
            claims_given_name: names.given_name.unwrap_or_else(|| "given_name".into()),
            claims_family_name: names.family_name.unwrap_or_else(|| "family_name".into()),
            claims_phone_number: names.phone_number.unwrap_or_else(|| "phone_number".into()),
            claims_account: names.account.unwrap_or_default(),
            required: c.required_claims.clone().unwrap_or_else(|| DEFAULT_REQUIRED_CLAIMS.iter().map(|r| r.as_str().to_owned()).collect()),
            email_verified: c.email_verified.clone().unwrap_or_else(|| "required".into()),
            base_url: text(&c.base_url),
            login_url: text(&c.login_url),
            exchange_url: text(&c.exchange_url),
            site_key: text(&c.site_key),
            user_id_field: text(&c.user_id_field),
        }
    }

    pub fn from_form(f: &IdmForm) -> Self {
        Self {
            kind: f.kind.clone(),
            issuer: f.issuer.clone(),
            client_id: f.client_id.clone(),
            method: f.token_endpoint_auth_method.clone(),
            authorization_endpoint: f.authorization_endpoint.clone(),
            token_endpoint: f.token_endpoint.clone(),
            jwks_uri: f.jwks_uri.clone(),
            userinfo_endpoint: f.userinfo_endpoint.clone(),
            end_session_endpoint: f.end_session_endpoint.clone(),
            domain: f.domain.clone(),
            logout_url: f.logout_url.clone(),
            scopes: f.scopes.clone(),
            clock_leeway_seconds: f.clock_leeway_seconds.clone(),
            userinfo: f.userinfo.clone(),
            claims_email: f.claims_email.clone(),
            claims_given_name: f.claims_given_name.clone(),
            claims_family_name: f.claims_family_name.clone(),
            claims_phone_number: f.claims_phone_number.clone(),
            claims_account: f.claims_account.clone(),
            required: [
                ("email", &f.require_email),
                ("given_name", &f.require_given_name),
                ("family_name", &f.require_family_name),
                ("phone_number", &f.require_phone_number),
            ]
            .into_iter()
            .filter(|(_, ticked)| ticked.is_some())
            .map(|(claim, _)| claim.to_owned())
            .collect(),
            email_verified: f.email_verified.clone(),
            base_url: f.base_url.clone(),
            login_url: f.login_url.clone(),
            exchange_url: f.exchange_url.clone(),
            site_key: f.site_key.clone(),
            user_id_field: f.user_id_field.clone(),
        }
    }

    pub fn hosted(&self) -> bool {
        self.kind == Kind::HostedLogin.as_str()
    }

    /// The configuration the form stands for: only its kind's fields.
    pub fn input(&self) -> IdmConfigInput {
        if self.hosted() {
            return IdmConfigInput {
                kind: Some(Kind::HostedLogin.as_str().into()),
                base_url: optional(&self.base_url),
                login_url: optional(&self.login_url),
                exchange_url: optional(&self.exchange_url),
                site_key: optional(&self.site_key),
                user_id_field: optional(&self.user_id_field),
                logout_url: optional(&self.logout_url),
                ..IdmConfigInput::default()
            };
        }
        let scopes: Vec<String> = self.scopes.split_whitespace().map(str::to_owned).collect();
        IdmConfigInput {
            issuer: optional(&self.issuer),
            client_id: optional(&self.client_id),
            token_endpoint_auth_method: optional(&self.method),
            authorization_endpoint: optional(&self.authorization_endpoint),
            token_endpoint: optional(&self.token_endpoint),
            jwks_uri: optional(&self.jwks_uri),
            userinfo_endpoint: optional(&self.userinfo_endpoint),
            end_session_endpoint: optional(&self.end_session_endpoint),
            domain: optional(&self.domain),
            logout_url: optional(&self.logout_url),
            scopes: Some(scopes).filter(|s| !s.is_empty()),
            // Not a number: a value the range check refuses, so the field shows the error.
            clock_leeway_seconds: optional(&self.clock_leeway_seconds).map(|v| v.parse().unwrap_or(-1)),
            kind: Some("oidc".into()),
            userinfo: optional(&self.userinfo),
            claims: Some(ClaimNamesInput {
                // An emptied name box means the standard name, as for a field left out of the API.
                email: optional(&self.claims_email),
                given_name: optional(&self.claims_given_name),
                family_name: optional(&self.claims_family_name),
                phone_number: optional(&self.claims_phone_number),
                account: optional(&self.claims_account),
            }),
            required_claims: Some(self.required.clone()),
            email_verified: optional(&self.email_verified),
            ..IdmConfigInput::default()
        }
    }

    /// Whether `claim` is ticked as required.
    pub fn requires(&self, claim: &str) -> bool {
        self.required.iter().any(|r| r == claim)
    }

    /// Whether the identity section starts open: something differs from WePay's shape.
    pub fn identity_customised(&self) -> bool {
        let standard = [("email", &self.claims_email), ("given_name", &self.claims_given_name), ("family_name", &self.claims_family_name), ("phone_number", &self.claims_phone_number)];
        standard.iter().any(|(name, value)| value.trim() != *name)
            || !self.claims_account.trim().is_empty()
            || self.required != DEFAULT_REQUIRED_CLAIMS.iter().map(|r| r.as_str().to_owned()).collect::<Vec<_>>()
            || self.userinfo != UserinfoMode::WhenNeeded.as_str()
            || self.email_verified != "required"
    }

    /// Whether any optional endpoint is set, so the collapsed section starts open.
    pub fn has_overrides(&self) -> bool {
        [&self.authorization_endpoint, &self.token_endpoint, &self.jwks_uri, &self.userinfo_endpoint, &self.end_session_endpoint]
            .iter()
            .any(|v| !v.trim().is_empty())
    }
}

/// The label of each field, for the error summary's links.
pub fn label(field: &str) -> &'static str {
    match field {
        "issuer" => "Issuer URL",
        "client_id" => "Client ID",
        "client_secret" => "Client secret",
        "token_endpoint_auth_method" => "Client authentication",
        "domain" => "Claim domain",
        "logout_url" => "Logout URL",
        "scopes" => "Scopes",
        "authorization_endpoint" => "Authorization endpoint",
        "token_endpoint" => "Token endpoint",
        "jwks_uri" => "JWKS URI",
        "userinfo_endpoint" => "UserInfo endpoint",
        "end_session_endpoint" => "End-session endpoint",
        "userinfo" => "UserInfo",
        "claims_email" => "E-mail claim",
        "claims_given_name" => "Given-name claim",
        "claims_family_name" => "Family-name claim",
        "claims_phone_number" => "Phone-number claim",
        "claims_account" => "Account claim",
        "required_claims" => "Required claims",
        "email_verified" => "Verified e-mail",
        "kind" => "Kind",
        "base_url" => "Base URL",
        "login_url" => "Login URL",
        "exchange_url" => "Exchange URL",
        "site_key" => "Site key",
        "service_key" => "Service key",
        "user_id_field" => "User-id field",
        _ => "Configuration",
    }
}

