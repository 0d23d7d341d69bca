//! A partner's IdM configuration: validated, secret sealed, versioned, testable.

use secrecy::SecretString;

use super::ServiceError;
use crate::crypto::sealed;
use crate::domain::field_error::{FieldError, Reason};
use crate::domain::idm_config::{CLIENT_SECRET_MAX, IdmConfig, IdmConfigInput};
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
    pub version: Option<i64>,
    pub updated_at: Option<i64>,
    pub client_secret_set: bool,
    pub redirect_uri: String,
    pub cta_url: String,
}

#[derive(Clone, Debug)]
pub struct IdmHistoryEntry {
    pub version: i64,
    pub changed_at: i64,
    pub changed_by: String,
    pub secret_changed: bool,
    pub config: IdmConfigInput,
}

const HISTORY_MAX: i64 = 100;

/// Associated data binding a sealed client secret to its app.
pub fn secret_context(app: AppId) -> String {
    format!("idm-client-secret:{app}")
}

pub fn redirect_uri(state: &AppState, app: AppId) -> String {
    format!("{}/sso/oidc/{app}/callback", state.settings.public_url)
}

pub fn cta_url(state: &AppState, app: AppId) -> String {
    format!("{}/sso/oidc/{app}", state.settings.public_url)
}

fn stored_input(row: &IdmVersionRow) -> Result<IdmConfigInput, ServiceError> {
    serde_json::from_str(&row.config_json).map_err(|e| ServiceError::Internal(anyhow::anyhow!("stored IdM config of version {} does not parse: {e}", row.version)))
}

pub async fn get(state: &AppState, app: AppId) -> Result<IdmView, ServiceError> {
    let current = state.store.current_idm_version(app).await?;
    let config = current.as_ref().map(stored_input).transpose()?;
    Ok(IdmView {
        config,
        version: current.as_ref().map(|r| r.version),
        updated_at: current.as_ref().map(|r| r.changed_at),
        client_secret_set: current.as_ref().is_some_and(|r| r.client_secret_sealed.is_some()),
        redirect_uri: redirect_uri(state, app),
        cta_url: cta_url(state, app),
    })
}

/// Refuses URLs Causeway will call whose host resolves inside (SSRF). Checked again at
/// connect time by the outbound client, so later DNS changes do not get around it.
async fn check_addresses(config: &IdmConfig, policy: UrlPolicy) -> Vec<FieldError> {
    if policy == UrlPolicy::AllowInsecure {
        return vec![];
    }
    let mut errors = Vec::new();
    for (field, url) in config.server_side_urls() {
        if let Some(host) = url.domain()
            && let Err(err) = http::check_host(host).await {
                errors.push(FieldError::new(&[field], Reason::ForbiddenAddress, err.to_string()));
            }
    }
    errors
}

/// Validates and stores a new version. Without `client_secret`, the current secret is kept.
pub async fn put(
    state: &AppState,
    app: AppId,
    input: &IdmConfigInput,
    client_secret: Option<&SecretString>,
    changed_by: &str,
) -> Result<IdmView, ServiceError> {
    let policy = state.settings.url_policy();
    let mut errors = IdmConfig::parse(input, policy).err().unwrap_or_default();
    let secret = match client_secret {
        Some(secret) => {
            use secrecy::ExposeSecret;
            match BoundedText::parse(secret.expose_secret(), 1, CLIENT_SECRET_MAX) {
                // Trimming is for display text; a secret is kept exactly as given.
                Ok(_) => Some(secret),
                Err(invalid) => {
                    errors.push(FieldError::new(&["client_secret"], invalid.reason, invalid.message));
                    None
                }
            }
        }
        None => None,
    };
    let current = state.store.current_idm_version(app).await?;
    let current_sealed = current.as_ref().and_then(|r| r.client_secret_sealed.clone());
    if secret.is_none() && client_secret.is_none() && current_sealed.is_none() {
        errors.push(FieldError::new(&["client_secret"], Reason::MissingField, "required the first time (it is never shown again)"));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let config = IdmConfig::parse(input, policy).map_err(ServiceError::Invalid)?;
    let address_errors = check_addresses(&config, policy).await;
    if !address_errors.is_empty() {
        return Err(ServiceError::Invalid(address_errors));
    }
    let sealed = match secret {
        Some(secret) => Some(sealed::seal(&state.keyring, &secret_context(app), secret)),
        None => current_sealed,
    };
    let config_json = serde_json::to_string(&config.to_input()).map_err(|e| ServiceError::Internal(e.into()))?;
    state
        .store
        .append_idm_version(
            app,
            &NewIdmVersion {
                config_json: &config_json,
                client_secret_sealed: sealed.as_deref(),
                secret_changed: client_secret.is_some(),
                changed_by,
                changed_at: state.clock.now(),
            },
        )
        .await?;
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
    state
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
    get(state, app).await
}

/// Live check of the stored configuration: discovery, issuer, capabilities, JWKS.
pub async fn test(state: &AppState, app: AppId) -> Result<idm_check::CheckReport, ServiceError> {
    let current = state.store.current_idm_version(app).await?.ok_or(ServiceError::NotFound {
        field: Some(FieldError::new(&[], Reason::NotFound, "no IdM is configured yet: PUT /partner/idm first")),
    })?;
    // Stored configurations were validated on the way in; the outbound client enforces
    // the address policy again on every connection.
    let config = IdmConfig::parse(&stored_input(&current)?, UrlPolicy::AllowInsecure).map_err(ServiceError::Invalid)?;
    let secret = match current.client_secret_sealed.as_deref() {
        Some(sealed_secret) => sealed::open(&state.keyring, &secret_context(app), sealed_secret).map_err(|e| ServiceError::Internal(e.into()))?,
        None => SecretString::from(""),
    };
    use secrecy::ExposeSecret;
    Ok(idm_check::check(&state.outbound, &config, secret.expose_secret()).await)
}
