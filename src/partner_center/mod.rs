//! Partner Center: the web UI where a partner signs in with its App-Id and App-Token,
//! configures its IdM and branding, tests the connection and reads its SSO event log.
//!
//! Server-rendered (askama), no JavaScript framework; a small script served by Causeway
//! adds copy buttons and the live branding preview. Every page requires a session
//! (`session`), every form carries a CSRF token, every response the page security headers
//! (`web::headers`), and errors render as HTML pages (`errors`), not as the API's JSON.

mod branding;
mod errors;
mod audit;
mod events;
mod health;
mod history;
mod idm;
mod idm_form;
mod idm_test;
mod overview;
mod session;
mod test_sign_in;
mod sign_in;
mod view;

use poem::{get, post, Endpoint, EndpointExt, Response, Route};
use serde::Deserialize;

pub use idm_form::label as idm_label;
pub use session::COOKIE as SESSION_COOKIE;
pub use sign_in::FAILED_MESSAGE as SIGN_IN_FAILED_MESSAGE;

/// Where the Partner Center is mounted.
pub const BASE_PATH: &str = "/partner-center";
pub const HOME_PATH: &str = "/partner-center";
pub const SIGN_IN_PATH: &str = "/partner-center/sign-in";

/// Who made a change, as the IdM configuration history records it.
const CHANGED_BY: &str = crate::domain::audit::actor::PARTNER_CENTER;

/// A form whose only field is the CSRF token (sign-out, test, restore).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    csrf_token: String,
}

/// The Partner Center routes, to be nested at `BASE_PATH`.
pub fn routes() -> impl Endpoint<Output = Response> {
    Route::new()
        .at("/", get(overview::page))
        .at("/sign-in", get(sign_in::show).post(sign_in::submit))
        .at("/sign-out", post(sign_in::sign_out))
        .at("/idm", get(idm::show).post(idm::save))
        .at("/idm/test", post(idm_test::run))
        .at("/idm/test-sign-in", post(test_sign_in::start))
        .at("/test-sign-ins/:id", get(test_sign_in::report))
        .at("/idm/history", get(history::page))
        .at("/idm/history/:version/restore", post(history::restore))
        .at("/branding", get(branding::show).post(branding::save))
        .at("/brand.css", get(branding::stylesheet))
        .at("/events", get(events::page))
        .at("/audit", get(audit::page))
        .at("/health", get(health::page))
        .catch_all_error(errors::render_poem_error)
        .around(crate::web::headers::page_headers)
        .map_to_response()
}
