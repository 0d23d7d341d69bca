//! Legal entities and accounts, created by partners through the Onboarding API.

use super::ServiceError;
use super::apps::AppPrincipal;
use crate::domain::field_error::{FieldError, Reason};
use crate::domain::ids::{AccountId, LegalEntityId};
use crate::domain::onboarding::{NewAccount, NewLegalEntity};
use crate::state::AppState;
use crate::store::accounts::AccountRow;
use crate::store::idempotency::{Creation, KeyClaim};
use crate::store::legal_entities::LegalEntityRow;
use crate::store::StoreError;

/// A `Unique-Key` as the API received it, with the fingerprint of its request.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    pub key: String,
    pub fingerprint: String,
}

/// An object a create call answers with, and whether it is the replay of an earlier call
/// with the same `Unique-Key` (the API then says so: `Idempotent-Replayed: true`).
#[derive(Clone, Debug)]
pub struct Stored<T> {
    pub row: T,
    pub replayed: bool,
}

impl<T> Stored<T> {
    fn new(row: T) -> Self {
        Self { row, replayed: false }
    }

    fn replayed(row: T) -> Self {
        Self { row, replayed: true }
    }
}

fn claim(state: &AppState, key: Option<IdempotencyKey>) -> Option<KeyClaim> {
    key.map(|k| KeyClaim {
        key: k.key,
        fingerprint: k.fingerprint,
        expired_before: state.clock.now() - state.settings.idempotency_ttl_seconds,
    })
}

pub async fn create_legal_entity(
    state: &AppState,
    caller: &AppPrincipal,
    new: NewLegalEntity,
    key: Option<IdempotencyKey>,
) -> Result<Stored<LegalEntityRow>, ServiceError> {
    let row = LegalEntityRow {
        id: LegalEntityId::new(),
        app_id: caller.app_id,
        country: new.country.as_str().to_owned(),
        controller_email: new.controller_email.as_str().to_owned(),
        controller_email_verified: new.controller_email_verified,
        tos_acceptance_time: new.terms.as_ref().map(|t| t.acceptance_time.seconds()),
        tos_original_ip: new.terms.as_ref().map(|t| t.original_ip.to_text()),
        created_at: state.clock.now(),
    };
    let created = state.store.create_legal_entity(&row, claim(state, key).as_ref(), caller.recheck_in_write.as_deref()).await;
    if let Err(StoreError::CredentialRefused) = created {
        state.recent_callers.forget(caller);
    }
    match created? {
        Creation::Created => Ok(Stored::new(row)),
        Creation::Replay { resource_id, .. } => get_legal_entity(state, caller, &resource_id).await.map(Stored::replayed),
        Creation::KeyReused => Err(ServiceError::IdempotencyConflict),
    }
}

pub async fn get_legal_entity(state: &AppState, caller: &AppPrincipal, id: &str) -> Result<LegalEntityRow, ServiceError> {
    let id: LegalEntityId = id.parse().map_err(|_| ServiceError::NotFound { field: None })?;
    Ok(state.store.find_legal_entity(caller.app_id, id).await?)
}

pub async fn create_account(
    state: &AppState,
    caller: &AppPrincipal,
    new: NewAccount,
    key: Option<IdempotencyKey>,
) -> Result<Stored<AccountRow>, ServiceError> {
    let row = AccountRow {
        id: AccountId::new(),
        app_id: caller.app_id,
        legal_entity_id: new.legal_entity_id,
        name: new.name.into_string(),
        description: new.description.map(|d| d.into_string()),
        created_at: state.clock.now(),
    };
    match state.store.create_account(&row, claim(state, key).as_ref(), caller.recheck_in_write.as_deref()).await {
        Ok(Creation::Created) => Ok(Stored::new(row)),
        Err(StoreError::CredentialRefused) => {
            state.recent_callers.forget(caller);
            Err(ServiceError::Unauthenticated)
        }
        Ok(Creation::Replay { resource_id, .. }) => get_account(state, caller, &resource_id).await.map(Stored::replayed),
        Ok(Creation::KeyReused) => Err(ServiceError::IdempotencyConflict),
        // Another app's legal entity is reported exactly like a missing one.
        Err(StoreError::NotFound) => Err(ServiceError::NotFound {
            field: Some(FieldError::new(&["legal_entity_id"], Reason::NotFound, "no legal entity of yours has this id")),
        }),
        Err(other) => Err(other.into()),
    }
}

pub async fn get_account(state: &AppState, caller: &AppPrincipal, id: &str) -> Result<AccountRow, ServiceError> {
    let id: AccountId = id.parse().map_err(|_| ServiceError::NotFound { field: None })?;
    Ok(state.store.find_account(caller.app_id, id).await?)
}
