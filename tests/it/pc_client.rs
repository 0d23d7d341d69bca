//! A browser-like client for the Partner Center: keeps cookies (including `Secure` ones,
//! which browsers send to http://127.0.0.1), follows no redirects, reads CSRF tokens.

use std::collections::BTreeMap;
use std::sync::Mutex;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::helpers::{Credentials, TestApp};

pub const SESSION_COOKIE: &str = "__Host-causeway_pc";

/// A response with its body read.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }

    pub fn location(&self) -> String {
        self.header("location")
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    }

    /// The value of the first hidden `csrf_token` field.
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self.body.find(marker).map(|i| i + marker.len()).expect("page has a csrf_token field");
        let end = self.body[start..].find('"').expect("csrf_token value ends");
        self.body[start..start + end].to_owned()
    }
}

pub struct PcClient {
    http: reqwest::Client,
    base: String,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl PcClient {
    pub fn new(app: &TestApp) -> Self {
        Self::at(app.client.clone(), app.url(""))
    }

    /// A client whose requests say, as a proxy would, that they come from `client`.
    pub fn forwarded_for(app: &TestApp, client: &str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", client.parse().unwrap());
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).default_headers(headers).build().unwrap();
        Self::at(http, app.url(""))
    }

    /// A client for a Causeway at `base` (`http://127.0.0.1:port`).
    pub fn at(http: reqwest::Client, base: String) -> Self {
        Self { http, base, cookies: Mutex::new(BTreeMap::new()) }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies.lock().unwrap().insert(name.to_owned(), value.to_owned());
    }

    pub fn forget_cookie(&self, name: &str) {
        self.cookies.lock().unwrap().remove(name);
    }

    fn cookie_header(&self) -> String {
        self.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn read(&self, resp: reqwest::Response) -> Page {
        let status = resp.status();
        let headers = resp.headers().clone();
        for raw in headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
            let pair = raw.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let mut jar = self.cookies.lock().unwrap();
                if value.is_empty() || raw.contains("Max-Age=0") {
                    jar.remove(name.trim());
                } else {
                    jar.insert(name.trim().to_owned(), value.to_owned());
                }
            }
        }
        let body = resp.text().await.unwrap();
        Page { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Page {
        let resp = self.http.get(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).send().await.unwrap();
        self.read(resp).await
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(fields)
            .send()
            .await
            .unwrap();
        self.read(resp).await
    }

    /// Loads the sign-in form and submits `app_id` / `app_token` with its CSRF token.
    pub async fn try_sign_in(&self, app_id: &str, app_token: &str) -> Page {
        let form = self.get("/partner-center/sign-in").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let csrf = form.csrf();
        self.post("/partner-center/sign-in", &[("app_id", app_id), ("app_token", app_token), ("csrf_token", &csrf)]).await
    }

    /// Signs in and returns the overview's CSRF token.
    pub async fn sign_in(&self, who: &Credentials) -> String {
        let done = self.try_sign_in(&who.app_id, &who.app_token).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        assert_eq!(done.location(), "/partner-center");
        let overview = self.get("/partner-center").await;
        assert_eq!(overview.status, StatusCode::OK);
        overview.csrf()
    }
}
