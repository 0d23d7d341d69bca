//! Two `causeway serve` processes on one database behave as one service: a login started
//! on one replica finishes on the other, either replica serves the session, one-time
//! flow state is spent for both, and a logout on one ends the session on both.
//! Meaningful on PostgreSQL (CAUSEWAY_TEST_POSTGRES_URL, both processes given the same
//! CAUSEWAY_MASTER_KEY); on SQLite both processes share one database file and its key file.

use std::collections::BTreeMap;
use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::causeway_json;
use crate::form_browser::FormBrowser;
use crate::helpers::*;
use crate::idp::OidcProvider;
use crate::support::serve::Serving;

const LOGOUT_URL: &str = "https://partner.example/after-logout";
const BROWSER_COOKIE: &str = causeway::services::login::BROWSER_COOKIE;
pub(crate) const SESSION_COOKIE: &str = causeway::services::merchant_sessions::COOKIE;

/// A `causeway serve` subprocess; killed when dropped.
pub(crate) struct Replica {
    pub(crate) base: String,
    pub(crate) _serving: Serving,
}

impl Replica {
    /// Starts a replica on `db`, on a port it picks, whose public URL is `public_url`.
    async fn start(db: &TestDatabase, public_url: &str) -> Self {
        let mut command = crate::support::serve::command(&db.url);
        command
            .env("CAUSEWAY_PUBLIC_URL", public_url)
            .env("CAUSEWAY_ALLOW_INSECURE_IDM", "true")
            .env("CAUSEWAY_LOG", "warn")
            .env("CAUSEWAY_API_RATE_PER_SECOND", "100000")
            .env("CAUSEWAY_API_RATE_BURST", "100000")
            .env("CAUSEWAY_DB_POOL_SIZE", "4")
            .envs(db.env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let serving = Serving::start(command).await;
        Self { base: serving.base.clone(), _serving: serving }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

pub(crate) struct Cluster {
    pub(crate) a: Replica,
    pub(crate) b: Replica,
    pub(crate) app: Credentials,
    pub(crate) account_id: String,
    pub(crate) idp: OidcProvider,
    /// The redirect URI both replicas send to the IdM (built from replica A's URL).
    pub(crate) callback: String,
    pub(crate) _db: TestDatabase,
}

fn api(client: &reqwest::Client, method: reqwest::Method, url: String, who: &Credentials) -> reqwest::RequestBuilder {
    client.request(method, url).header("App-Id", &who.app_id).header("App-Token", &who.app_token).header("Api-Version", "3.0")
}

/// An app created by the operator CLI, replicas A and B on one database (both with A's
/// public URL), an account onboarded through A, and the IdM configured through B.
pub(crate) async fn cluster() -> Cluster {
    let db = TestDatabase::new().await;
    let created = causeway_json(&db.url, &["app", "create", "--name", "Replicated Platform", "--json"]);
    let app = Credentials { app_id: created["app_id"].as_str().unwrap().into(), app_token: created["app_token"].as_str().unwrap().into() };
    // Both behind one public URL, as behind a deployment's load balancer; the test sends
    // each request to the replica it means. A starts first: on SQLite it creates the key
    // file B then reads.
    let public_url = "http://causeway.replicas.example";
    let a = Replica::start(&db, public_url).await;
    let b = Replica::start(&db, public_url).await;
    assert_ne!(a.base, b.base);

    let client = reqwest::Client::new();
    let le: Value = api(&client, reqwest::Method::POST, a.url("/legal_entities"), &app)
        .json(&json!({"country": "US", "controller": {"email": "alice@shop.example", "email_is_verified": true}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = api(&client, reqwest::Method::POST, a.url("/accounts"), &app).json(&json!({"legal_entity_id": le["id"], "name": "Corner Shop"})).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let account_id = resp.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

    let callback = format!("{public_url}/sso/oidc/{}/callback", app.app_id);
    let idp = OidcProvider::start(json!({
        "clients": [{"client_id": "causeway", "client_secret": "s3cret", "redirect_uris": [callback],
                     "post_logout_redirect_uris": [LOGOUT_URL], "token_endpoint_auth_method": "client_secret_basic",
                     "id_token_signed_response_alg": "ES256"}],
        "accounts": [{"sub": "alice", "email": "alice@shop.example", "email_verified": true, "given_name": "Alice", "family_name": "Merchant",
                      "claims": {"https://partner.example/wepay_account_id": account_id}}]
    }))
    .await;
    let config = json!({"issuer": idp.issuer, "client_id": "causeway", "client_secret": "s3cret",
        "token_endpoint_auth_method": "client_secret_basic", "domain": "partner.example", "logout_url": LOGOUT_URL});
    let resp = api(&client, reqwest::Method::PUT, b.url("/partner/idm"), &app).json(&config).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{}", resp.text().await.unwrap());
    // Both replicas report the redirect URI built from the one public URL.
    for replica in [&a, &b] {
        let idm: Value = api(&client, reqwest::Method::GET, replica.url("/partner/idm"), &app).send().await.unwrap().json().await.unwrap();
        assert_eq!(idm["redirect_uri"], callback.as_str(), "{idm}");
    }
    Cluster { a, b, app, account_id, idp, callback, _db: db }
}

/// A browser's side of Causeway: its cookies for Causeway's host (kept by name, shown to
/// any replica, and readable by the test), redirects not followed. The IdM's login pages
/// are driven by a `FormBrowser`, which keeps the IdM's cookies.
pub(crate) struct Browser {
    http: reqwest::Client,
    pub(crate) cookies: BTreeMap<String, String>,
    idm: FormBrowser,
}

impl Browser {
    pub(crate) fn new() -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, cookies: BTreeMap::new(), idm: FormBrowser::new() }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> (StatusCode, Option<String>, String) {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let resp = req.header("Cookie", cookie).send().await.unwrap();
        for value in resp.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
            let (name, rest) = value.split_once('=').unwrap();
            let val = rest.split(';').next().unwrap_or_default();
            if val.is_empty() || value.to_ascii_lowercase().contains("max-age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), val.to_owned());
            }
        }
        let status = resp.status();
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        (status, location, resp.text().await.unwrap_or_default())
    }

    pub(crate) async fn get(&mut self, url: &str) -> (StatusCode, Option<String>, String) {
        let req = self.http.get(url);
        self.send(req).await
    }

    async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> (StatusCode, Option<String>, String) {
        let req = self.http.post(url).form(form);
        self.send(req).await
    }
}

impl Cluster {
    pub(crate) fn cta(&self, on: &Replica) -> String {
        on.url(&format!("/sso/oidc/{}", self.app.app_id))
    }

    /// Starts a login at `start`'s CTA, signs in at the IdM, and returns the IdM's redirect
    /// back to Causeway with its host and port pointed at `finish`.
    pub(crate) async fn callback_on(&self, browser: &mut Browser, start: &Replica, finish: &Replica) -> String {
        let (status, authorize, page) = browser.get(&self.cta(start)).await;
        assert_eq!(status, StatusCode::FOUND, "{page}");
        let authorize = authorize.unwrap();
        assert!(authorize.starts_with(&self.idp.issuer), "{authorize}");
        assert!(browser.cookies.contains_key(BROWSER_COOKIE), "the CTA binds the flow to this browser");
        let mut url = browser.idm.run_until(&authorize, &self.callback, &[("login", "alice"), ("password", "any")]).await;
        let target = url::Url::parse(&finish.base).unwrap();
        url.set_host(target.host_str()).unwrap();
        url.set_port(target.port()).unwrap();
        url.to_string()
    }

    /// A whole login: CTA on `start`, callback on `finish`.
    pub(crate) async fn sign_in(&self, browser: &mut Browser, start: &Replica, finish: &Replica) {
        let callback = self.callback_on(browser, start, finish).await;
        assert!(callback.starts_with(&finish.base), "{callback}");
        let (status, location, page) = browser.get(&callback).await;
        assert_eq!(status, StatusCode::FOUND, "the login started on one replica completes on the other: {page}");
        assert_eq!(location.as_deref(), Some("/merchant-center"));
        assert!(browser.cookies.contains_key(SESSION_COOKIE));
    }

    /// The Merchant Center on `on`: (status, page).
    pub(crate) async fn merchant_center(&self, browser: &mut Browser, on: &Replica) -> (StatusCode, String) {
        let (status, _, page) = browser.get(&on.url("/merchant-center")).await;
        (status, page)
    }

    pub(crate) fn assert_shows_account(&self, (status, page): (StatusCode, String), replica: &str) {
        assert_eq!(status, StatusCode::OK, "replica {replica}: {page}");
        assert!(page.contains("Corner Shop") && page.contains(&self.account_id), "replica {replica} shows the account: {page}");
    }
}

fn error_code(page: &str) -> String {
    let marker = "Error code</dt><dd><code>";
    let start = page.find(marker).map(|i| i + marker.len()).unwrap_or_else(|| panic!("no error page: {page}"));
    page[start..start + page[start..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn a_login_started_on_one_replica_finishes_on_the_other() {
    let c = cluster().await;
    let mut browser = Browser::new();
    // CTA on A (A stores the flow and binds it to the browser), callback on B.
    let callback = c.callback_on(&mut browser, &c.a, &c.b).await;
    let (status, location, page) = browser.get(&callback).await;
    assert_eq!(status, StatusCode::FOUND, "B completes the login A started: {page}");
    assert_eq!(location.as_deref(), Some("/merchant-center"));
    // The one session cookie opens the Merchant Center on both replicas.
    c.assert_shows_account(c.merchant_center(&mut browser, &c.b).await, "B");
    c.assert_shows_account(c.merchant_center(&mut browser, &c.a).await, "A");

    // B spent the flow's state for both replicas: replaying the callback on A is refused
    // (a browser without the session; the signed-in one is sent on to its Merchant Center).
    let on_a = callback.replacen(&c.b.base, &c.a.base, 1);
    let (status, _, page) = Browser::new().get(&on_a).await;
    assert_eq!((status, error_code(&page).as_str()), (StatusCode::BAD_REQUEST, "state_replayed"));
    let (status, location, _) = browser.get(&on_a).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/merchant-center")));

    // And the other way round, in another browser: CTA on B, callback on A.
    let mut other = Browser::new();
    c.sign_in(&mut other, &c.b, &c.a).await;
    c.assert_shows_account(c.merchant_center(&mut other, &c.a).await, "A");
    c.assert_shows_account(c.merchant_center(&mut other, &c.b).await, "B");
    assert_ne!(other.cookies[SESSION_COOKIE], browser.cookies[SESSION_COOKIE]);

    // A flow started on A is bound to its browser on B too: another browser presenting
    // the callback on B is refused.
    let mut victim = Browser::new();
    let callback = c.callback_on(&mut victim, &c.a, &c.b).await;
    let (_, _, page) = Browser::new().get(&callback).await;
    assert_eq!(error_code(&page), "flow_other_browser");
}

#[tokio::test]
async fn a_logout_on_one_replica_ends_the_session_on_the_other() {
    let c = cluster().await;
    let mut browser = Browser::new();
    c.sign_in(&mut browser, &c.a, &c.b).await;
    c.assert_shows_account(c.merchant_center(&mut browser, &c.a).await, "A");
    let (status, page) = c.merchant_center(&mut browser, &c.b).await;
    assert_eq!(status, StatusCode::OK);
    let token = crate::form_browser::first_form(&page).unwrap().1.into_iter().find(|(n, _)| n == "csrf_token").unwrap().1;
    let session = browser.cookies[SESSION_COOKIE].clone();

    let (status, location, _) = browser.post(&c.b.url("/sso/logout"), &[("csrf_token", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert!(location.starts_with(&c.idp.issuer) && location.contains("id_token_hint="), "logout goes through the IdM's end-session: {location}");
    assert!(!browser.cookies.contains_key(SESSION_COOKIE), "B clears the cookie");

    // The session itself is gone, not only the cookie: the old cookie, presented again,
    // opens nothing on A (nor on B).
    browser.cookies.insert(SESSION_COOKIE.to_owned(), session);
    let (status, page) = c.merchant_center(&mut browser, &c.a).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "A still served the session ended on B: {page}");
    assert_eq!(c.merchant_center(&mut browser, &c.b).await.0, StatusCode::UNAUTHORIZED);
}

/// Each replica remembers the connector it last opened for an app and starts logins from
/// it without reading the app; the flow's write checks that memory against the database.
/// Whatever process changes the app, the other acts on it at its next CTA.
#[tokio::test]
async fn a_suspension_or_a_new_configuration_applies_on_every_replica_at_the_next_cta() {
    let c = cluster().await;
    let mut browser = Browser::new();
    // Both replicas open the first configuration.
    c.sign_in(&mut browser, &c.a, &c.b).await;
    c.sign_in(&mut Browser::new(), &c.b, &c.a).await;
    let client_id = |location: &str| url::Url::parse(location).unwrap().query_pairs().find(|(k, _)| k == "client_id").unwrap().1.into_owned();

    // A new configuration saved through B: A's next CTA uses it.
    let client = reqwest::Client::new();
    let config = json!({"issuer": c.idp.issuer, "client_id": "causeway-rotated", "client_secret": "s3cret",
        "token_endpoint_auth_method": "client_secret_basic", "domain": "partner.example", "logout_url": LOGOUT_URL});
    let resp = api(&client, reqwest::Method::PUT, c.b.url("/partner/idm"), &c.app).json(&config).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    for replica in [&c.a, &c.b] {
        let (status, location, page) = Browser::new().get(&c.cta(replica)).await;
        assert_eq!(status, StatusCode::FOUND, "{page}");
        assert_eq!(client_id(&location.unwrap()), "causeway-rotated", "{} starts with the new configuration", replica.base);
    }
    // Back to the first one (through A), so the IdM knows the client again.
    let mut first = config.clone();
    first["client_id"] = json!("causeway");
    let resp = api(&client, reqwest::Method::PUT, c.a.url("/partner/idm"), &c.app).json(&first).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, location, _) = Browser::new().get(&c.cta(&c.b)).await;
    assert_eq!(client_id(&location.unwrap()), "causeway");

    // A login in flight, then the operator suspends the app from a third process (the CLI).
    let mut in_flight = Browser::new();
    let callback = c.callback_on(&mut in_flight, &c.a, &c.b).await;
    let url = c._db.url.clone();
    assert!(crate::cli::causeway(&url, &["app", "suspend", &c.app.app_id]).status.success());
    for replica in [&c.a, &c.b] {
        let (status, _, page) = Browser::new().get(&c.cta(replica)).await;
        assert_eq!((status, error_code(&page).as_str()), (StatusCode::FORBIDDEN, "app_suspended"), "{} refuses the next CTA", replica.base);
    }
    let (status, _, page) = in_flight.get(&callback).await;
    assert_eq!((status, error_code(&page).as_str()), (StatusCode::FORBIDDEN, "app_suspended"), "the login in flight does not finish");
    // Let back in: both start logins again.
    assert!(crate::cli::causeway(&url, &["app", "activate", &c.app.app_id]).status.success());
    c.sign_in(&mut Browser::new(), &c.a, &c.b).await;
    c.sign_in(&mut Browser::new(), &c.b, &c.a).await;
}
