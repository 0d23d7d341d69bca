//! The SSO surface: the CTA partners link merchants to, the callback their IdM returns
//! to, and logout. Failures render a partner-branded error page with a code and a
//! correlation id, and the same detail in the browser console for the partner's developers.

use askama::Template;
use poem::http::{header, StatusCode};
use poem::web::{Data, Form, Html, Path, Query};
use poem::{get, handler, post, IntoResponse, Request, Response, Route};
use serde::Deserialize;

use crate::domain::ids::AppId;
use crate::domain::landing::{Landing, Target};
use crate::domain::sso_error::SsoError;
use crate::portal::{brand, BrandView};
use crate::services::login::{self, CallbackParams, Failure, Purpose, BROWSER_COOKIE};
use crate::services::{backchannel_logout, deep_links, merchant_sessions};
use crate::store::merchants::SessionRow;
use crate::state::AppState;
use crate::web::correlation;
use crate::web::session::{clear_cookie, read_cookie, set_cookie, SameSite};

#[derive(Template)]
#[template(path = "sso/error.html")]
struct ErrorPage {
    brand: BrandView,
    message: &'static str,
    code: String,
    correlation_id: String,
    console_detail: String,
    /// The app's CTA, when starting again may help (not for a suspended or unconfigured app).
    retry_url: Option<String>,
}

fn status_of(error: &SsoError) -> StatusCode {
    match error {
        SsoError::AppUnknown => StatusCode::NOT_FOUND,
        SsoError::TooManySignIns { .. } => StatusCode::TOO_MANY_REQUESTS,
        SsoError::AppSuspended | SsoError::AccountOtherPartner | SsoError::AccountUnknown => StatusCode::FORBIDDEN,
        SsoError::IdmUnavailable { .. } | SsoError::TokenEndpointFailed { .. } => StatusCode::BAD_GATEWAY,
        SsoError::LinkExpired => StatusCode::GONE,
        SsoError::StepUpRequired => StatusCode::FORBIDDEN,
        SsoError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

async fn error_page(state: &AppState, failure: Failure) -> Response {
    let correlation_id = correlation::current();
    let code = failure.error.code();
    tracing::warn!(code = %code, app = ?failure.app.map(|a| a.to_string()), "SSO failed");
    let brand = brand(state, failure.app).await;
    // JSON inside <script type="application/json">: "</" is escaped so no value can close
    // the element.
    let console_detail = serde_json::json!({
        "error_code": code,
        "fix": failure.error.fix_hint(),
        "missing_claim": failure.error.missing_claim(),
        "correlation_id": correlation_id,
        "app_id": failure.app.map(|a| a.to_string()),
    })
    .to_string()
    .replace("</", "<\\/");
    let retry_url = failure
        .app
        .filter(|_| !matches!(failure.error, SsoError::AppSuspended | SsoError::IdmNotConfigured))
        .map(|app| format!("/sso/oidc/{app}"));
    let page = ErrorPage { brand, message: failure.error.human_message(), code, correlation_id, console_detail, retry_url };
    match page.render() {
        Ok(html) => {
            let mut response = (status_of(&failure.error), Html(html)).into_response();
            if let SsoError::TooManySignIns { retry_after } = failure.error
                && let Ok(value) = retry_after.to_string().parse()
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "SSO error page failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The call-to-action: starts a login and sends the browser to the partner's IdM.
/// Caller: a merchant's browser, from a link in the partner's product.
#[handler]
async fn cta(Path(app): Path<String>, req: &Request, state: Data<&AppState>) -> Response {
    start(&state, req, &app, &Purpose::SignIn).await
}

/// A partner's test sign-in (the `url` of `POST /partner/idm/test_sign_in`): the same start.
/// Caller: the partner's staff, in a browser.
#[handler]
async fn test_cta(Path((app, test)): Path<(String, String)>, req: &Request, state: Data<&AppState>) -> Response {
    start(&state, req, &app, &Purpose::Test(test)).await
}

/// Starts a login for `purpose` in the requesting browser: the redirect to the IdM, or the
/// branded page saying why not.
async fn start(state: &AppState, req: &Request, app: &str, purpose: &Purpose) -> Response {
    let client = crate::web::client_ip::client_ip(req, &state.settings.trusted_proxies);
    let begun = login::begin(state, app, purpose, read_cookie(req, BROWSER_COOKIE), client, &correlation::current()).await;
    match begun {
        Ok(begun) => {
            let mut response = Response::builder().status(StatusCode::FOUND).header(header::LOCATION, begun.redirect.as_str());
            if let Some(browser) = begun.new_browser_id {
                response = response.header(header::SET_COOKIE, set_cookie(BROWSER_COOKIE, &browser, SameSite::Lax));
            }
            response.header(header::CACHE_CONTROL, "no-store").finish()
        }
        Err(failure) => error_page(state, failure).await,
    }
}

/// The redirect URI: completes the login and opens a Merchant Center session.
/// Caller: a merchant's browser, redirected by the partner's IdM.
#[handler]
async fn callback(Path(app): Path<String>, Query(params): Query<CallbackParams>, req: &Request, state: Data<&AppState>) -> Response {
    let completed = login::complete(&state, &app, &params, read_cookie(req, BROWSER_COOKIE), &correlation::current()).await;
    if let (Ok(login::Outcome::SignedIn(_)), Some(previous)) = (&completed, read_cookie(req, merchant_sessions::COOKIE))
        && let Err(err) = merchant_sessions::replaced(&state, previous).await
    {
        tracing::warn!(error = %err, "the session a new sign-in replaced could not be ended");
    }
    match completed {
        Ok(login::Outcome::Tested { id, .. }) => {
            Response::builder().status(StatusCode::SEE_OTHER).header(header::LOCATION, format!("/partner-center/test-sign-ins/{id}")).finish()
        }
        Ok(login::Outcome::SignedIn(done)) => Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, match done.landing {
                Some(landing) if landing.step_up => format!("{}?signed_in_again=1", crate::portal::page_path(landing.target)),
                Some(landing) => crate::portal::page_path(landing.target).to_owned(),
                None if done.choosing => "/merchant-center/accounts".to_owned(),
                None => "/merchant-center".to_owned(),
            })
            .header(header::SET_COOKIE, set_cookie(merchant_sessions::COOKIE, &done.session_id, SameSite::Lax))
            .header(header::SET_COOKIE, set_cookie(merchant_sessions::PARTNER_COOKIE, &done.app.to_string(), SameSite::Lax))
            .header(header::CACHE_CONTROL, "no-store")
            .finish(),
        // Back from the Merchant Center lands on the used callback URL again: a browser
        // signed in to this app just goes on to its Merchant Center.
        Err(failure) if failure.error == SsoError::StateReplayed && signed_in_to(req, &state, failure.app).await => {
            Response::builder().status(StatusCode::SEE_OTHER).header(header::LOCATION, "/merchant-center").finish()
        }
        Err(failure) => error_page(&state, failure).await,
    }
}

/// The live Merchant Center session the request carries, if any.
async fn session_of(req: &Request, state: &AppState) -> Option<SessionRow> {
    merchant_sessions::find(state, read_cookie(req, merchant_sessions::COOKIE)?).await.ok().flatten()
}

/// Whether the request carries a live Merchant Center session of `app`.
async fn signed_in_to(req: &Request, state: &AppState, app: Option<AppId>) -> bool {
    matches!((app, session_of(req, state).await), (Some(app), Some(session)) if session.app_id() == app)
}

/// A partner's deep link (`POST /accounts/{id}/links`): used once, then through the IdM to
/// its page — or straight there when this browser is signed in to that account already.
/// Caller: a merchant's browser, from a link in the partner's product or e-mail.
#[handler]
async fn deep_link(Path((app_raw, token)): Path<(String, String)>, req: &Request, state: Data<&AppState>) -> Response {
    let Ok(app) = app_raw.parse::<AppId>() else { return error_page(&state, Failure { app: None, error: SsoError::AppUnknown }).await };
    let (account, target) = match deep_links::open(&state, app, &token).await {
        Ok(Some(found)) => found,
        Ok(None) => return error_page(&state, login::refused(&state, Failure { app: Some(app), error: SsoError::LinkExpired }, &correlation::current()).await).await,
        Err(_) => return error_page(&state, Failure { app: Some(app), error: SsoError::Internal }).await,
    };
    if let Some(SessionRow::Bound(session)) = session_of(req, &state).await
        && session.app_id == app
        && session.account_id == account
    {
        return Response::builder().status(StatusCode::SEE_OTHER).header(header::LOCATION, crate::portal::page_path(target)).finish();
    }
    start(&state, req, &app_raw, &Purpose::Land(Landing { account, target, step_up: false })).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StepUpQuery {
    page: String,
}

/// Step-up (contract: "Step-up before money changes"): the signed-in person authenticates
/// at the IdM again and comes back to the form. Caller: the KYC or payout page.
#[handler]
async fn step_up(Query(query): Query<StepUpQuery>, req: &Request, state: Data<&AppState>) -> Response {
    let Some(SessionRow::Bound(session)) = session_of(req, &state).await else {
        return Response::builder().status(StatusCode::SEE_OTHER).header(header::LOCATION, "/merchant-center").finish();
    };
    let target = match Target::parse(&query.page) {
        Some(target @ (Target::Kyc | Target::Payout)) => target,
        _ => Target::Overview,
    };
    start(&state, req, &session.app_id.to_string(), &Purpose::Land(Landing { account: session.account_id, target, step_up: true })).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LogoutTokenForm {
    logout_token: String,
}

/// OpenID Connect Back-Channel Logout 1.0 §2.5–2.8: the partner's IdM posts a logout token;
/// 200 once its sessions ended (or none matched), 400 `invalid_request` naming the broken
/// rule, never cached. Caller: the partner's IdM, server to server.
#[handler]
async fn logout_from_idm(Path(app): Path<String>, form: poem::Result<Form<LogoutTokenForm>>, state: Data<&AppState>) -> Response {
    let token = form.map(|Form(f)| f.logout_token).unwrap_or_default();
    let answer = if token.is_empty() {
        Err(backchannel_logout::Refused::Invalid("the body must be a form with logout_token"))
    } else {
        backchannel_logout::receive(&state, &app, &token).await
    };
    let (status, body) = match answer {
        Ok(_) => (StatusCode::OK, String::new()),
        Err(backchannel_logout::Refused::Invalid(why)) => {
            // Anyone can post here: the request line is logged already, the reason only at debug.
            tracing::debug!(app = %crate::domain::values::visible(&app, 64), why, "back-channel logout refused");
            (StatusCode::BAD_REQUEST, serde_json::json!({"error": "invalid_request", "error_description": why}).to_string())
        }
        Err(backchannel_logout::Refused::Unavailable) => {
            (StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({"error": "temporarily_unavailable", "error_description": "try again shortly"}).to_string())
        }
    };
    let mut response = Response::builder().status(status).header(header::CACHE_CONTROL, "no-store");
    if !body.is_empty() {
        response = response.content_type("application/json");
    }
    response.body(body)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LogoutForm {
    csrf_token: String,
}

/// Ends the Merchant Center session and sends the browser to the partner's logout URL,
/// through the IdM's end-session endpoint when it has one (OIDC RP-Initiated Logout).
/// Caller: a signed-in merchant (form with the session's CSRF token).
#[handler]
async fn logout(req: &Request, Form(form): Form<LogoutForm>, state: Data<&AppState>) -> Response {
    let Some(cookie) = read_cookie(req, merchant_sessions::COOKIE) else {
        return Response::builder().status(StatusCode::SEE_OTHER).header(header::LOCATION, "/merchant-center").finish();
    };
    let session = match merchant_sessions::find(&state, cookie).await {
        Ok(Some(session)) if crate::web::csrf::matches(session.csrf_token(), &form.csrf_token) => session,
        Ok(Some(session)) => return crate::portal::expired_form(&session),
        _ => return Response::builder().status(StatusCode::SEE_OTHER).header(header::LOCATION, "/merchant-center").finish(),
    };
    let target = match merchant_sessions::close(&state, cookie).await {
        Ok(hint) => login::logout_target(&state, session.app_id(), hint.as_ref()).await,
        Err(_) => "/merchant-center".to_owned(),
    };
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, target)
        .header(header::SET_COOKIE, clear_cookie(merchant_sessions::COOKIE, SameSite::Lax))
        .finish()
}

/// Mounted at `/sso`.
pub fn routes() -> impl poem::Endpoint<Output = Response> {
    use poem::EndpointExt;
    Route::new()
        .at("/oidc/:app", get(cta))
        .at("/oidc/:app/callback", get(callback))
        .at("/oidc/:app/test/:test", get(test_cta))
        .at("/oidc/:app/links/:token", get(deep_link))
        .at("/oidc/:app/backchannel_logout", post(logout_from_idm))
        .at("/step-up", get(step_up))
        .at("/logout", post(logout))
        .catch_all_error(crate::portal::off_path::render_poem_error)
        .around(crate::web::headers::page_headers)
        .map_to_response()
}
