//! Merchant Center sessions: server-side, random id (only its hash stored), new id at
//! every login, idle and absolute timeouts, a CSRF token per session; bound to one
//! account, or waiting while the person chooses among several.

use secrecy::SecretString;

use super::ServiceError;
use crate::crypto::random::url_safe_token;
use crate::crypto::sealed;
use crate::crypto::session_ids::{id_hash, new_session_id};
use crate::domain::ids::AppId;
use crate::domain::session::Freshness;
use crate::state::AppState;
use crate::store::merchants::{Membership, NewMerchantSession, SessionRow};

pub const COOKIE: &str = "__Host-causeway_mc";

/// Associated data binding a session's sealed sign-out hint to the session.
pub(crate) fn hint_context(id_hash: &str) -> String {
    format!("merchant-session-id-token:{id_hash}")
}

/// What a new session starts with.
pub struct Opening<'a> {
    /// The account it is bound to (`None` while the person chooses).
    pub membership: Option<Membership>,
    /// How many accounts the person reaches.
    pub reachable_accounts: usize,
    /// What sign-out hands back to the IdM, sealed with the session.
    pub logout_hint: Option<&'a SecretString>,
    /// Where the sign-out form may lead, for the pages' CSP.
    pub sign_out_origins: &'a str,
}

/// Opens a session and returns the cookie value.
pub async fn open(state: &AppState, app: AppId, user_id: &str, opening: Opening<'_>) -> Result<String, ServiceError> {
    let id = new_session_id();
    let hash = id_hash(&id);
    let now = state.clock.now();
    let sealed_hint = opening.logout_hint.map(|hint| sealed::seal(&state.keyring, &hint_context(&hash), hint));
    state
        .store
        .insert_merchant_session(&NewMerchantSession {
            id_hash: &hash,
            app_id: app,
            user_id,
            membership: opening.membership,
            sign_out_origins: opening.sign_out_origins,
            reachable_accounts: opening.reachable_accounts as i64,
            csrf_token: &url_safe_token(32),
            logout_hint_sealed: sealed_hint.as_deref(),
            created_at: now,
            expires_at: now + state.settings.session_lifetimes().absolute,
        })
        .await?;
    Ok(id)
}

/// The live session behind a cookie value; expired ones are deleted and not returned.
pub async fn find(state: &AppState, cookie: &str) -> Result<Option<SessionRow>, ServiceError> {
    let hash = id_hash(cookie);
    let Some(row) = state.store.find_merchant_session(&hash).await? else { return Ok(None) };
    let now = state.clock.now();
    // A suspended partner's merchants are signed out with it.
    if !row.app_active() {
        state.store.delete_merchant_session(&hash).await?;
        return Ok(None);
    }
    let (last_seen, expires) = row.times();
    // Activity is recorded at most once a minute: the idle timeout needs no finer
    // resolution, and most page views stay a single read.
    match state.settings.session_lifetimes().judge(now, last_seen, expires) {
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

/// Ends a session already read with `find`; returns the IdM's sign-out hint (the ID token
/// for `id_token_hint`), when the login had one.
pub async fn close(state: &AppState, cookie: &str, session: &SessionRow) -> Result<Option<SecretString>, ServiceError> {
    let hash = id_hash(cookie);
    state.store.delete_merchant_session(&hash).await?;
    session
        .logout_hint_sealed()
        .map(|sealed_hint| sealed::open(&state.keyring, &hint_context(&hash), sealed_hint).map_err(|e| ServiceError::Internal(e.into())))
        .transpose()
}
