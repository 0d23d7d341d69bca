//! The IdM configuration form: every field of the Partner API's IdM config, inline
//! validation errors, a write-only client secret.

use askama::Template;
use poem::http::StatusCode;
use poem::web::{Data, Form, Html, Query, Redirect};
use poem::{handler, IntoResponse, Response};
use secrecy::SecretString;
use serde::Deserialize;

use super::errors::PageError;
use super::session::PartnerSession;
use super::view::{ago, Shell};
use crate::web::view::FieldErrors;
use super::CHANGED_BY;
use crate::domain::idm_config::{basic_encoding_changes, TokenAuthMethod, ClaimNamesInput, BASIC_ENCODING_HINT, IdmConfigInput, UserinfoMode, DEFAULT_CLOCK_LEEWAY_SECONDS, DEFAULT_REQUIRED_CLAIMS, DEFAULT_SCOPES};
use crate::services::{idm, ServiceError};
use crate::state::AppState;

/// What the form posts. Every field defaults to empty, so a missing field is a
/// validation message next to it rather than an unreadable form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IdmForm {
    issuer: String,
    client_id: String,
    client_secret: String,
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
    csrf_token: String,
}

/// The values shown in the form: everything but the secret, which is never sent back.
pub struct IdmValues {
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
}

fn optional(raw: &str) -> Option<String> {
    Some(raw.trim().to_owned()).filter(|v| !v.is_empty())
}

impl IdmValues {
    fn blank() -> Self {
        Self::from_config(&IdmConfigInput { token_endpoint_auth_method: "client_secret_basic".into(), ..Default::default() })
    }

    fn from_config(c: &IdmConfigInput) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let names = c.claims.clone().unwrap_or_default();
        Self {
            issuer: c.issuer.clone(),
            client_id: c.client_id.clone(),
            method: c.token_endpoint_auth_method.clone(),
            authorization_endpoint: text(&c.authorization_endpoint),
            token_endpoint: text(&c.token_endpoint),
            jwks_uri: text(&c.jwks_uri),
            userinfo_endpoint: text(&c.userinfo_endpoint),
            end_session_endpoint: text(&c.end_session_endpoint),
            domain: c.domain.clone(),
            logout_url: c.logout_url.clone(),
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
        }
    }

    fn from_form(f: &IdmForm) -> Self {
        Self {
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
        }
    }

    fn input(&self) -> IdmConfigInput {
        let scopes: Vec<String> = self.scopes.split_whitespace().map(str::to_owned).collect();
        IdmConfigInput {
            issuer: self.issuer.trim().to_owned(),
            client_id: self.client_id.trim().to_owned(),
            token_endpoint_auth_method: self.method.clone(),
            authorization_endpoint: optional(&self.authorization_endpoint),
            token_endpoint: optional(&self.token_endpoint),
            jwks_uri: optional(&self.jwks_uri),
            userinfo_endpoint: optional(&self.userinfo_endpoint),
            end_session_endpoint: optional(&self.end_session_endpoint),
            domain: self.domain.trim().to_owned(),
            logout_url: self.logout_url.trim().to_owned(),
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
        }
    }

    /// Whether `claim` is ticked as required.
    pub fn requires(&self, claim: &str) -> bool {
        self.required.iter().any(|r| r == claim)
    }

    /// Whether the identity section starts open: something differs from WePay's shape.
    fn identity_customised(&self) -> bool {
        let standard = [("email", &self.claims_email), ("given_name", &self.claims_given_name), ("family_name", &self.claims_family_name), ("phone_number", &self.claims_phone_number)];
        standard.iter().any(|(name, value)| value.trim() != *name)
            || !self.claims_account.trim().is_empty()
            || self.required != DEFAULT_REQUIRED_CLAIMS.iter().map(|r| r.as_str().to_owned()).collect::<Vec<_>>()
            || self.userinfo != UserinfoMode::WhenNeeded.as_str()
            || self.email_verified != "required"
    }

    /// Whether any optional endpoint is set, so the collapsed section starts open.
    fn has_overrides(&self) -> bool {
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
        _ => "Configuration",
    }
}

const OVERRIDE_FIELDS: [&str; 5] = ["authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "end_session_endpoint"];
const IDENTITY_FIELDS: [&str; 8] =
    ["userinfo", "claims_email", "claims_given_name", "claims_family_name", "claims_phone_number", "claims_account", "required_claims", "email_verified"];

#[derive(Template)]
#[template(path = "partner_center/idm.html")]
struct IdmPage {
    shell: Shell,
    v: IdmValues,
    errors: FieldErrors,
    configured: bool,
    secret_set: bool,
    /// A secret was typed but the form had errors: it is not echoed back, so ask again.
    secret_retype: bool,
    overrides_open: bool,
    identity_open: bool,
    redirect_uri: String,
    version: Option<i64>,
    updated: String,
    notice: Option<String>,
    basic_warning: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Notices {
    saved: Option<i64>,
    restored: Option<i64>,
    /// The saved secret is one client_secret_basic changes on the wire.
    basic_encoding: Option<u8>,
}

/// The IdM form, filled with the current configuration. Caller: a signed-in partner.
#[handler]
pub async fn show(signed_in: PartnerSession, state: Data<&AppState>, Query(notices): Query<Notices>) -> Result<Html<String>, PageError> {
    let view = idm::get(&state, signed_in.app_id).await?;
    let v = view.config.as_ref().map_or_else(IdmValues::blank, IdmValues::from_config);
    let notice = match (notices.saved, notices.restored) {
        (Some(n), _) => Some(format!("Saved as version {n}. Run “Test connection” to check that Causeway can reach your IdM.")),
        (None, Some(n)) => Some(format!("Version {n} is the current configuration again (saved as a new version).")),
        _ => None,
    };
    let basic_warning = notices.basic_encoding.is_some().then_some(BASIC_ENCODING_HINT);
    let page = IdmPage {
        shell: Shell::new(&signed_in, "idm"),
        overrides_open: v.has_overrides(),
        identity_open: v.identity_customised(),
        v,
        errors: FieldErrors::default(),
        configured: view.config.is_some(),
        secret_set: view.client_secret_set,
        secret_retype: false,
        redirect_uri: view.redirect_uri,
        version: view.version,
        updated: view.updated_at.map(|t| ago(t, state.clock.now())).unwrap_or_default(),
        notice,
        basic_warning,
    };
    Ok(Html(page.render()?))
}

/// Validates and stores a new version; on errors, shows the form again with a message
/// next to each bad field and stores nothing. Caller: a signed-in partner (CSRF-checked).
#[handler]
pub async fn save(signed_in: PartnerSession, state: Data<&AppState>, Form(form): Form<IdmForm>) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf_token)?;
    let values = IdmValues::from_form(&form);
    // An empty secret field keeps the current secret.
    let secret = Some(form.client_secret).filter(|s| !s.is_empty()).map(SecretString::from);
    match idm::put(&state, signed_in.app_id, &values.input(), secret.as_ref(), CHANGED_BY).await {
        Ok(view) => {
            let version = view.version.unwrap_or_default();
            use secrecy::ExposeSecret;
            let basic = values.method == TokenAuthMethod::ClientSecretBasic.as_str();
            let warn = basic && secret.as_ref().is_some_and(|s| basic_encoding_changes(s.expose_secret()));
            let flag = if warn { "&basic_encoding=1" } else { "" };
            Ok(Redirect::see_other(format!("{}/idm?saved={version}{flag}", super::BASE_PATH)).into_response())
        }
        Err(ServiceError::Invalid(field_errors)) => {
            let current = idm::get(&state, signed_in.app_id).await?;
            let errors = FieldErrors::from_service(&field_errors);
            let page = IdmPage {
                shell: Shell::new(&signed_in, "idm"),
                overrides_open: values.has_overrides() || errors.any(&OVERRIDE_FIELDS),
                identity_open: values.identity_customised() || errors.any(&IDENTITY_FIELDS),
                v: values,
                errors,
                configured: current.config.is_some(),
                secret_set: current.client_secret_set,
                secret_retype: secret.is_some(),
                redirect_uri: current.redirect_uri,
                version: current.version,
                updated: current.updated_at.map(|t| ago(t, state.clock.now())).unwrap_or_default(),
                notice: None,
                basic_warning: None,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
