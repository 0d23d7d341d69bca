//! The signed-in merchant behind a request, and the checks every form post passes.

use poem::Request;

use super::errors::PortalError;
use crate::services::merchant_sessions;
use crate::state::AppState;
use crate::store::merchants::{MerchantSessionRow, SessionRow};
use crate::web::csrf;
use crate::web::session::read_cookie;

/// The live session of the request's cookie bound to its account; the signed-out page,
/// or the account chooser while the person has yet to choose.
pub async fn session(req: &Request, state: &AppState) -> Result<MerchantSessionRow, PortalError> {
    match any_session(req, state).await?.1 {
        SessionRow::Bound(session) => Ok(*session),
        SessionRow::Choosing(_) => Err(PortalError::ChooseAccount),
    }
}

/// The cookie and the live session behind it, bound or choosing.
pub async fn any_session<'r>(req: &'r Request, state: &AppState) -> Result<(&'r str, SessionRow), PortalError> {
    let Some(cookie) = read_cookie(req, merchant_sessions::COOKIE) else { return Err(PortalError::SignedOut) };
    let session = merchant_sessions::find(state, cookie).await?.ok_or(PortalError::SignedOut)?;
    Ok((cookie, session))
}

/// A form post's CSRF token must be the session's; checked before anything else is read.
pub fn check_csrf(session: &MerchantSessionRow, presented: &str, active: &'static str) -> Result<(), PortalError> {
    if csrf::matches(&session.csrf_token, presented) { Ok(()) } else { Err(PortalError::expired_form(session, active)) }
}
