//! Partner apps: registration by the operator, token life cycle, API authentication.

use secrecy::SecretString;

use super::ServiceError;
use crate::clock::Clock;
use crate::crypto::tokens;
use crate::domain::app::{AppName, AppStatus};
use crate::domain::ids::AppId;
use crate::store::apps::AppRow;
use crate::store::{Store, StoreError};

/// How stale `token_last_used_at` may get before a call refreshes it: writing it on every
/// call would turn each authenticated read into a write.
const LAST_USED_RESOLUTION_SECONDS: i64 = 60;

/// A freshly created or rotated credential; `app_token` is shown once and never again.
pub struct IssuedCredential {
    pub app_id: AppId,
    pub app_token: SecretString,
}

/// The caller of a partner-facing API, after authentication.
#[derive(Clone, Debug)]
pub struct AppPrincipal {
    pub app_id: AppId,
    pub name: String,
}

pub async fn create(store: &Store, clock: &Clock, name: &str) -> Result<IssuedCredential, ServiceError> {
    let name = AppName::parse(name).map_err(|message| {
        ServiceError::Invalid(vec![crate::domain::field_error::FieldError::new(
            &["name"],
            crate::domain::field_error::Reason::InvalidLength,
            message,
        )])
    })?;
    let token = tokens::issue();
    let now = clock.now();
    let app = AppRow {
        id: AppId::new(),
        name: name.as_str().to_owned(),
        status: AppStatus::Active,
        token_hash: token.hash,
        token_prefix: token.prefix,
        token_created_at: now,
        token_last_used_at: None,
        created_at: now,
    };
    store.insert_app(&app).await?;
    Ok(IssuedCredential { app_id: app.id, app_token: token.secret })
}

pub async fn rotate_token(store: &Store, clock: &Clock, id: AppId) -> Result<IssuedCredential, ServiceError> {
    let token = tokens::issue();
    store.replace_app_token(id, &token.hash, &token.prefix, clock.now()).await?;
    Ok(IssuedCredential { app_id: id, app_token: token.secret })
}

pub async fn set_status(store: &Store, id: AppId, status: AppStatus) -> Result<(), ServiceError> {
    Ok(store.set_app_status(id, status).await?)
}

pub async fn list(store: &Store) -> Result<Vec<AppRow>, ServiceError> {
    Ok(store.list_apps().await?)
}

/// Checks an `App-Id` / `App-Token` pair. Every failure is the same `Unauthenticated`:
/// unknown app, wrong token, rotated-away token and suspended app look alike.
pub async fn authenticate(store: &Store, clock: &Clock, app_id: &str, token: &SecretString) -> Result<AppPrincipal, ServiceError> {
    let Ok(id) = app_id.trim().parse::<AppId>() else {
        return Err(ServiceError::Unauthenticated);
    };
    let app = match store.find_app(id).await {
        Ok(app) => app,
        Err(StoreError::NotFound) => return Err(ServiceError::Unauthenticated),
        Err(other) => return Err(other.into()),
    };
    if !tokens::matches(token, &app.token_hash) || app.status != AppStatus::Active {
        return Err(ServiceError::Unauthenticated);
    }
    let now = clock.now();
    if app.token_last_used_at.is_none_or(|at| now - at >= LAST_USED_RESOLUTION_SECONDS) {
        store.touch_app_token(id, now).await?;
    }
    Ok(AppPrincipal { app_id: id, name: app.name })
}
