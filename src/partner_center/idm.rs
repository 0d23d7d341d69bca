//! The IdM configuration page: the connector kind as the first choice, then every field
//! of that kind's configuration, inline validation errors, a write-only secret (client
//! secret or service key), and for a hosted login what to send the IdM's administrator.

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
use super::idm_form::{IdmForm, IdmValues};
use crate::domain::idm_config::{basic_encoding_changes, Kind, TokenAuthMethod, BASIC_ENCODING_HINT};
use crate::services::idm::{self, Secrets};
use crate::services::ServiceError;
use crate::state::AppState;

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
    /// The stored kind, in words, when the form shows the other one (saving switches).
    switching_from: Option<&'static str>,
    /// The secret of the shown kind is set (a switch of kind needs the new kind's secret).
    secret_set: bool,
    /// A secret was typed but the form had errors: it is not echoed back, so ask again.
    secret_retype: bool,
    overrides_open: bool,
    identity_open: bool,
    redirect_uri: String,
    /// OIDC: where the IdM sends logout tokens (Back-Channel Logout 1.0).
    backchannel_logout_uri: String,
    /// For a hosted login: what the partner sends its IdM's administrator (seed 000, §5).
    request_template: String,
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
    /// Show this kind's form (a partner switching kinds).
    kind: Option<String>,
}

/// The registration request a hosted-login IdM's administrator needs (seed 000, §5).
fn request_template(state: &AppState, signed_in: &PartnerSession, v: &IdmValues, redirect_uri: &str) -> String {
    let site_key = if v.site_key.trim().is_empty() { "causeway" } else { v.site_key.trim() };
    let origin = url::Url::parse(&state.settings.public_url).map(|u| u.origin().ascii_serialization()).unwrap_or_else(|_| state.settings.public_url.clone());
    format!(
        "Site name: {name} Merchant Center (Causeway)\nSite key: {site_key}\nBase URL: {public}\nSupport label: {name} support\nAllowed frontend origins:\n- {origin}\nCallback URLs:\n- {redirect_uri}\nDesired auth mode: hosted_login\nThe backend exchange (POST /api/service/exchange with X-Service-Key) is made by Causeway's servers, never by a browser.",
        name = signed_in.app_name,
        public = state.settings.public_url,
    )
}

struct Shown<'a> {
    values: IdmValues,
    errors: FieldErrors,
    secret_retype: bool,
    notice: Option<String>,
    basic_warning: Option<&'static str>,
    status: StatusCode,
    view: &'a idm::IdmView,
}

fn render(state: &AppState, signed_in: &PartnerSession, shown: Shown<'_>) -> Result<Response, PageError> {
    let Shown { values, errors, secret_retype, notice, basic_warning, status, view } = shown;
    let current_kind = view.kind.map(Kind::as_str);
    let switching_from = match view.kind {
        Some(kind) if kind.as_str() != values.kind => Some(if kind == Kind::HostedLogin { "a hosted login" } else { "OpenID Connect" }),
        _ => None,
    };
    let page = IdmPage {
        shell: Shell::new(signed_in, "idm"),
        overrides_open: values.has_overrides() || errors.any(&OVERRIDE_FIELDS),
        identity_open: values.identity_customised() || errors.any(&IDENTITY_FIELDS),
        configured: view.config.is_some(),
        secret_set: view.secret_set && current_kind == Some(values.kind.as_str()),
        request_template: request_template(state, signed_in, &values, &view.redirect_uri),
        switching_from,
        v: values,
        errors,
        secret_retype,
        redirect_uri: view.redirect_uri.clone(),
        backchannel_logout_uri: view.backchannel_logout_uri.clone(),
        version: view.version,
        updated: view.updated_at.map(|t| ago(t, state.clock.now())).unwrap_or_default(),
        notice,
        basic_warning,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// The IdM form, filled with the current configuration (or a blank form of the kind asked
/// for). Caller: a signed-in partner.
#[handler]
pub async fn show(signed_in: PartnerSession, state: Data<&AppState>, Query(notices): Query<Notices>) -> Result<Response, PageError> {
    let view = idm::get(&state, signed_in.app_id).await?;
    let asked = notices.kind.as_deref().and_then(|k| Kind::parse(Some(k)).ok());
    let values = match (&view.config, asked) {
        (Some(config), None) => IdmValues::from_config(config),
        (Some(config), Some(kind)) if view.kind == Some(kind) => IdmValues::from_config(config),
        (_, kind) => IdmValues::blank(kind.unwrap_or(Kind::Oidc)),
    };
    let notice = match (notices.saved, notices.restored) {
        (Some(n), _) => Some(format!("Saved as version {n}. Run “Test connection” to check that Causeway can reach your IdM.")),
        (None, Some(n)) => Some(format!("Version {n} is the current configuration again (saved as a new version).")),
        _ => None,
    };
    let basic_warning = notices.basic_encoding.is_some().then_some(BASIC_ENCODING_HINT);
    let shown = Shown { values, errors: FieldErrors::default(), secret_retype: false, notice, basic_warning, status: StatusCode::OK, view: &view };
    render(&state, &signed_in, shown)
}

/// Validates and stores a new version; on errors, shows the form again with a message
/// next to each bad field and stores nothing. Caller: a signed-in partner (CSRF-checked).
#[handler]
pub async fn save(signed_in: PartnerSession, state: Data<&AppState>, Form(form): Form<IdmForm>) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf_token)?;
    let values = IdmValues::from_form(&form);
    // An empty secret field keeps the current secret; only the shown kind's field counts.
    let typed = |raw: &str| Some(raw.to_owned()).filter(|s| !s.is_empty()).map(SecretString::from);
    let (client_secret, service_key) = if values.hosted() { (None, typed(&form.service_key)) } else { (typed(&form.client_secret), None) };
    let secrets = Secrets { client_secret: client_secret.as_ref(), service_key: service_key.as_ref() };
    match idm::put(&state, signed_in.app_id, &values.input(), secrets, CHANGED_BY).await {
        Ok(view) => {
            let version = view.version.unwrap_or_default();
            use secrecy::ExposeSecret;
            let basic = !values.hosted() && values.method == TokenAuthMethod::ClientSecretBasic.as_str();
            let warn = basic && client_secret.as_ref().is_some_and(|s| basic_encoding_changes(s.expose_secret()));
            let flag = if warn { "&basic_encoding=1" } else { "" };
            Ok(Redirect::see_other(format!("{}/idm?saved={version}{flag}", super::BASE_PATH)).into_response())
        }
        Err(ServiceError::Invalid(field_errors)) => {
            let view = idm::get(&state, signed_in.app_id).await?;
            let secret_retype = client_secret.is_some() || service_key.is_some();
            let errors = FieldErrors::from_service(&field_errors);
            let shown = Shown { values, errors, secret_retype, notice: None, basic_warning: None, status: StatusCode::UNPROCESSABLE_ENTITY, view: &view };
            render(&state, &signed_in, shown)
        }
        Err(other) => Err(other.into()),
    }
}
