//! The demo's hosted-login directory: a second partner's IdM that is not OpenID Connect,
//! in the model of seed 000 (WESB ID). Its login page (a button per person) sends the
//! browser back with a one-time code bound to the site; Causeway exchanges the code at
//! `/api/service/exchange` with the site's service key. Mounted under `BASE_PATH` of the
//! demo IdM's server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use poem::http::StatusCode;
use poem::web::{Data, Form, Json, Query};
use poem::{get, handler, post, Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use url::Url;

use super::idp::pages::{self, LoginPage, SignedOutPage};
use super::people::{self, Person, PEOPLE};
use crate::clock::Clock;
use crate::crypto::random::url_safe_token;

/// Where the directory lives on the demo IdM's server.
pub const BASE_PATH: &str = "/directory";
const LOGIN_PATH: &str = "/connect/login";
pub const SIGNED_OUT_PATH: &str = "/signed-out";
/// Codes are "short-lived" in the seed; a demo click takes seconds.
const CODE_SECONDS: i64 = 120;

pub struct Directory {
    pub site_key: String,
    pub service_key: SecretString,
    /// The one approved callback URL (the seed's §3.2).
    pub callback: String,
    pub partner_name: String,
    pub cta_url: String,
    codes: Mutex<HashMap<String, (&'static Person, i64)>>,
    clock: Clock,
    content_security_policy: String,
}

impl Directory {
    pub fn new(site_key: String, service_key: SecretString, callback: String, partner_name: String, cta_url: String, clock: Clock) -> anyhow::Result<Self> {
        let origin = Url::parse(&callback)?.origin().ascii_serialization();
        let content_security_policy = format!("default-src 'none'; style-src 'self'; form-action 'self' {origin}; frame-ancestors 'none'; base-uri 'none'");
        Ok(Self { site_key, service_key, callback, partner_name, cta_url, codes: Mutex::default(), clock, content_security_policy })
    }

    fn refuse(&self, message: &str) -> Response {
        let page = pages::ErrorPage { stylesheet: pages::STYLESHEET_PATH, message };
        pages::respond_with(&self.content_security_policy, StatusCode::BAD_REQUEST, &page)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginRequest {
    site_key: String,
    redirect_uri: String,
    state: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Approval {
    #[serde(flatten)]
    request: LoginRequest,
    person: String,
}

impl LoginRequest {
    /// The seed's §7 step 7: an unknown site or an unapproved callback is refused outright.
    fn check(&self, directory: &Directory) -> Result<(), &'static str> {
        if self.site_key != directory.site_key {
            return Err("This sign-in request names a site the directory does not know.");
        }
        if self.redirect_uri != directory.callback {
            return Err("This sign-in request asks to return to a callback URL the site did not have approved.");
        }
        Ok(())
    }
}

/// The hosted login page. Caller: a browser sent by Causeway's CTA.
#[handler]
fn show(Query(request): Query<LoginRequest>, directory: Data<&Arc<Directory>>) -> Response {
    if let Err(message) = request.check(&directory) {
        return directory.refuse(message);
    }
    let page = LoginPage {
        stylesheet: pages::STYLESHEET_PATH,
        partner_name: &directory.partner_name,
        action: "/directory/connect/login",
        fields: vec![("site_key", &request.site_key), ("redirect_uri", &request.redirect_uri), ("state", &request.state)],
        people: &PEOPLE,
        fineprint: "This is a hosted login, not OpenID Connect: signing in sends Causeway a one-time code, which it exchanges server to server with the site's service key for the person's directory record. The controller's e-mail matches the account's legal entity (financial admin); the moderator has access through a grant on their directory id.",
    };
    pages::respond_with(&directory.content_security_policy, StatusCode::OK, &page)
}

/// A person's button: back to the site's callback with a one-time code. Caller: a browser.
#[handler]
fn approve(Form(approval): Form<Approval>, directory: Data<&Arc<Directory>>) -> Response {
    if let Err(message) = approval.request.check(&directory) {
        return directory.refuse(message);
    }
    let Some(person) = people::find(&approval.person) else { return directory.refuse("Choose one of the people on the page.") };
    let code = url_safe_token(32);
    let now = directory.clock.now();
    {
        let mut codes = directory.codes.lock().unwrap_or_else(|p| p.into_inner());
        codes.retain(|_, (_, expires)| *expires > now);
        codes.insert(code.clone(), (person, now + CODE_SECONDS));
    }
    let mut target = match Url::parse(&directory.callback) {
        Ok(url) => url,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    target.query_pairs_mut().append_pair("code", &code).append_pair("state", &approval.request.state);
    Response::builder().status(StatusCode::SEE_OTHER).header("location", target.as_str()).header("cache-control", "no-store").finish()
}

/// The server-to-server exchange (§7 step 9). Caller: Causeway, with the site's key.
#[handler]
async fn exchange(req: &Request, body: Json<Value>, directory: Data<&Arc<Directory>>) -> Response {
    let presented = req.headers().get("x-service-key").map(|v| v.as_bytes()).unwrap_or_default();
    let expected = directory.service_key.expose_secret().as_bytes();
    // §9.1 and §9.2: a missing or wrong key is 401, compared in constant time.
    if presented.is_empty() || !bool::from(presented.ct_eq(expected)) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "Invalid service key."}))).into_response();
    }
    let code = body.get("code").and_then(Value::as_str).unwrap_or_default();
    let now = directory.clock.now();
    // §9.4: single use — the code is removed as it is read.
    let taken = directory.codes.lock().unwrap_or_else(|p| p.into_inner()).remove(code);
    match taken {
        Some((person, expires)) if expires > now => Json(json!({"data": {
            "user_id": person.directory_id,
            "email": person.email,
            "first_name": person.given_name,
            "last_name": person.family_name,
            "full_name": person.name(),
            "status": "active",
        }}))
        .into_response(),
        _ => (StatusCode::BAD_REQUEST, Json(json!({"message": "Invalid or expired code."}))).into_response(),
    }
}

/// The partner's product after sign-out (the directory partner's logout URL).
#[handler]
fn signed_out(directory: Data<&Arc<Directory>>) -> Response {
    let page = SignedOutPage { stylesheet: pages::STYLESHEET_PATH, partner_name: &directory.partner_name, cta_url: &directory.cta_url };
    pages::respond_with(&directory.content_security_policy, StatusCode::OK, &page)
}

/// Mounted at `BASE_PATH`.
pub fn routes(directory: Arc<Directory>) -> impl Endpoint<Output = Response> {
    Route::new()
        .at(LOGIN_PATH, get(show).post(approve))
        .at("/api/service/exchange", post(exchange))
        .at(SIGNED_OUT_PATH, get(signed_out))
        .data(directory)
        .map_to_response()
}
