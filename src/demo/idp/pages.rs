//! The demo IdM's HTML: the sign-in page with one button per person, the page for a
//! request it will not answer, and the partner-product page after sign-out.

use askama::Template;
use poem::http::{StatusCode, header};
use poem::web::Html;
use poem::{IntoResponse, Response, handler};

use super::Provider;
use crate::demo::people::Person;

pub const STYLESHEET_PATH: &str = "/demo-idm.css";
const STYLESHEET: &str = include_str!("../../../assets/demo-idm.css");

#[derive(Template)]
#[template(path = "demo/login.html")]
pub struct LoginPage<'a> {
    pub stylesheet: &'static str,
    pub partner_name: &'a str,
    pub action: &'static str,
    /// The authorization request, carried through the form unchanged.
    pub fields: Vec<(&'static str, &'a str)>,
    pub people: &'a [&'static Person],
    /// What signing in sends Causeway, in a sentence or two.
    pub fineprint: &'static str,
}

pub const OIDC_FINEPRINT: &str = "Signing in as a person sends Causeway an ID token with their e-mail and the demo account. The controller's e-mail matches the account's legal entity, so Causeway makes them the financial admin; anyone else on the account is a moderator.";

#[derive(Template)]
#[template(path = "demo/error.html")]
pub struct ErrorPage<'a> {
    pub stylesheet: &'static str,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "demo/signed_out.html")]
pub struct SignedOutPage<'a> {
    pub stylesheet: &'static str,
    pub partner_name: &'a str,
    pub cta_url: &'a str,
}

/// A page with the headers a sign-in page needs: its own CSP, no framing (a framed
/// sign-in page invites clickjacking), no caching, no referrer (the URL holds state).
pub fn respond(provider: &Provider, status: StatusCode, page: &impl Template) -> Response {
    respond_with(&provider.content_security_policy, status, page)
}

/// `respond` for a page under a policy of its own (the hosted-login directory's).
pub fn respond_with(content_security_policy: &str, status: StatusCode, page: &impl Template) -> Response {
    let html = match page.render() {
        Ok(html) => html,
        Err(err) => {
            tracing::error!(error = %err, "a demo IdM page failed to render");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        headers.insert(name, header::HeaderValue::from_static(value));
    }
    if let Ok(csp) = header::HeaderValue::from_str(content_security_policy) {
        headers.insert("content-security-policy", csp);
    }
    response
}

pub fn error(provider: &Provider, status: StatusCode, message: &str) -> Response {
    respond(
        provider,
        status,
        &ErrorPage {
            stylesheet: STYLESHEET_PATH,
            message,
        },
    )
}

#[handler]
pub fn stylesheet() -> Response {
    Response::builder()
        .content_type("text/css; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .header("x-content-type-options", "nosniff")
        .body(STYLESHEET)
}
