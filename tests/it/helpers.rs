use std::collections::HashMap;
use std::net::SocketAddr;

use causeway::clock::Clock;
use causeway::config::Settings;
use causeway::services::apps;
use causeway::startup::Application;
use causeway::store::Store;
use reqwest::{RequestBuilder, Response, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub use crate::support::partner_api::PartnerApi;

pub const PG_ENV: &str = "CAUSEWAY_TEST_POSTGRES_URL";

/// A fresh, empty database for one test; the temp dir lives as long as the value.
pub struct TestDatabase {
    pub url: String,
    /// Extra environment a `causeway` process needs for this database (PostgreSQL
    /// requires CAUSEWAY_MASTER_KEY; SQLite keeps a key file beside the database).
    pub env: Vec<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new() -> Self {
        match std::env::var(PG_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => {
                use sqlx::Connection;
                sqlx::any::install_default_drivers();
                let name = format!("t_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::AnyConnection::connect(&admin_url).await.expect("PostgreSQL named by CAUSEWAY_TEST_POSTGRES_URL must be reachable");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
                admin.close().await.unwrap();
                // The same server, another database (the URL may carry a socket directory
                // in its query: `?host=/path`).
                let mut url = url::Url::parse(&admin_url).expect("CAUSEWAY_TEST_POSTGRES_URL is a URL");
                url.set_path(&format!("/{name}"));
                let (_, key) = causeway::crypto::keyring::MasterKey::generate();
                let env = vec![("CAUSEWAY_MASTER_KEY".to_owned(), key.expose_secret().to_owned())];
                Self { url: url.to_string(), env, _dir: None }
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("causeway.db").display());
                Self { url, env: vec![], _dir: Some(dir) }
            }
        }
    }

    /// Another handle on the same database (a second replica's), without its own temp dir.
    pub fn same_database(&self) -> Self {
        Self { url: self.url.clone(), env: self.env.clone(), _dir: None }
    }

    pub fn is_sqlite(&self) -> bool {
        self.url.starts_with("sqlite:")
    }

    /// The SQLite file, for tests that search it for secrets.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self._dir.as_ref().map(|d| d.path().join("causeway.db"))
    }
}

/// A partner app's credentials as the operator received them.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub app_id: String,
    pub app_token: String,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub state: causeway::state::AppState,
    pub client: reqwest::Client,
    pub store: Store,
    pub clock: Clock,
    pub db: TestDatabase,
    /// A first app, created at start, that most tests act as.
    pub partner: Credentials,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    spawn(TestDatabase::new().await, overrides, Clock::system(), PublicUrl::Default).await
}

/// An app reachable at its public URL (redirect URIs are built from it), allowing
/// loopback IdMs.
pub async fn spawn_app_for_sso(extra: &[(&str, &str)]) -> TestApp {
    let mut overrides = vec![("CAUSEWAY_ALLOW_INSECURE_IDM", "true")];
    overrides.extend_from_slice(extra);
    spawn(TestDatabase::new().await, &overrides, Clock::system(), PublicUrl::Listener).await
}

/// `spawn_app_for_sso` whose clock stands still until the test advances it.
pub async fn spawn_app_for_sso_with_pinned_clock(extra: &[(&str, &str)]) -> TestApp {
    let mut overrides = vec![("CAUSEWAY_ALLOW_INSECURE_IDM", "true")];
    overrides.extend_from_slice(extra);
    spawn(TestDatabase::new().await, &overrides, Clock::pinned(now()), PublicUrl::Listener).await
}

/// Which public URL a test app has.
enum PublicUrl {
    /// The default (`http://127.0.0.1:8080`), which the committed OpenAPI document names.
    Default,
    /// Its own address: for sign-ins, whose redirect URIs are built from it.
    Listener,
}

/// An app whose clock stands still until the test advances it.
pub async fn spawn_app_with_pinned_clock() -> TestApp {
    spawn(TestDatabase::new().await, &[], Clock::pinned(now()), PublicUrl::Default).await
}

pub async fn spawn_app_on(db: TestDatabase, overrides: &[(&str, &str)]) -> TestApp {
    spawn(db, overrides, Clock::system(), PublicUrl::Default).await
}

/// Binds the app's listener first and hands it over, so its address is known before its
/// settings are (no port picked and released for someone else to take).
async fn spawn(db: TestDatabase, overrides: &[(&str, &str)], clock: Clock, public: PublicUrl) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bound = listener.local_addr().unwrap();
    let mut vars: HashMap<String, String> = HashMap::from([
        ("CAUSEWAY_DATABASE_URL".into(), db.url.clone()),
        ("CAUSEWAY_LISTEN".into(), bound.to_string()),
        // Tests make many calls quickly; the rate-limit test sets its own budget.
        ("CAUSEWAY_API_RATE_PER_SECOND".into(), "100000".into()),
        ("CAUSEWAY_API_RATE_BURST".into(), "100000".into()),
        ("CAUSEWAY_DB_POOL_SIZE".into(), "4".into()),
    ]);
    for (k, v) in &db.env {
        vars.insert(k.clone(), v.clone());
    }
    if let PublicUrl::Listener = public {
        vars.insert("CAUSEWAY_PUBLIC_URL".into(), format!("http://{bound}"));
    }
    for (k, v) in overrides {
        vars.insert(k.to_string(), v.to_string());
    }
    let settings = Settings::from_map(&vars).unwrap();
    let app = Application::build_on(settings, clock.clone(), listener).await.unwrap();
    let addr = app.local_addr();
    let state = app.state().clone();
    let store = state.store.clone();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let partner = create_partner(&store, &clock, "Acme Platform").await;
    TestApp { addr, state, client, store, clock, db, partner, shutdown: Some(tx) }
}

pub async fn create_partner(store: &Store, clock: &Clock, name: &str) -> Credentials {
    let issued = apps::create(store, clock, name).await.unwrap();
    Credentials { app_id: issued.app_id.to_string(), app_token: issued.app_token.expose_secret().to_owned() }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn another_partner(&self, name: &str) -> Credentials {
        create_partner(&self.store, &self.clock, name).await
    }

    /// The partner API as `who` calls it.
    pub fn partner_api(&self, who: &Credentials) -> PartnerApi {
        PartnerApi { http: self.client.clone(), base: self.url(""), app_id: who.app_id.clone(), app_token: who.app_token.clone() }
    }

    /// A request with the headers every API call carries, as `who`.
    pub fn api(&self, method: reqwest::Method, path: &str, who: &Credentials) -> RequestBuilder {
        self.partner_api(who).request(method, path)
    }

    pub async fn post_json(&self, path: &str, who: &Credentials, body: &Value) -> Response {
        self.api(reqwest::Method::POST, path, who).json(body).send().await.unwrap()
    }

    pub async fn get(&self, path: &str, who: &Credentials) -> Response {
        self.api(reqwest::Method::GET, path, who).send().await.unwrap()
    }

    /// Creates a legal entity as `who` and returns its id.
    pub async fn legal_entity(&self, who: &Credentials) -> String {
        let resp = self.post_json("/legal_entities", who, &legal_entity_body()).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    }

    /// An account `name` under a new legal entity whose verified controller is
    /// `controller`, created as `who`; returns the account id.
    pub async fn account(&self, who: &Credentials, controller: &str, name: &str) -> String {
        self.partner_api(who).account(controller, name).await
    }

    /// Configures the partner's IdM: the test provider's client `causeway`, claim domain
    /// partner.example.
    pub async fn use_idm(&self, issuer: &str, logout_url: &str) {
        let config = json!({"issuer": issuer, "client_id": "causeway", "client_secret": "s3cret",
            "token_endpoint_auth_method": "client_secret_basic", "domain": "partner.example", "logout_url": logout_url});
        self.configure_idm(&config).await;
    }

    /// Every byte the database holds, as text: the SQLite files, or on PostgreSQL the
    /// rows of `tables` as JSON.
    pub async fn database_text(&self, tables: &[&str]) -> String {
        if let Some(path) = self.db.sqlite_path() {
            return ["", "-wal", "-shm"]
                .iter()
                .filter_map(|suffix| std::fs::read(format!("{}{suffix}", path.display())).ok())
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .collect();
        }
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&self.db.url).await.unwrap();
        let mut text = String::new();
        for table in tables {
            let rows: Vec<String> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT CAST(row_to_json(t) AS TEXT) FROM {table} t"))).fetch_all(&mut conn).await.unwrap();
            text.extend(rows);
        }
        text
    }

    /// The partner's CTA (sign-in link).
    pub fn cta(&self) -> String {
        self.url(&format!("/sso/oidc/{}", self.partner.app_id))
    }

    /// Runs a sign-in in `browser` from the CTA through the IdM (its login form filled with
    /// `fill`) to Causeway's callback: where Causeway sends the browser on success (its
    /// session cookie kept), or the error page's failure (see `failure`).
    pub async fn sign_in(&self, browser: &mut crate::form_browser::FormBrowser, fill: &[(&str, &str)]) -> Result<String, String> {
        self.sign_in_from(browser, &self.cta(), fill).await
    }

    /// `sign_in` from another start than the CTA (a deep link, a step-up).
    pub async fn sign_in_from(&self, browser: &mut crate::form_browser::FormBrowser, start: &str, fill: &[(&str, &str)]) -> Result<String, String> {
        let callback = self.url(&format!("/sso/oidc/{}/callback", self.partner.app_id));
        let back = browser.run_until(start, &callback, fill).await;
        let (status, location, page) = browser.get(back.as_str()).await;
        match (status, location) {
            (StatusCode::FOUND, Some(location)) => Ok(location),
            _ => Err(failure(&page).unwrap_or_else(|| panic!("{status}: {page}"))),
        }
    }

    /// PUT /partner/idm as the first partner; panics unless it is accepted.
    pub async fn configure_idm(&self, config: &Value) {
        self.partner_api(&self.partner).configure_idm(config).await;
    }

    pub async fn count_merchant_sessions(&self) -> i64 {
        self.store.count_merchant_sessions(self.partner.app_id.parse().unwrap()).await.unwrap()
    }

    pub async fn count_legal_entities(&self, who: &Credentials) -> i64 {
        self.store.count_legal_entities(who.app_id.parse().unwrap()).await.unwrap()
    }

    pub async fn count_accounts(&self, who: &Credentials) -> i64 {
        self.store.count_accounts(who.app_id.parse().unwrap()).await.unwrap()
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub fn legal_entity_body() -> Value {
    json!({
        "country": "US",
        "controller": {"email": "owner@merchant.example", "email_is_verified": true},
        "terms_of_service": {"acceptance_time": now() - 60, "original_ip": "203.0.113.7"}
    })
}

/// The error code an SSO error page shows.
pub fn error_code(page: &str) -> Option<String> {
    let marker = "Error code</dt><dd><code>";
    let start = page.find(marker)? + marker.len();
    Some(page[start..start + page[start..].find('<')?].to_owned())
}

/// The failure an SSO error page reports: its code, and for `claim_missing` the claim its
/// console detail names, as `claim_missing (given_name)`.
pub fn failure(page: &str) -> Option<String> {
    let code = error_code(page)?;
    let marker = r#"<script type="application/json" id="causeway-sso-error">"#;
    let start = page.find(marker)? + marker.len();
    let detail: Value = serde_json::from_str(&page[start..start + page[start..].find("</script>")?].replace("<\\/", "</")).ok()?;
    Some(match detail["missing_claim"].as_str() {
        Some(claim) => format!("{code} ({claim})"),
        None => code,
    })
}

/// Asserts the contract's error shape and returns the body.
pub async fn expect_error(resp: Response, status: StatusCode, error_code: &str) -> Value {
    assert_eq!(resp.status(), status, "status");
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(ct.starts_with("application/json"), "content type {ct}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error_code"], error_code, "{body}");
    assert!(body["error_message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["details"].is_array(), "{body}");
    body
}

/// The (target, reason_code) pairs of an error body's details.
pub fn details(body: &Value) -> Vec<(Vec<String>, String)> {
    body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let target = d["target"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect();
            (target, d["reason_code"].as_str().unwrap().to_owned())
        })
        .collect()
}
