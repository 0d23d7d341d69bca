//! A hosted-login IdM written from seed 000 (WESB ID): registered sites with approved
//! callback URLs and one active service key each (rotation invalidates the old one at
//! once), a hosted login page, short-lived single-use codes bound to one site and one
//! callback, and the server-to-server exchange that answers 401 to a missing or wrong key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::StatusCode;
use poem::web::{Html, Json, Redirect};
use poem::{get, post, IntoResponse, Response, Route};
use serde_json::{json, Value};

use crate::support::server::TestServer;

/// How long a code lives (the seed: "short-lived").
const CODE_SECONDS: u64 = 60;

#[derive(Clone, Debug)]
pub struct Site {
    pub site_key: String,
    pub callbacks: Vec<String>,
    pub service_key: String,
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: u64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: &'static str,
}

/// How the exchange endpoint answers, beside the seed's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exchange {
    Normal,
    Status(u16),
    NotJson,
    Hang,
}

/// A code is issued only for an approved callback of its site (the login page checks), and
/// is spent by the exchange of that site's key.
struct Code {
    site_key: String,
    user: u64,
    issued: Instant,
    used: bool,
}

struct Directory {
    sites: Vec<Site>,
    users: Vec<User>,
    codes: HashMap<String, Code>,
    exchange: Exchange,
    exchanges: u32,
}

pub struct HostedIdm {
    pub base: String,
    directory: Arc<Mutex<Directory>>,
    _server: TestServer,
}

fn page(status: StatusCode, body: String) -> Response {
    (status, Html(format!("<!doctype html><meta charset=\"utf-8\"><title>WESB ID</title>{body}"))).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;")
}

fn query(req: &poem::Request) -> HashMap<String, String> {
    req.uri().query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

impl HostedIdm {
    pub async fn start(sites: Vec<Site>, users: Vec<User>) -> Self {
        let directory = Arc::new(Mutex::new(Directory { sites, users, codes: HashMap::new(), exchange: Exchange::Normal, exchanges: 0 }));
        let (d1, d2, d3) = (directory.clone(), directory.clone(), directory.clone());
        let server = TestServer::start(move |_| {
            Route::new()
                .at(
                    "/connect/login",
                    get(poem::endpoint::make_sync(move |req| {
                        let q = query(&req);
                        let dir = d1.lock().unwrap();
                        let (site_key, redirect_uri) = (q.get("site_key").cloned().unwrap_or_default(), q.get("redirect_uri").cloned().unwrap_or_default());
                        let Some(site) = dir.sites.iter().find(|s| s.site_key == site_key) else {
                            return page(StatusCode::BAD_REQUEST, "<h1>Unknown site</h1>".into());
                        };
                        // §9.3: a callback URL the site did not have approved is rejected.
                        if !site.callbacks.contains(&redirect_uri) {
                            return page(StatusCode::BAD_REQUEST, "<h1>This callback URL is not approved for the site</h1>".into());
                        }
                        let hidden = |name: &str, value: &str| format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape(value));
                        page(
                            StatusCode::OK,
                            format!(
                                "<h1>Sign in to WESB ID</h1><form method=\"post\" action=\"/connect/login\">{}{}{}<input name=\"login\" type=\"email\"><input name=\"password\" type=\"password\"><button type=\"submit\">Sign in</button></form>",
                                hidden("site_key", &site_key),
                                hidden("redirect_uri", &redirect_uri),
                                hidden("state", q.get("state").map(String::as_str).unwrap_or_default())
                            ),
                        )
                    }))
                    .post(poem::endpoint::make(move |mut req| {
                        let directory = d2.clone();
                        async move {
                            let body = req.take_body().into_string().await.unwrap_or_default();
                            let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
                            let mut dir = directory.lock().unwrap();
                            let field = |name: &str| form.get(name).cloned().unwrap_or_default();
                            let approved = dir.sites.iter().any(|s| s.site_key == field("site_key") && s.callbacks.contains(&field("redirect_uri")));
                            let user = dir.users.iter().find(|u| u.email.eq_ignore_ascii_case(&field("login"))).map(|u| u.id);
                            let (true, Some(user)) = (approved, user) else {
                                return page(StatusCode::UNAUTHORIZED, "<h1>Wrong e-mail or password</h1>".into());
                            };
                            let code = uuid::Uuid::new_v4().simple().to_string();
                            dir.codes.insert(code.clone(), Code { site_key: field("site_key"), user, issued: Instant::now(), used: false });
                            let mut target = url::Url::parse(&field("redirect_uri")).unwrap();
                            target.query_pairs_mut().append_pair("code", &code);
                            if !field("state").is_empty() {
                                target.query_pairs_mut().append_pair("state", &field("state"));
                            }
                            Redirect::see_other(target.as_str()).into_response()
                        }
                    })),
                )
                .at(
                    "/api/service/exchange",
                    post(poem::endpoint::make(move |mut req| {
                        let directory = d3.clone();
                        async move {
                            let key = req.headers().get("x-service-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                            let body: Value = serde_json::from_slice(&req.take_body().into_vec().await.unwrap_or_default()).unwrap_or(Value::Null);
                            let mode = {
                                let mut dir = directory.lock().unwrap();
                                dir.exchanges += 1;
                                dir.exchange
                            };
                            match mode {
                                Exchange::Status(status) => return StatusCode::from_u16(status).unwrap().into_response(),
                                Exchange::NotJson => return Response::builder().content_type("application/json").body("<html>maintenance</html>"),
                                Exchange::Hang => {
                                    tokio::time::sleep(Duration::from_secs(10)).await;
                                    return StatusCode::GATEWAY_TIMEOUT.into_response();
                                }
                                Exchange::Normal => {}
                            }
                            let mut dir = directory.lock().unwrap();
                            // §9.1/9.2: a missing or invalid key is 401.
                            let Some(site) = dir.sites.iter().find(|s| !key.is_empty() && s.service_key == key).map(|s| s.site_key.clone()) else {
                                return (StatusCode::UNAUTHORIZED, Json(json!({"message": "Invalid service key."}))).into_response();
                            };
                            let code = body.get("code").and_then(Value::as_str).unwrap_or_default().to_owned();
                            let refused = || (StatusCode::BAD_REQUEST, Json(json!({"message": "Invalid or expired code."}))).into_response();
                            let Some(entry) = dir.codes.get_mut(&code) else { return refused() };
                            // §9.4: single use; §9.5: bound to its site.
                            if entry.used || entry.site_key != site || entry.issued.elapsed() > Duration::from_secs(CODE_SECONDS) {
                                return refused();
                            }
                            entry.used = true;
                            let user_id = entry.user;
                            let user = dir.users.iter().find(|u| u.id == user_id).unwrap().clone();
                            Json(json!({"data": {
                                "wesb_user_id": user.id, "email": user.email,
                                "full_name": format!("{} {}", user.first_name, user.last_name),
                                "first_name": user.first_name, "last_name": user.last_name, "status": user.status,
                                "role": "staff", "department": "Technology", "job_title": "Developer", "profile_photo_url": null
                            }}))
                            .into_response()
                        }
                    })),
                )
        })
        .await;
        Self { base: server.base.clone(), directory, _server: server }
    }

    /// The admin's "rotate": a new key, and the old one stops working at once (§3.3).
    pub fn rotate_key(&self, site_key: &str) -> String {
        let key = format!("wesb-{}", uuid::Uuid::new_v4().simple());
        let mut dir = self.directory.lock().unwrap();
        dir.sites.iter_mut().find(|s| s.site_key == site_key).unwrap().service_key = key.clone();
        key
    }

    pub fn set_exchange(&self, mode: Exchange) {
        self.directory.lock().unwrap().exchange = mode;
    }

    pub fn set_status(&self, email: &str, status: &'static str) {
        let mut dir = self.directory.lock().unwrap();
        dir.users.iter_mut().find(|u| u.email == email).unwrap().status = status;
    }

    pub fn exchanges(&self) -> u32 {
        self.directory.lock().unwrap().exchanges
    }

    /// A code issued for `site_key` as if `email` had signed in there.
    pub fn issue_code(&self, site_key: &str, email: &str) -> String {
        let mut dir = self.directory.lock().unwrap();
        let user = dir.users.iter().find(|u| u.email == email).unwrap().id;
        let code = uuid::Uuid::new_v4().simple().to_string();
        dir.codes.insert(code.clone(), Code { site_key: site_key.into(), user, issued: Instant::now(), used: false });
        code
    }
}

pub fn user(id: u64, email: &str, first_name: &str) -> User {
    User { id, email: email.into(), first_name: first_name.into(), last_name: "Staff".into(), status: "active" }
}
