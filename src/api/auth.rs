//! `App-Id` + `App-Token` authentication for the partner-facing APIs.

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::ApiKey;
use secrecy::SecretString;

use super::error::ApiError;
use crate::services::apps::{self, AppPrincipal};
use crate::state::AppState;

/// The `App-Token` shown once by `causeway app create`, sent with the app's `App-Id`
/// header. Both are required; a wrong, rotated-away or suspended credential is a 401.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "App-Token", key_in = "header", checker = "check_app")]
pub struct AppAuth(pub AppPrincipal);

async fn check_app(req: &Request, token: ApiKey) -> poem::Result<AppPrincipal> {
    let state = req.data::<AppState>().ok_or_else(|| ApiError::unexpected(&MissingState).reject())?;
    let app_id = req.headers().get("App-Id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let token = SecretString::from(token.key);
    let principal = apps::authenticate(&state.store, &state.clock, app_id, &token).await.map_err(|e| ApiError::from(e).reject())?;
    state.rate_limiter.check(principal.app_id).map_err(|wait| ApiError::throttled(wait).reject())?;
    Ok(principal)
}

#[derive(Debug, thiserror::Error)]
#[error("application state is not attached to the request")]
struct MissingState;
