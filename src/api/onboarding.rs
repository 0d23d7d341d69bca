//! The Onboarding API: legal entities and accounts, created by partner platforms.

use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, OpenApi, Tags};

use super::auth::AppAuth;
use super::error::ApiError;
use super::models::{Account, AccountCreate, LegalEntity, LegalEntityCreate};
use super::payload::ApiJson;
use crate::domain::field_error::Reason;
use crate::domain::onboarding::{LegalEntityInput, NewAccount, NewLegalEntity};
use crate::services::onboarding::{self, IdempotencyKey};
use crate::state::AppState;

#[derive(Tags)]
enum Tag {
    /// Legal entities and the accounts under them.
    Onboarding,
}

/// The API version this server speaks; sent by every client as `Api-Version`.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiVersion {
    #[oai(rename = "3.0")]
    V3,
}

#[derive(ApiResponse)]
enum LegalEntityCreated {
    /// The legal entity (also when a `Unique-Key` replays the first response).
    #[oai(status = 201)]
    Created(Json<LegalEntity>),
}

#[derive(ApiResponse)]
enum LegalEntityFound {
    #[oai(status = 200)]
    Ok(Json<LegalEntity>),
}

#[derive(ApiResponse)]
enum AccountCreated {
    /// The account, usable for SSO at once (also when a `Unique-Key` replays).
    #[oai(status = 201)]
    Created(Json<Account>),
}

#[derive(ApiResponse)]
enum AccountFound {
    #[oai(status = 200)]
    Ok(Json<Account>),
}

const UNIQUE_KEY_MAX: usize = 255;

pub(super) fn idempotency_key(header: Option<String>, route: &str, body_digest: &str) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(key) = header else { return Ok(None) };
    if key.is_empty() || key.len() > UNIQUE_KEY_MAX || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_one(
            &["Unique-Key"],
            Reason::InvalidHeader,
            "Unique-Key must be 1 to 255 visible ASCII characters.",
        ));
    }
    Ok(Some(IdempotencyKey { key, fingerprint: format!("{route}\n{body_digest}") }))
}

pub struct OnboardingApi;

#[OpenApi(tag = "Tag::Onboarding")]
impl OnboardingApi {
    /// Create a legal entity (a merchant's business). Caller: a partner app.
    #[oai(path = "/legal_entities", method = "post")]
    async fn create_legal_entity(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        /// Your app's id, sent with every call beside `App-Token`.
        #[oai(name = "App-Id")]
        _app_id: Header<String>,
        #[oai(name = "Api-Version")] _version: Header<ApiVersion>,
        /// Makes the request idempotent for 24 hours.
        #[oai(name = "Unique-Key")]
        unique_key: Header<Option<String>>,
        body: ApiJson<LegalEntityCreate>,
    ) -> Result<LegalEntityCreated, ApiError> {
        let key = idempotency_key(unique_key.0, "POST /legal_entities", &body.digest)?;
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
        let row = onboarding::create_legal_entity(&state, &auth.0, new, key).await?;
        Ok(LegalEntityCreated::Created(Json(row.into())))
    }

    /// Read one of your legal entities. Caller: the partner app that created it.
    #[oai(path = "/legal_entities/:id", method = "get")]
    async fn get_legal_entity(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        /// Your app's id, sent with every call beside `App-Token`.
        #[oai(name = "App-Id")]
        _app_id: Header<String>,
        #[oai(name = "Api-Version")] _version: Header<ApiVersion>,
        id: Path<String>,
    ) -> Result<LegalEntityFound, ApiError> {
        let row = onboarding::get_legal_entity(&state, &auth.0, &id.0).await?;
        Ok(LegalEntityFound::Ok(Json(row.into())))
    }

    /// Create an account under one of your legal entities. Caller: a partner app.
    #[oai(path = "/accounts", method = "post")]
    async fn create_account(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        /// Your app's id, sent with every call beside `App-Token`.
        #[oai(name = "App-Id")]
        _app_id: Header<String>,
        #[oai(name = "Api-Version")] _version: Header<ApiVersion>,
        /// Makes the request idempotent for 24 hours.
        #[oai(name = "Unique-Key")]
        unique_key: Header<Option<String>>,
        body: ApiJson<AccountCreate>,
    ) -> Result<AccountCreated, ApiError> {
        let key = idempotency_key(unique_key.0, "POST /accounts", &body.digest)?;
        let input = body.value;
        let new = NewAccount::parse(&input.legal_entity_id, &input.name, input.description.as_deref())
            .map_err(|errors| ApiError::invalid("The account has invalid fields.", &errors))?;
        let row = onboarding::create_account(&state, &auth.0, new, key).await?;
        Ok(AccountCreated::Created(Json(row.into())))
    }

    /// Read one of your accounts. Caller: the partner app that created it.
    #[oai(path = "/accounts/:id", method = "get")]
    async fn get_account(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        /// Your app's id, sent with every call beside `App-Token`.
        #[oai(name = "App-Id")]
        _app_id: Header<String>,
        #[oai(name = "Api-Version")] _version: Header<ApiVersion>,
        id: Path<String>,
    ) -> Result<AccountFound, ApiError> {
        let row = onboarding::get_account(&state, &auth.0, &id.0).await?;
        Ok(AccountFound::Ok(Json(row.into())))
    }
}
