//! The Onboarding API: legal entities and accounts, created by partner platforms.

use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::auth::AppAuth;
use super::error::ApiError;
use super::models::{Account, AccountCreate, LegalEntity, LegalEntityCreate};
use super::payload::ApiJson;
use crate::domain::onboarding::{LegalEntityInput, NewAccount, NewLegalEntity};
use crate::services::onboarding::{self, IdempotencyKey};
use crate::state::AppState;

#[derive(Tags)]
pub(super) enum Tag {
    /// Legal entities and the accounts under them.
    Onboarding,
}

#[derive(ApiResponse)]
enum LegalEntityCreated {
    /// The legal entity; also the answer to a request repeated with the same `Unique-Key`,
    /// which then carries `Idempotent-Replayed: true`.
    #[oai(status = 201)]
    Created(Json<LegalEntity>, #[oai(header = "Idempotent-Replayed")] Option<bool>),
}

#[derive(ApiResponse)]
enum LegalEntityFound {
    /// The legal entity.
    #[oai(status = 200)]
    Ok(Json<LegalEntity>),
}

#[derive(ApiResponse)]
enum AccountCreated {
    /// The account, usable for SSO at once; also the answer to a request repeated with the
    /// same `Unique-Key`, which then carries `Idempotent-Replayed: true`.
    #[oai(status = 201)]
    Created(Json<Account>, #[oai(header = "Idempotent-Replayed")] Option<bool>),
}

#[derive(ApiResponse)]
enum AccountFound {
    /// The account.
    #[oai(status = 200)]
    Ok(Json<Account>),
}

/// `Some(true)` for a replay: the header is sent only then.
pub(super) fn replay_marker(replayed: bool) -> Option<bool> {
    replayed.then_some(true)
}

/// A `Unique-Key` as received (its pattern, 1 to 255 visible ASCII characters, is checked
/// by the parameter's validator), bound to the request it came with.
pub(super) fn idempotency_key(header: Option<String>, route: &str, body_digest: &str) -> Option<IdempotencyKey> {
    header.map(|key| IdempotencyKey { key, fingerprint: format!("{route}\n{body_digest}") })
}

pub struct OnboardingApi;

#[OpenApi(tag = "Tag::Onboarding")]
impl OnboardingApi {
    /// Create a legal entity
    ///
    /// A merchant's business, with its controller: the person whose verified e-mail makes
    /// them the financial admin of the accounts under it. Idempotent with `Unique-Key`.
    #[oai(path = "/legal_entities", method = "post", operation_id = "create_legal_entity")]
    async fn create_legal_entity(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        // Described once, as the shared `UniqueKey` parameter (spec::shared).
        #[oai(name = "Unique-Key", validator(pattern = "^[!-~]{1,255}$"))]
        unique_key: Header<Option<String>>,
        body: ApiJson<LegalEntityCreate>,
    ) -> Result<LegalEntityCreated, ApiError> {
        let key = idempotency_key(unique_key.0, "POST /legal_entities", &body.digest);
        let input = body.value;
        let new = NewLegalEntity::parse(
            LegalEntityInput {
                country: &input.country,
                controller_email: &input.controller.email,
                controller_email_verified: input.controller.email_is_verified.unwrap_or(false),
                terms: input.terms_of_service.as_ref().map(|t| (t.acceptance_time, t.original_ip.as_str())),
            },
            state.clock.now(),
        )
        .map_err(|errors| ApiError::invalid("The legal entity has invalid fields.", &errors))?;
        let stored = onboarding::create_legal_entity(&state, &auth.0, new, key).await?;
        Ok(LegalEntityCreated::Created(Json(stored.row.into()), replay_marker(stored.replayed)))
    }

    /// Get a legal entity
    ///
    /// One of your legal entities; another partner's id is a 404, like a missing one.
    #[oai(path = "/legal_entities/:id", method = "get", operation_id = "get_legal_entity")]
    async fn get_legal_entity(&self, auth: AppAuth, state: Data<&AppState>, id: Path<String>) -> Result<LegalEntityFound, ApiError> {
        let row = onboarding::get_legal_entity(&state, &auth.0, &id.0).await?;
        Ok(LegalEntityFound::Ok(Json(row.into())))
    }

    /// Create an account
    ///
    /// An account under one of your legal entities, usable for SSO at once. Idempotent with
    /// `Unique-Key`.
    #[oai(path = "/accounts", method = "post", operation_id = "create_account")]
    async fn create_account(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        // Described once, as the shared `UniqueKey` parameter (spec::shared).
        #[oai(name = "Unique-Key", validator(pattern = "^[!-~]{1,255}$"))]
        unique_key: Header<Option<String>>,
        body: ApiJson<AccountCreate>,
    ) -> Result<AccountCreated, ApiError> {
        let key = idempotency_key(unique_key.0, "POST /accounts", &body.digest);
        let input = body.value;
        let new = NewAccount::parse(&input.legal_entity_id, &input.name, input.description.as_deref())
            .map_err(|errors| ApiError::invalid("The account has invalid fields.", &errors))?;
        let stored = onboarding::create_account(&state, &auth.0, new, key).await?;
        Ok(AccountCreated::Created(Json(stored.row.into()), replay_marker(stored.replayed)))
    }

    /// Get an account
    ///
    /// One of your accounts; another partner's id is a 404, like a missing one.
    #[oai(path = "/accounts/:id", method = "get", operation_id = "get_account")]
    async fn get_account(&self, auth: AppAuth, state: Data<&AppState>, id: Path<String>) -> Result<AccountFound, ApiError> {
        let row = onboarding::get_account(&state, &auth.0, &id.0).await?;
        Ok(AccountFound::Ok(Json(row.into())))
    }
}
