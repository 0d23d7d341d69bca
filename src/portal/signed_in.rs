//! The signed-in merchant behind a request, and the checks every form post passes.

use poem::Request;

use super::errors::{PortalError, Returning};
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
    let session = match read_cookie(req, merchant_sessions::COOKIE) {
        Some(cookie) => merchant_sessions::find(state, cookie).await?.map(|session| (cookie, session)),
        None => None,
    };
    match session {
        Some(found) => Ok(found),
        None => Err(PortalError::SignedOut(returning(req, state).await)),
    }
}

/// The partner this browser last signed in through (`merchant_sessions::PARTNER_COOKIE`).
async fn returning(req: &Request, state: &AppState) -> Option<Box<Returning>> {
    let app = read_cookie(req, merchant_sessions::PARTNER_COOKIE)?.parse().ok()?;
    let brand = super::brand(state, Some(app)).await;
    Some(Box::new(Returning { brand, cta_url: format!("/sso/oidc/{app}") }))
}

/// A form post's CSRF token must be the session's; checked before anything else is read.
pub fn check_csrf(session: &MerchantSessionRow, presented: &str, active: &'static str) -> Result<(), PortalError> {
    if csrf::matches(&session.csrf_token, presented) { Ok(()) } else { Err(PortalError::expired_form(session, active)) }
}
