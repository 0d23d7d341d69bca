//! Partner apps: registration by the operator, token life cycle, API authentication.

use secrecy::{ExposeSecret, SecretString};

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
    /// Set when this call was let in on a recent check of the same credential, without a
    /// read: the token's hash, which the call's one write must check again itself (the app
    /// active, the token current) so that a rotation or suspension on any replica or by the
    /// CLI still acts at once. Only the onboarding creates take such callers.
    pub recheck_in_write: Option<String>,
}

impl AppPrincipal {
    pub fn checked(app_id: AppId, name: String) -> Self {
        Self { app_id, name, recheck_in_write: None }
    }
}

/// Credentials that passed a database check in the last minute, per process: the
/// onboarding creates (the API's hot path) skip the read and check the credential in
/// their insert instead. Wrong credentials are never kept.
#[derive(Default)]
pub struct RecentCallers {
    seen: std::sync::Mutex<std::collections::HashMap<(AppId, String), (String, i64)>>,
}

/// Enough for every partner's few tokens; past it the map starts again.
const RECENT_CALLERS_MAX: usize = 4096;

impl RecentCallers {
    /// The caller `app_id` with this token hash, if a check passed less than
    /// `LAST_USED_RESOLUTION_SECONDS` ago (so the token's last use is still recorded).
    fn get(&self, app_id: AppId, token_hash: &str, now: i64) -> Option<AppPrincipal> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let (name, at) = seen.get(&(app_id, token_hash.to_owned()))?;
        (now - at < LAST_USED_RESOLUTION_SECONDS).then(|| AppPrincipal { app_id, name: name.clone(), recheck_in_write: Some(token_hash.to_owned()) })
    }

    fn remember(&self, principal: &AppPrincipal, token_hash: String, now: i64) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= RECENT_CALLERS_MAX {
            seen.clear();
        }
        seen.insert((principal.app_id, token_hash), (principal.name.clone(), now));
    }

    /// After a write's own check refused the credential.
    pub fn forget(&self, principal: &AppPrincipal) {
        if let Some(hash) = &principal.recheck_in_write {
            self.seen.lock().unwrap_or_else(|p| p.into_inner()).remove(&(principal.app_id, hash.clone()));
        }
    }
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

/// `authenticate`, or — for a call whose write checks the credential itself — a recent
/// check of the same credential.
pub async fn authenticate_for_write(store: &Store, clock: &Clock, recent: &RecentCallers, app_id: &str, token: &SecretString) -> Result<AppPrincipal, ServiceError> {
    let Ok(id) = app_id.trim().parse::<AppId>() else {
        return Err(ServiceError::Unauthenticated);
    };
    let token_hash = tokens::hash(token.expose_secret());
    let now = clock.now();
    if let Some(principal) = recent.get(id, &token_hash, now) {
        return Ok(principal);
    }
    let principal = authenticate(store, clock, app_id, token).await?;
    recent.remember(&principal, token_hash, now);
    Ok(principal)
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
    Ok(AppPrincipal::checked(id, app.name))
}
