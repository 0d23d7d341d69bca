//! Sign-in with App-Id + App-Token, and sign-out.
//!
//! A failed sign-in says the same thing whichever half was wrong, takes at least
//! `MIN_FAILURE` (so timing does not tell an unknown App-Id from a wrong token), and
//! counts against the budgets of the App-Id from the client address and of the address
//! (`services::sign_in_throttle`, shared by every replica).

use std::time::{Duration, Instant};

use askama::Template;
use poem::http::{header, StatusCode};
use poem::web::{Data, Form, Html, Query, Redirect};
use poem::{handler, IntoResponse, Request, Response};
use secrecy::SecretString;
use serde::Deserialize;

use super::errors::PageError;
use super::session::{self, PartnerSession};
use super::{CsrfForm, HOME_PATH, SIGN_IN_PATH};
use crate::services::{apps, sign_in_throttle, ServiceError};
use crate::state::AppState;
use crate::web::csrf;
use crate::web::session::{read_cookie, set_cookie, SameSite};

pub const FAILED_MESSAGE: &str = "That App-Id and App-Token do not match an active app. Check both values and try again.";
const MIN_FAILURE: Duration = Duration::from_millis(250);
/// An App-Id is a UUID; anything longer is not worth echoing back.
const APP_ID_ECHO_MAX: usize = 64;

#[derive(Template)]
#[template(path = "partner_center/sign_in.html")]
struct SignInPage<'a> {
    csrf: &'a str,
    app_id: &'a str,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignInForm {
    app_id: String,
    app_token: String,
    csrf_token: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignInQuery {
    ended: Option<String>,
    signed_out: Option<String>,
}

/// Renders the form and (re)sets the pre-session CSRF cookie its token pairs with.
fn page(status: StatusCode, csrf_token: &str, app_id: &str, error: Option<String>, notice: Option<&'static str>) -> Result<Response, PageError> {
    let html = SignInPage { csrf: csrf_token, app_id, error, notice }.render()?;
    let mut resp = (status, Html(html)).into_response();
    if let Ok(cookie) = set_cookie(csrf::PRE_SESSION_COOKIE, csrf_token, SameSite::Strict).parse() {
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(resp)
}

/// The sign-in page. Caller: anyone; a signed-in partner goes straight to the overview.
#[handler]
pub async fn show(req: &Request, state: Data<&AppState>, Query(query): Query<SignInQuery>) -> Result<Response, PageError> {
    if let Some(id) = read_cookie(req, session::COOKIE)
        && session::resume(&state, id).await?.is_some()
    {
        return Ok(Redirect::see_other(HOME_PATH).into_response());
    }
    let csrf_token = read_cookie(req, csrf::PRE_SESSION_COOKIE).map_or_else(csrf::new_token, str::to_owned);
    let notice = if query.signed_out.is_some() {
        Some("You have signed out.")
    } else if query.ended.is_some() {
        Some("Your session has ended. Sign in again to continue.")
    } else {
        None
    };
    page(StatusCode::OK, &csrf_token, "", None, notice)
}

/// Checks the credentials and opens a session. Caller: anyone holding the sign-in form.
#[handler]
pub async fn submit(req: &Request, state: Data<&AppState>, Form(form): Form<SignInForm>) -> Result<Response, PageError> {
    let cookie_token = read_cookie(req, csrf::PRE_SESSION_COOKIE).unwrap_or_default();
    if !csrf::matches(cookie_token, &form.csrf_token) {
        return Err(PageError::Csrf);
    }
    let app_id: String = form.app_id.trim().chars().take(APP_ID_ECHO_MAX).collect();
    let ip = crate::web::client_ip::client_ip(req, &state.settings.trusted_proxies);
    if let Some(wait) = sign_in_throttle::blocked_for(&state, &app_id, ip).await? {
        let minutes = (wait + 59) / 60;
        let message = format!("Too many failed sign-ins for this App-Id from your network. Try again in {minutes} minute{}.", if minutes == 1 { "" } else { "s" });
        let mut resp = page(StatusCode::TOO_MANY_REQUESTS, cookie_token, &app_id, Some(message), None)?;
        if let Ok(value) = wait.to_string().parse() {
            resp.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(resp);
    }
    let started = Instant::now();
    let token = SecretString::from(form.app_token);
    match apps::authenticate(&state.store, &state.clock, &form.app_id, &token).await {
        Ok(principal) => {
            // A new id at every sign-in; whatever session this browser had ends here.
            if let Some(old) = read_cookie(req, session::COOKIE) {
                session::close(&state, old).await?;
            }
            let id = session::open(&state, principal.app_id, &token).await?;
            tracing::info!(app_id = %principal.app_id, "partner center sign-in");
            let mut resp = Redirect::see_other(HOME_PATH).into_response();
            for cookie in [session::set_cookie(&id), crate::web::session::clear_cookie(csrf::PRE_SESSION_COOKIE, SameSite::Strict)] {
                if let Ok(value) = cookie.parse() {
                    resp.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            Ok(resp)
        }
        Err(ServiceError::Unauthenticated) => {
            // Not the typed App-Id: people paste tokens into the wrong field.
            tracing::info!(client = %ip, "partner center sign-in failed");
            sign_in_throttle::record_failure(&state, &app_id, ip).await?;
            tokio::time::sleep(MIN_FAILURE.saturating_sub(started.elapsed())).await;
            page(StatusCode::UNAUTHORIZED, cookie_token, &app_id, Some(FAILED_MESSAGE.to_owned()), None)
        }
        Err(other) => Err(other.into()),
    }
}

/// Ends the session. Caller: a signed-in partner (CSRF-checked).
#[handler]
pub async fn sign_out(req: &Request, state: Data<&AppState>, signed_in: PartnerSession, Form(form): Form<CsrfForm>) -> Result<Response, PageError> {
    signed_in.check_csrf(&form.csrf_token)?;
    if let Some(id) = read_cookie(req, session::COOKIE) {
        session::close(&state, id).await?;
    }
    let mut resp = Redirect::see_other(format!("{SIGN_IN_PATH}?signed_out=1")).into_response();
    if let Ok(value) = session::clear_cookie().parse() {
        resp.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(resp)
}
