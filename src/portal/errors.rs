//! Why a Merchant Center request could not be served, rendered as a page in the
//! portal's own look (the partner's, when the session is known).

use askama::Template;
use poem::http::StatusCode;
use poem::{IntoResponse, Response};

use super::frame::{page_response, BrandView, Frame};
use crate::store::merchants::{MerchantSessionRow, SessionRow};
use crate::api::error::ErrorChain;
use crate::services::ServiceError;

#[derive(Debug)]
pub enum PortalError {
    /// No session, or it expired or was signed out; the partner whose Merchant Center this
    /// browser last signed in to, when it is known, for its look and a way to sign in again.
    SignedOut(Option<Box<Returning>>),
    /// Signed in, but the person has yet to choose an account.
    ChooseAccount,
    /// Signed in, but the role may not do this.
    Forbidden(Box<Signed>),
    /// A form post without the session's CSRF token.
    Csrf(Box<Signed>),
    Internal(anyhow::Error),
}

/// The partner a signed-out browser came from: its look and its sign-in link (CTA).
#[derive(Debug)]
pub struct Returning {
    pub brand: BrandView,
    pub cta_url: String,
}

/// The signed-in page's look, for an error page shown in its place.
#[derive(Debug)]
pub struct Signed {
    brand: BrandView,
    frame: Frame,
}

impl PortalError {
    pub fn forbidden(session: &MerchantSessionRow, active: &'static str) -> Self {
        Self::Forbidden(Box::new(Signed { brand: BrandView::of_session(session), frame: Frame::new(session, active) }))
    }

    pub fn expired_form(session: &MerchantSessionRow, active: &'static str) -> Self {
        Self::Csrf(Box::new(Signed { brand: BrandView::of_session(session), frame: Frame::new(session, active) }))
    }

    /// The "form expired" page for any live session (bound or still choosing).
    pub fn expired_form_of(session: &SessionRow, active: &'static str) -> Self {
        Self::Csrf(Box::new(Signed { brand: BrandView::of_any(session), frame: Frame::of_any(session, active) }))
    }
}

impl From<ServiceError> for PortalError {
    fn from(err: ServiceError) -> Self {
        Self::Internal(err.into())
    }
}

impl From<askama::Error> for PortalError {
    fn from(err: askama::Error) -> Self {
        Self::Internal(err.into())
    }
}

#[derive(Template)]
#[template(path = "portal/notice.html")]
struct NoticePage<'a> {
    brand: BrandView,
    frame: Option<Frame>,
    kicker: &'a str,
    heading: &'a str,
    message: &'a str,
    /// Where a signed-out merchant signs in again (the partner's CTA).
    sign_in_url: Option<String>,
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let mut returning = None;
        let (status, signed, kicker, heading, message) = match self {
            Self::ChooseAccount => {
                return Response::builder().status(StatusCode::SEE_OTHER).header("location", "/merchant-center/accounts").finish();
            }
            Self::SignedOut(from) => {
                returning = from;
                (
                StatusCode::UNAUTHORIZED,
                None,
                "Signed out",
                "You are signed out",
                "Your Merchant Center session has ended. Sign in again from your platform to continue.",
            )
            }
            Self::Forbidden(signed) => (
                StatusCode::FORBIDDEN,
                Some(*signed),
                "Not available for your role",
                "Only a financial admin can do this",
                "Payout details and KYC changes are limited to the account's financial admin. Ask them, or your platform's support, if something needs to change.",
            ),
            Self::Csrf(signed) => (
                StatusCode::FORBIDDEN,
                Some(*signed),
                "Nothing was saved",
                "This form has expired",
                "For your security, forms only work from the page that showed them. Go back, reload the page and try again.",
            ),
            Self::Internal(err) => {
                tracing::error!(error = %ErrorChain(err.as_ref()), "merchant center request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    "Something went wrong",
                    "This page could not be shown",
                    "Please try again in a moment.",
                )
            }
        };
        let (brand, frame, sign_in_url) = match (signed, returning) {
            (Some(Signed { brand, frame }), _) => (brand, Some(frame), None),
            (None, Some(from)) => (from.brand, None, Some(from.cta_url)),
            (None, None) => (BrandView::causeway(), None, None),
        };
        let page = NoticePage { brand, frame, kicker, heading, message, sign_in_url };
        let origins = page.frame.as_ref().map_or("", |f| f.sign_out_origins.as_str());
        match page.render() {
            Ok(html) => page_response(status, html, origins),
            Err(err) => {
                tracing::error!(error = %err, "merchant center notice failed to render");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

/// Lets handlers return `Result<Response, PortalError>`: the page is already rendered.
impl From<PortalError> for poem::Error {
    fn from(err: PortalError) -> Self {
        poem::Error::from_response(err.into_response())
    }
}
