//! The three headers every API call carries: `App-Id` + `App-Token` (the app's
//! credentials) and `Api-Version`. The spec declares them once, as security schemes
//! required together (`spec::authentication`), so a generated client sets them once.

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::ApiKey;
use secrecy::SecretString;

use super::error::ApiError;
use crate::domain::field_error::Reason;
use crate::services::apps::{self, AppPrincipal};
use crate::state::AppState;

/// The one API version this server speaks.
pub const API_VERSION: &str = "3.0";

/// The `App-Token` shown once by `causeway app create`, sent with the app's `App-Id`
/// header. Both are required; a wrong, rotated-away or suspended credential is a 401.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "App-Token", key_in = "header", checker = "check_app")]
pub struct AppAuth(pub AppPrincipal);

async fn check_app(req: &Request, token: ApiKey) -> poem::Result<AppPrincipal> {
    // Before the credentials: a call for another version is refused without a lookup.
    if req.headers().get("Api-Version").and_then(|v| v.to_str().ok()) != Some(API_VERSION) {
        let message = format!("The Api-Version header must be \"{API_VERSION}\".");
        return Err(ApiError::invalid_one(&["Api-Version"], Reason::InvalidApiVersion, &message).reject());
    }
    let state = req.data::<AppState>().ok_or_else(|| ApiError::unexpected(&MissingState).reject())?;
    let client = crate::web::client_ip::client_ip(req, &state.settings.trusted_proxies);
    if let Some(wait) = state.rate_limiter.auth_blocked(client) {
        return Err(ApiError::throttled(wait).reject());
    }
    let app_id = req.headers().get("App-Id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let token = SecretString::from(token.key);
    let checked = if rechecked_in_its_write(req) {
        apps::authenticate_for_write(&state.store, &state.clock, &state.recent_callers, app_id, &token).await
    } else {
        apps::authenticate(&state.store, &state.clock, app_id, &token).await
    };
    let principal = match checked {
        Ok(principal) => principal,
        Err(err) => {
            if matches!(err, crate::services::ServiceError::Unauthenticated) {
                state.rate_limiter.auth_failed(client);
            }
            return Err(ApiError::from(err).reject());
        }
    };
    state.rate_limiter.check(principal.app_id).map_err(|wait| ApiError::throttled(wait).reject())?;
    Ok(principal)
}

/// The onboarding creates without `Unique-Key` are one insert each, which checks the app's
/// status and token itself: they may take a caller on a recent check instead of a read
/// (issue 11: half the round trips of onboarding on PostgreSQL). Every other call reads.
fn rechecked_in_its_write(req: &Request) -> bool {
    req.method() == poem::http::Method::POST
        && matches!(req.uri().path(), "/legal_entities" | "/accounts")
        && !req.headers().contains_key("Unique-Key")
}

#[derive(Debug, thiserror::Error)]
#[error("application state is not attached to the request")]
struct MissingState;
