//! Merchant Center sessions: server-side, random id (only its hash stored), new id at
//! every login, idle and absolute timeouts, a CSRF token per session; bound to one
//! account, or waiting while the person chooses among several.

use secrecy::SecretString;

use super::ServiceError;
use crate::crypto::random::url_safe_token;
use crate::crypto::sealed;
use crate::crypto::session_ids::{id_hash, new_session_id};
use crate::domain::session::Freshness;
use crate::state::AppState;
use crate::store::merchants::{MerchantSessionRow, SessionRow};

pub const COOKIE: &str = "__Host-causeway_mc";
/// The app the browser last signed in through (not a secret: the id is in every CTA link),
/// kept after sign-out so the signed-out page wears the partner's look and links to its
/// sign-in.
pub const PARTNER_COOKIE: &str = "__Host-causeway_partner";

/// Associated data binding a session's sealed sign-out hint to the session.
pub(crate) fn hint_context(id_hash: &str) -> String {
    format!("merchant-session-id-token:{id_hash}")
}

/// A session about to open: its cookie value, and what the store keeps of it.
pub struct NewSession {
    /// The cookie value; only its hash is stored.
    pub id: String,
    pub id_hash: String,
    pub csrf_token: String,
    /// What sign-out hands back to the IdM, sealed with the session.
    pub logout_hint_sealed: Option<String>,
    pub expires_at: i64,
}

/// A fresh session id, CSRF token and lifetime for a sign-in at `now`; the provisioning
/// service writes it with the rest of the sign-in.
pub fn new_session(state: &AppState, logout_hint: Option<&SecretString>, now: i64) -> NewSession {
    let id = new_session_id();
    let id_hash = id_hash(&id);
    let logout_hint_sealed = logout_hint.map(|hint| sealed::seal(&state.keyring, &hint_context(&id_hash), hint));
    NewSession { id, id_hash, csrf_token: url_safe_token(32), logout_hint_sealed, expires_at: now + state.settings.session_lifetimes().absolute }
}

/// Money changes (KYC, payout) need a recent authentication at the IdM: `StepUpRequired`
/// sends the person through it again first.
pub fn require_recent_sign_in(state: &AppState, session: &MerchantSessionRow) -> Result<(), ServiceError> {
    if crate::domain::landing::recent_enough(session.authenticated_at, state.clock.now(), state.settings.step_up_seconds) {
        Ok(())
    } else {
        Err(ServiceError::StepUpRequired)
    }
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

/// Ends the session a browser carried into a new sign-in (a step-up, a deep link, a
/// second sign-in): the new session replaces it, so the old id must not stay usable.
pub async fn replaced(state: &AppState, cookie: &str) -> Result<(), ServiceError> {
    Ok(state.store.delete_merchant_session(&id_hash(cookie)).await?)
}

/// Ends a session already read with `find`; returns the IdM's sign-out hint (the ID token
/// for `id_token_hint`), when the login had one.
pub async fn close(state: &AppState, cookie: &str) -> Result<Option<SecretString>, ServiceError> {
    let hash = id_hash(cookie);
    state
        .store
        .end_merchant_session(&hash)
        .await?
        .map(|sealed_hint| sealed::open(&state.keyring, &hint_context(&hash), &sealed_hint).map_err(|e| ServiceError::Internal(e.into())))
        .transpose()
}
