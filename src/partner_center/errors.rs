//! Errors in the Partner Center render as HTML pages for people, never as the API's JSON.
//! 5xx pages say nothing about the cause; the cause chain is logged with the correlation
//! id the page shows.

use askama::Template;
use poem::error::ResponseError;
use poem::http::StatusCode;
use poem::web::Html;
use poem::{IntoResponse, Response};

use crate::api::error::ErrorChain;
use crate::services::ServiceError;
use crate::web::correlation;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("template rendering failed")]
    Render(#[from] askama::Error),
    /// A POST whose CSRF token is missing or wrong.
    #[error("CSRF token missing or wrong")]
    Csrf,
}

impl ResponseError for PageError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Service(ServiceError::NotFound { .. }) => StatusCode::NOT_FOUND,
            Self::Service(ServiceError::Invalid(_)) => StatusCode::BAD_REQUEST,
            Self::Service(ServiceError::IdempotencyConflict | ServiceError::AlreadyExists(_)) => StatusCode::CONFLICT,
            Self::Service(ServiceError::Unauthenticated) => StatusCode::UNAUTHORIZED,
            Self::Service(ServiceError::Internal(_)) | Self::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Csrf | Self::Service(ServiceError::Forbidden | ServiceError::StepUpRequired) => StatusCode::FORBIDDEN,
        }
    }

    fn as_response(&self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %ErrorChain(self), "partner center request failed");
        }
        match self {
            Self::Csrf => error_page(
                status,
                "This form has expired",
                "For your security, Causeway refused this form because it did not carry a valid security token. \
                 It may have been open for too long, or sent from another site. Go back, reload the page and try again.",
            ),
            _ => page_for_status(status),
        }
    }
}

#[derive(Template)]
#[template(path = "partner_center/error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
    correlation_id: String,
}

pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorPage { status: status.as_u16(), title, message, correlation_id: correlation::current() };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        // The error page itself failed: fall back to text rather than fail twice.
        Err(_) => (status, format!("{title}\n\n{message}")).into_response(),
    }
}

fn page_for_status(status: StatusCode) -> Response {
    let (title, message) = match status {
        StatusCode::NOT_FOUND => ("Page not found", "There is no Partner Center page at this address. Check the link, or start again from the overview."),
        StatusCode::METHOD_NOT_ALLOWED => ("Not allowed", "This page cannot be used that way. Start again from the overview."),
        StatusCode::PAYLOAD_TOO_LARGE => ("Form too large", "The form you sent is larger than Causeway accepts. Shorten the values and try again."),
        StatusCode::UNAUTHORIZED => ("Sign in required", "Sign in with your App-Id and App-Token to continue."),
        status if status.is_client_error() => ("The form could not be read", "Causeway could not read what your browser sent. Go back, reload the page and try again."),
        _ => ("Something went wrong", "Causeway could not complete this request. Try again in a moment; if it keeps failing, contact support and quote the reference below."),
    };
    error_page(status, title, message)
}

/// The Partner Center's `catch_all_error`: page errors render themselves, redirects pass
/// through, anything else from poem (unknown path, unreadable form) gets a page by status.
pub async fn render_poem_error(err: poem::Error) -> Response {
    if err.is_from_response() || err.is::<PageError>() {
        return err.into_response();
    }
    let status = err.status();
    if status.is_server_error() {
        tracing::error!(error = %ErrorChain(&err), "partner center request failed");
    }
    page_for_status(status)
}
