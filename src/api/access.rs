//! Access grants and session revocation: who may reach an account when the partner's IdM
//! names no account, and ending Merchant Center sessions at once.

use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::access_models::*;
use super::auth::AppAuth;
use super::error::ApiError;
use super::onboarding::{idempotency_key, replay_marker};
use super::payload::ApiJson;
use crate::domain::field_error::Reason;
use crate::domain::grant::NewGrant;
use crate::domain::values::EmailAddress;
use crate::services::deep_links;
use crate::services::grants::{self, GrantOutcome, Revocation};
use crate::state::AppState;

#[derive(Tags)]
pub(super) enum Tag {
    /// Who may sign in to an account, and ending their sessions.
    Access,
}

#[derive(ApiResponse)]
enum GrantResponse {
    /// The grant was made (or a request with the same `Unique-Key` is answered again, with
    /// `Idempotent-Replayed: true`).
    #[oai(status = 201)]
    Created(Json<AccountUser>, #[oai(header = "Idempotent-Replayed")] Option<bool>),
    /// This person already had a grant on the account; it now has the role asked for.
    #[oai(status = 200)]
    Updated(Json<AccountUser>, #[oai(header = "Idempotent-Replayed")] Option<bool>),
}

#[derive(ApiResponse)]
enum AccountUsersResponse {
    /// Everyone with access to the account.
    #[oai(status = 200)]
    Ok(Json<AccountUserList>),
}

#[derive(ApiResponse)]
enum RemovedResponse {
    /// Access removed; that person's sessions on the account have ended.
    #[oai(status = 204)]
    Removed,
}

#[derive(ApiResponse)]
enum RevokedResponse {
    /// How many sessions ended.
    #[oai(status = 200)]
    Ok(Json<SessionsRevoked>),
}

#[derive(ApiResponse)]
enum LinkResponse {
    /// The link; it works once, for 5 minutes.
    #[oai(status = 201)]
    Created(Json<AccountLink>),
}

pub struct AccessApi;

#[OpenApi(tag = "Tag::Access")]
impl AccessApi {
    /// Grant access to an account
    ///
    /// Lets a person sign in to one of your accounts, found by their verified e-mail, their
    /// verified phone number or their IdM subject. Granting again changes the role (and ends
    /// their sessions there, so the next sign-in carries it). Idempotent with `Unique-Key`.
    #[oai(path = "/accounts/:id/users", method = "post", operation_id = "grant_account_access")]
    async fn grant_access(
        &self,
        auth: AppAuth,
        state: Data<&AppState>,
        // Described once, as the shared `UniqueKey` parameter (spec::shared).
        #[oai(name = "Unique-Key", validator(pattern = "^[!-~]{1,255}$"))]
        unique_key: Header<Option<String>>,
        id: Path<String>,
        body: ApiJson<AccountUserCreate>,
    ) -> Result<GrantResponse, ApiError> {
        let key = idempotency_key(unique_key.0, &format!("POST /accounts/{}/users", id.0), &body.digest);
        let b = &body.value;
        let new = NewGrant::parse(b.email.as_deref(), b.phone_number.as_deref(), b.idm_subject.as_deref(), b.role.as_deref())
            .map_err(|errors| ApiError::invalid("The grant has invalid fields.", &errors))?;
        let stored = grants::grant(&state, &auth.0, &id.0, &new, key).await?;
        let replayed = replay_marker(stored.replayed);
        Ok(match stored.row {
            GrantOutcome::Created(row) => GrantResponse::Created(Json(AccountUser::of_grant(row)), replayed),
            GrantOutcome::Updated(row) => GrantResponse::Updated(Json(AccountUser::of_grant(row)), replayed),
        })
    }

    /// List an account's users
    ///
    /// Everyone with access to one of your accounts: grants, and the people who signed in,
    /// with where their access comes from.
    #[oai(path = "/accounts/:id/users", method = "get", operation_id = "list_account_users")]
    async fn list_account_users(&self, auth: AppAuth, state: Data<&AppState>, id: Path<String>) -> Result<AccountUsersResponse, ApiError> {
        let users = grants::users(&state, &auth.0, &id.0).await?;
        Ok(AccountUsersResponse::Ok(Json(AccountUserList { users: users.into_iter().map(|u| AccountUser::of(&id.0, u)).collect() })))
    }

    /// Remove a user's access
    ///
    /// Takes away a person's access to one of your accounts (by the grant's id or the
    /// user's); their sessions there end at once.
    #[oai(path = "/accounts/:id/users/:user_id", method = "delete", operation_id = "remove_account_user")]
    async fn remove_account_user(&self, auth: AppAuth, state: Data<&AppState>, id: Path<String>, user_id: Path<String>) -> Result<RemovedResponse, ApiError> {
        grants::remove(&state, &auth.0, &id.0, &user_id.0).await?;
        Ok(RemovedResponse::Removed)
    }

    /// Create a deep link
    ///
    /// A single-use URL, valid 5 minutes, that signs a merchant in through your IdM and lands
    /// on one page of this account's Merchant Center (such as `kyc`, to finish the business
    /// details). The person must have access to the account. Each call makes a new link.
    #[oai(path = "/accounts/:id/links", method = "post", operation_id = "create_account_link")]
    async fn create_account_link(&self, auth: AppAuth, state: Data<&AppState>, id: Path<String>, body: ApiJson<AccountLinkCreate>) -> Result<LinkResponse, ApiError> {
        let link = deep_links::create(&state, &auth.0, &id.0, &body.value.target).await?;
        Ok(LinkResponse::Created(Json(AccountLink { url: link.url, expires_at: link.expires_at })))
    }

    /// Revoke sessions
    ///
    /// Ends Merchant Center sessions at once, on every replica: those on an account, of an
    /// e-mail, or of an IdM subject (every filter given must match).
    #[oai(path = "/partner/sessions/revoke", method = "post", operation_id = "revoke_sessions")]
    async fn revoke_sessions(&self, auth: AppAuth, state: Data<&AppState>, body: ApiJson<SessionRevocation>) -> Result<RevokedResponse, ApiError> {
        let b = &body.value;
        if let Some(email) = b.email.as_deref()
            && let Err(invalid) = EmailAddress::parse(email)
        {
            return Err(ApiError::invalid_one(&["email"], Reason::InvalidEmail, &invalid.message));
        }
        let filters = Revocation { account_id: b.account_id.as_deref(), email: b.email.as_deref(), idm_subject: b.idm_subject.as_deref() };
        let revoked = grants::revoke_sessions(&state, &auth.0, &filters).await?;
        Ok(RevokedResponse::Ok(Json(SessionsRevoked { revoked })))
    }
}
