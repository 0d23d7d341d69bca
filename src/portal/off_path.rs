//! Pages for addresses off the paths a merchant follows: Causeway's front page, an unknown
//! address opened in a browser, and the page trees' own refusals (an unreadable form, a
//! wrong method). Each is a page in Causeway's look with a way on, never a framework's
//! plain-text line or the API's JSON in a browser.

use askama::Template;
use poem::http::{header, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};

use super::frame::{page_response, BrandView};
use crate::api::error::ErrorChain;

#[derive(Template)]
#[template(path = "portal/off_path.html")]
struct OffPathPage<'a> {
    brand: BrandView,
    kicker: &'a str,
    heading: &'a str,
    message: &'a str,
}

fn page(status: StatusCode, kicker: &str, heading: &str, message: &str) -> Response {
    let mut response = match (OffPathPage { brand: BrandView::causeway(), kicker, heading, message }).render() {
        Ok(html) => page_response(status, html, ""),
        Err(err) => {
            tracing::error!(error = %err, "off-path page failed to render");
            status.into_response()
        }
    };
    crate::web::headers::apply_page_headers(response.headers_mut());
    response
}

/// `/`: what this server is, for a person who typed its address.
fn home() -> Response {
    page(
        StatusCode::OK,
        "Causeway",
        "Merchant Center sign-in",
        "Merchants reach their Merchant Center through the sign-in link in their platform's product. Platforms manage their integration in the Partner Center.",
    )
}

fn page_for_status(status: StatusCode) -> Response {
    let (heading, message) = match status {
        StatusCode::NOT_FOUND => ("Page not found", "There is nothing at this address. Open the Merchant Center from the sign-in link in your platform's product."),
        StatusCode::PAYLOAD_TOO_LARGE => ("Form too large", "What your browser sent is larger than Causeway accepts. Go back and try again."),
        status if status.is_client_error() => {
            ("This request could not be used", "Causeway could not read what your browser sent. Go back, reload the page and try again.")
        }
        _ => ("Something went wrong", "Causeway could not complete this request. Try again in a moment."),
    };
    page(status, status.canonical_reason().unwrap_or("Error"), heading, message)
}

/// The Merchant Center's and the SSO tree's `catch_all_error`: pages that rendered
/// themselves pass through; anything poem refused (unknown path, wrong method, a body that
/// is not a form) gets a page by status.
pub async fn render_poem_error(err: poem::Error) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    let status = err.status();
    if status.is_server_error() {
        tracing::error!(error = %ErrorChain(&err), "page request failed");
    }
    page_for_status(status)
}

/// Around the whole application: `/` is the front page (the API, mounted at the root,
/// would answer it), and a browser asking for a page at an unknown address gets the "not
/// found" page instead of the API's JSON error (API clients, which send `App-Id` or do not
/// ask for HTML, keep the JSON).
pub async fn pages_for_browsers<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    if req.uri().path() == "/" && (req.method() == Method::GET || req.method() == Method::HEAD) {
        return Ok(home());
    }
    let wants_page = req.method() == Method::GET
        && !req.headers().contains_key("app-id")
        && req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    let response = next.call(req).await?.into_response();
    let json = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("application/json"));
    if wants_page && json && response.status() == StatusCode::NOT_FOUND {
        return Ok(page_for_status(StatusCode::NOT_FOUND));
    }
    Ok(response)
}
