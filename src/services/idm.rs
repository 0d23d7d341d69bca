//! A partner's IdM configuration, of either connector kind: validated, its secret (the
//! OIDC client secret or the hosted-login service key) sealed, versioned, testable.

use secrecy::{ExposeSecret, SecretString};

use super::{audit, ServiceError};
use crate::crypto::sealed;
use crate::domain::field_error::{FieldError, Reason};
use crate::domain::idm_config::{ConnectorConfig, IdmConfigInput, Kind, CLIENT_SECRET_MAX, SERVICE_KEY_MAX};
use crate::domain::ids::AppId;
use crate::domain::urls::UrlPolicy;
use crate::domain::values::BoundedText;
use crate::federation::{http, idm_check};
use crate::state::AppState;
use crate::store::idm_configs::{IdmVersionRow, NewIdmVersion};

/// The current configuration as a partner may see it: never the secret, only whether
/// one is set.
#[derive(Clone, Debug)]
pub struct IdmView {
    pub config: Option<IdmConfigInput>,
    pub kind: Option<Kind>,
    pub version: Option<i64>,
    pub updated_at: Option<i64>,
    /// The kind's secret (client secret or service key) is set.
    pub secret_set: bool,
    pub redirect_uri: String,
    pub cta_url: String,
    pub backchannel_logout_uri: String,
}

#[derive(Clone, Debug)]
pub struct IdmHistoryEntry {
    pub version: i64,
    pub changed_at: i64,
    pub changed_by: String,
    pub secret_changed: bool,
    pub config: IdmConfigInput,
}

/// The secrets a configuration request may carry; the kind says which one belongs.
#[derive(Clone, Copy, Default)]
pub struct Secrets<'a> {
    pub client_secret: Option<&'a SecretString>,
    pub service_key: Option<&'a SecretString>,
}

const HISTORY_MAX: i64 = 100;
pub const HISTORY_LIMIT_DEFAULT: i64 = 20;

/// Associated data binding a sealed secret to its app and kind: a client secret cannot be
/// opened as a service key, nor another app's.
pub fn secret_context(app: AppId, kind: Kind) -> String {
    match kind {
        Kind::Oidc => format!("idm-client-secret:{app}"),
        Kind::HostedLogin => format!("idm-service-key:{app}"),
    }
}

pub fn redirect_uri(state: &AppState, app: AppId) -> String {
    format!("{}/sso/oidc/{app}/callback", state.settings.public_url)
}

/// Where the IdM sends logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.2).
pub fn backchannel_logout_uri(state: &AppState, app: AppId) -> String {
    format!("{}/sso/oidc/{app}/backchannel_logout", state.settings.public_url)
}

pub fn cta_url(state: &AppState, app: AppId) -> String {
    format!("{}/sso/oidc/{app}", state.settings.public_url)
}

pub fn stored_input(row: &IdmVersionRow) -> Result<IdmConfigInput, ServiceError> {
    serde_json::from_str(&row.config_json).map_err(|e| ServiceError::Internal(anyhow::anyhow!("stored IdM config of version {} does not parse: {e}", row.version)))
}

/// The kind of a stored version (configurations stored before kinds existed are OIDC).
pub fn stored_kind(row: &IdmVersionRow) -> Result<Kind, ServiceError> {
    let input = stored_input(row)?;
    Kind::parse(input.kind.as_deref()).map_err(|e| ServiceError::Internal(anyhow::anyhow!("stored IdM config of version {}: {}", row.version, e.message)))
}

pub async fn get(state: &AppState, app: AppId) -> Result<IdmView, ServiceError> {
    let current = state.store.current_idm_version(app).await?;
    let config = current.as_ref().map(stored_input).transpose()?;
    Ok(IdmView {
        kind: config.as_ref().and_then(|c| Kind::parse(c.kind.as_deref()).ok()),
        config,
        version: current.as_ref().map(|r| r.version),
        updated_at: current.as_ref().map(|r| r.changed_at),
        secret_set: current.as_ref().is_some_and(|r| r.client_secret_sealed.is_some()),
        redirect_uri: redirect_uri(state, app),
        cta_url: cta_url(state, app),
        backchannel_logout_uri: backchannel_logout_uri(state, app),
    })
}

/// Refuses URLs Causeway will call whose host resolves inside (SSRF). Checked again at
/// connect time by the outbound client, so later DNS changes do not get around it.
async fn check_addresses(config: &ConnectorConfig, policy: UrlPolicy) -> Vec<FieldError> {
    if policy == UrlPolicy::AllowInsecure {
        return vec![];
    }
    let mut errors = Vec::new();
    for (field, url) in config.server_side_urls() {
        if let Some(host) = url.domain()
            && let Err(err) = http::check_host(host).await
        {
            errors.push(FieldError::new(&[field], Reason::ForbiddenAddress, err.to_string()));
        }
    }
    errors
}

/// The secret of `kind` out of `secrets`, validated; the other kind's is refused.
fn secret_of<'a>(kind: Kind, secrets: Secrets<'a>, errors: &mut Vec<FieldError>) -> Option<&'a SecretString> {
    let (mine, other, max) = match kind {
        Kind::Oidc => (secrets.client_secret, secrets.service_key, CLIENT_SECRET_MAX),
        Kind::HostedLogin => (secrets.service_key, secrets.client_secret, SERVICE_KEY_MAX),
    };
    if other.is_some() {
        let field = match kind {
            Kind::Oidc => Kind::HostedLogin.secret_field(),
            Kind::HostedLogin => Kind::Oidc.secret_field(),
        };
        errors.push(FieldError::new(&[field], Reason::UnknownField, format!("not a field of kind {}", kind.as_str())));
    }
    let secret = mine?;
    // Trimming is for display text; a secret is kept exactly as given.
    match BoundedText::parse(secret.expose_secret(), 1, max) {
        Ok(_) => Some(secret),
        Err(invalid) => {
            errors.push(FieldError::new(&[kind.secret_field()], invalid.reason, invalid.message));
            None
        }
    }
}

/// Validates and stores a new version. Without the kind's secret, the current one is kept
/// (when the current version is of the same kind: a new kind needs its own secret).
pub async fn put(state: &AppState, app: AppId, input: &IdmConfigInput, secrets: Secrets<'_>, changed_by: &str) -> Result<IdmView, ServiceError> {
    let policy = state.settings.url_policy();
    let parsed = ConnectorConfig::parse(input, policy);
    let kind = Kind::parse(input.kind.as_deref()).unwrap_or(Kind::Oidc);
    let mut errors = parsed.as_ref().err().cloned().unwrap_or_default();
    let secret = secret_of(kind, secrets, &mut errors);
    let current = state.store.current_idm_version(app).await?;
    let current_sealed = match &current {
        Some(row) if stored_kind(row)? == kind => row.client_secret_sealed.clone(),
        _ => None,
    };
    let secret_given = match kind {
        Kind::Oidc => secrets.client_secret.is_some(),
        Kind::HostedLogin => secrets.service_key.is_some(),
    };
    if !secret_given && current_sealed.is_none() {
        errors.push(FieldError::new(&[kind.secret_field()], Reason::MissingField, "required the first time for this kind (it is never shown again)"));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let config = parsed.map_err(ServiceError::Invalid)?;
    let address_errors = check_addresses(&config, policy).await;
    if !address_errors.is_empty() {
        return Err(ServiceError::Invalid(address_errors));
    }
    let sealed = match secret {
        Some(secret) => Some(sealed::seal(&state.keyring, &secret_context(app, kind), secret)),
        None => current_sealed,
    };
    let config_json = serde_json::to_string(&config.to_input()).map_err(|e| ServiceError::Internal(e.into()))?;
    let version = state
        .store
        .append_idm_version(
            app,
            &NewIdmVersion { config_json: &config_json, client_secret_sealed: sealed.as_deref(), secret_changed: secret_given, changed_by, changed_at: state.clock.now() },
        )
        .await?;
    let detail = format!("{} configuration; {}", kind.as_str(), if secret_given { "secret replaced" } else { "secret kept" });
    let target = format!("IdM configuration version {version}");
    audit::record(&state.store, &state.clock, audit::Action { chain: &app.to_string(), actor: changed_by, action: "idm_config.set", target: &target, detail: &detail }).await;
    get(state, app).await
}

pub async fn history(state: &AppState, app: AppId, limit: i64) -> Result<Vec<IdmHistoryEntry>, ServiceError> {
    let rows = state.store.idm_history(app, limit.clamp(1, HISTORY_MAX)).await?;
    rows.iter()
        .map(|row| {
            Ok(IdmHistoryEntry {
                version: row.version,
                changed_at: row.changed_at,
                changed_by: row.changed_by.clone(),
                secret_changed: row.secret_changed,
                config: stored_input(row)?,
            })
        })
        .collect()
}

/// Makes an earlier version current again, as a new version (history is append-only).
pub async fn restore(state: &AppState, app: AppId, version: i64, changed_by: &str) -> Result<IdmView, ServiceError> {
    let old = state.store.idm_version(app, version).await?;
    let current = state.store.current_idm_version(app).await?;
    let secret_changed = current.as_ref().and_then(|c| c.client_secret_sealed.as_deref()) != old.client_secret_sealed.as_deref();
    let restored = state
        .store
        .append_idm_version(
            app,
            &NewIdmVersion {
                config_json: &old.config_json,
                client_secret_sealed: old.client_secret_sealed.as_deref(),
                secret_changed,
                changed_by: &format!("{changed_by} (restored version {version})"),
                changed_at: state.clock.now(),
            },
        )
        .await?;
    let target = format!("IdM configuration version {restored}");
    let detail = format!("version {version} made current again; {}", if secret_changed { "secret changed" } else { "secret kept" });
    audit::record(&state.store, &state.clock, audit::Action { chain: &app.to_string(), actor: changed_by, action: "idm_config.restore", target: &target, detail: &detail }).await;
    get(state, app).await
}

/// A stored version parsed back, with its secret opened: what a connector or a live check
/// is built from. Stored configurations were validated on the way in; the outbound client
/// enforces the address policy again on every connection.
pub fn opened(state: &AppState, app: AppId, row: &IdmVersionRow) -> Result<(ConnectorConfig, SecretString), ServiceError> {
    let config = ConnectorConfig::parse(&stored_input(row)?, UrlPolicy::AllowInsecure).map_err(ServiceError::Invalid)?;
    let secret = match row.client_secret_sealed.as_deref() {
        Some(sealed_secret) => sealed::open(&state.keyring, &secret_context(app, config.kind()), sealed_secret).map_err(|e| ServiceError::Internal(e.into()))?,
        None => SecretString::from(""),
    };
    Ok((config, secret))
}

/// Live check of the stored configuration, step by step, the way a login would use it.
pub async fn test(state: &AppState, app: AppId) -> Result<idm_check::CheckReport, ServiceError> {
    let current = state.store.current_idm_version(app).await?.ok_or(ServiceError::NotFound {
        field: Some(FieldError::new(&[], Reason::NotFound, "no IdM is configured yet: PUT /partner/idm first")),
    })?;
    let (config, secret) = opened(state, app, &current)?;
    Ok(idm_check::check(&state.outbound, &config, &secret, &redirect_uri(state, app)).await)
}
