//! Partner Center sessions: opened at sign-in, checked on every page, ended at sign-out.
//!
//! Each request re-reads the app with the session (one query): a suspended app or a
//! rotated App-Token ends every session opened with it at once, not at the next expiry.

use poem::http::header;
use poem::web::Redirect;
use poem::{FromRequest, IntoResponse, Request, RequestBody};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::errors::PageError;
use super::SIGN_IN_PATH;
use crate::crypto::digest::sha256_hex;
use crate::crypto::tokens;
use crate::domain::app::AppStatus;
use crate::domain::ids::AppId;
use crate::services::ServiceError;
use crate::state::AppState;
use crate::store::partner_sessions::NewPartnerSession;
use crate::crypto::session_ids;
use crate::domain::session::Freshness;
use crate::web::session::{self as web_session, SameSite};
use crate::web::csrf;

pub const COOKIE: &str = "__Host-causeway_pc";

/// A signed-in partner, as handlers receive it.
#[derive(Clone, Debug)]
pub struct PartnerSession {
    pub app_id: AppId,
    pub app_name: String,
    pub csrf: String,
}

impl PartnerSession {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, presented: &str) -> Result<(), PageError> {
        if csrf::matches(&self.csrf, presented) { Ok(()) } else { Err(PageError::Csrf) }
    }
}

/// What ties a session to the App-Token it was opened with, without storing the token's
/// hash itself: a hash of the hash.
fn token_fingerprint(token_hash: &str) -> String {
    sha256_hex(token_hash.as_bytes())
}

/// Opens a session for an app whose token was just verified; returns the cookie value.
/// Always a new id (session fixation); expired sessions are swept on the way.
pub async fn open(state: &AppState, app: AppId, verified_token: &SecretString) -> Result<String, ServiceError> {
    let now = state.clock.now();
    state.store.sweep_partner_sessions(now, now - state.settings.session_lifetimes().idle).await?;
    let id = session_ids::new_session_id();
    let fingerprint = token_fingerprint(&tokens::hash(verified_token.expose_secret()));
    let csrf_token = csrf::new_token();
    state
        .store
        .insert_partner_session(&NewPartnerSession {
            id_hash: &session_ids::id_hash(&id),
            app_id: app,
            csrf_token: &csrf_token,
            token_fingerprint: &fingerprint,
            created_at: now,
            expires_at: now + state.settings.session_lifetimes().absolute,
        })
        .await?;
    Ok(id)
}

/// The session named by a cookie value, if it is still valid; an invalid one is deleted.
pub async fn resume(state: &AppState, id: &str) -> Result<Option<PartnerSession>, ServiceError> {
    let id_hash = session_ids::id_hash(id);
    let Some(row) = state.store.find_partner_session(&id_hash).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let same_token: bool = token_fingerprint(&row.app_token_hash).as_bytes().ct_eq(row.token_fingerprint.as_bytes()).into();
    let freshness = state.settings.session_lifetimes().judge(now, row.last_seen_at, row.expires_at);
    if freshness == Freshness::Expired || row.app_status != AppStatus::Active || !same_token {
        state.store.delete_partner_session(&id_hash).await?;
        return Ok(None);
    }
    if freshness == Freshness::Touch {
        state.store.touch_partner_session(&id_hash, now).await?;
    }
    Ok(Some(PartnerSession { app_id: row.app_id, app_name: row.app_name, csrf: row.csrf_token }))
}

pub async fn close(state: &AppState, id: &str) -> Result<(), ServiceError> {
    Ok(state.store.delete_partner_session(&session_ids::id_hash(id)).await?)
}

pub fn set_cookie(id: &str) -> String {
    web_session::set_cookie(COOKIE, id, SameSite::Lax)
}

pub fn clear_cookie() -> String {
    web_session::clear_cookie(COOKIE, SameSite::Lax)
}

fn state_of(req: &Request) -> Result<&AppState, PageError> {
    req.data::<AppState>().ok_or_else(|| PageError::Service(ServiceError::Internal(anyhow::anyhow!("application state is not attached to the request"))))
}

/// Pages that need a session get one or send the browser to the sign-in page (303).
impl<'a> FromRequest<'a> for PartnerSession {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = state_of(req)?;
        let cookie = web_session::read_cookie(req, COOKIE);
        if let Some(id) = cookie
            && let Some(session) = resume(state, id).await.map_err(PageError::from)?
        {
            return Ok(session);
        }
        // A cookie that no longer works: say so on the sign-in page and drop it.
        let target = if cookie.is_some() { format!("{SIGN_IN_PATH}?ended=1") } else { SIGN_IN_PATH.to_owned() };
        let mut redirect = Redirect::see_other(target).into_response();
        if cookie.is_some()
            && let Ok(value) = clear_cookie().parse()
        {
            redirect.headers_mut().append(header::SET_COOKIE, value);
        }
        Err(poem::Error::from_response(redirect))
    }
}
