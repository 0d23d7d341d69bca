//! The signed-in merchant behind a request, and the checks every form post passes.

use poem::Request;

use super::errors::PortalError;
use crate::services::merchant_sessions;
use crate::state::AppState;
use crate::store::merchants::MerchantSessionRow;
use crate::web::csrf;
use crate::web::session::read_cookie;

/// The live session of the request's cookie, or the signed-out page.
pub async fn session(req: &Request, state: &AppState) -> Result<MerchantSessionRow, PortalError> {
    let Some(cookie) = read_cookie(req, merchant_sessions::COOKIE) else { return Err(PortalError::SignedOut) };
    merchant_sessions::find(state, cookie).await?.ok_or(PortalError::SignedOut)
}

/// A form post's CSRF token must be the session's; checked before anything else is read.
pub fn check_csrf(session: &MerchantSessionRow, presented: &str, active: &'static str) -> Result<(), PortalError> {
    if csrf::matches(&session.csrf_token, presented) { Ok(()) } else { Err(PortalError::expired_form(session, active)) }
}
