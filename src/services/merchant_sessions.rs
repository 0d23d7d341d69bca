//! Merchant Center sessions: server-side, random id (only its hash stored), new id at
//! every login, idle and absolute timeouts, a CSRF token per session.

use secrecy::SecretString;

use super::ServiceError;
use crate::crypto::random::url_safe_token;
use crate::crypto::sealed;
use super::provisioning::Linked;
use crate::domain::ids::AppId;
use crate::state::AppState;
use crate::store::merchants::{MerchantSessionRow, NewMerchantSession};
use crate::web::session::{id_hash, new_session_id, Freshness};

pub const COOKIE: &str = "__Host-causeway_mc";

pub(crate) fn token_context(id_hash: &str) -> String {
    format!("merchant-session-id-token:{id_hash}")
}

/// Opens a session and returns the cookie value.
/// `sign_out_origins`: where the sign-out form may lead, for the pages' CSP.
pub async fn open(state: &AppState, app: AppId, user: &Linked, id_token: &str, sign_out_origins: &str) -> Result<String, ServiceError> {
    let id = new_session_id();
    let hash = id_hash(&id);
    let now = state.clock.now();
    let sealed_token = sealed::seal(&state.keyring, &token_context(&hash), &SecretString::from(id_token));
    state
        .store
        .insert_merchant_session(&NewMerchantSession {
            id_hash: &hash,
            app_id: app,
            user_id: &user.user_id,
            account_id: user.account,
            role: user.role,
            sign_out_origins,
            csrf_token: &url_safe_token(32),
            id_token_sealed: &sealed_token,
            created_at: now,
            expires_at: now + state.settings.session_lifetimes().absolute,
        })
        .await?;
    Ok(id)
}

/// The live session behind a cookie value; expired ones are deleted and not returned.
pub async fn find(state: &AppState, cookie: &str) -> Result<Option<MerchantSessionRow>, ServiceError> {
    let hash = id_hash(cookie);
    let Some(row) = state.store.find_merchant_session(&hash).await? else { return Ok(None) };
    // Activity is recorded at most once a minute: the idle timeout needs no finer
    // resolution, and most page views stay a single read.
    let now = state.clock.now();
    // A suspended partner's merchants are signed out with it.
    if !row.app_active {
        state.store.delete_merchant_session(&hash).await?;
        return Ok(None);
    }
    match state.settings.session_lifetimes().judge(now, row.last_seen_at, row.expires_at) {
        Freshness::Expired => {
            state.store.delete_merchant_session(&hash).await?;
            Ok(None)
        }
        Freshness::Touch => {
            state.store.touch_merchant_session(&hash, now).await?;
            Ok(Some(row))
        }
        Freshness::Fresh => Ok(Some(row)),
    }
}

/// Ends a session already read with `find`; returns the ID token for the IdM's
/// end-session `id_token_hint`.
pub async fn close(state: &AppState, cookie: &str, session: &MerchantSessionRow) -> Result<SecretString, ServiceError> {
    let hash = id_hash(cookie);
    state.store.delete_merchant_session(&hash).await?;
    sealed::open(&state.keyring, &token_context(&hash), &session.id_token_sealed).map_err(|e| ServiceError::Internal(e.into()))
}
