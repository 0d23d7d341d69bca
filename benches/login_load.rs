//! Load benchmark: whole SSO logins against a real `causeway serve` process (release
//! build, SQLite) and a fast auto-approving OpenID provider running inside this process.
//!
//! One login, as a browser does it: `GET /sso/oidc/{app}` (CTA) → the IdM's `/authorize`
//! (approves at once, 302 back with code, state and iss) → `GET …/callback` (Causeway
//! exchanges the code at the IdM's `/token`, verifies the ES256 ID token, provisions the
//! user, opens a session) → `GET /merchant-center` (200). Every "browser" keeps its own
//! cookies and its own connections and follows no redirect by itself; each login starts
//! with an empty Causeway cookie jar (a new browser binding, a new session) for one of
//! the browser's returning users.
//!
//! `cargo bench --bench login_load` prints, for 8, 32 and 64 concurrent browsers,
//! logins/s, p50/p99/max of a whole login, and Causeway's CPU time per login (utime+stime
//! of the server process from /proc; the IdM runs here, so its signing is not counted),
//! and, for comparison, this process's own CPU per login (the browsers and the IdM share
//! the machine's cores with the server, which bounds logins/s on a small machine).
//! Knobs: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_CONCURRENCY (comma list,
//! "8,32,64"), BENCH_DB_POOL_SIZE (8: the server's CAUSEWAY_DB_POOL_SIZE),
//! BENCH_DATABASE_URL (a database for the server instead of a temp SQLite file),
//! BENCH_SERVER_LOG (the server's CAUSEWAY_LOG; keep `causeway::cli=info` in it, and e.g.
//! add `sqlx::query=info` to see every statement a login runs).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use causeway::federation::oidc::signer::Signer;
use poem::http::{StatusCode, header};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Form, Json, Query};
use poem::{EndpointExt, Request, Response, Route, get, handler, post};
use serde::Deserialize;
use serde_json::{Value, json};

#[path = "support/mod.rs"]
mod support;
use support::{create_app, env_or, measure, serve, Server, Window};

const CLIENT_ID: &str = "causeway-bench";
const CLIENT_SECRET: &str = "bench-secret";
const DOMAIN: &str = "partner.example";
/// The fake IdM's own session cookie: which of its users this browser is signed in as.
const IDM_USER_COOKIE: &str = "idm_user";


// ---------------------------------------------------------------------------------------
// The fake IdM: discovery, JWKS, an authorization endpoint that approves at once, and a
// token endpoint that redeems each code once.

struct Grant {
    nonce: String,
    user: String,
    redirect_uri: String,
}

struct Idm {
    issuer: String,
    signer: Signer,
    /// The account every user's token names (the partner's merchant account).
    account_id: Mutex<String>,
    codes: Mutex<HashMap<String, Grant>>,
    expected_basic: String,
    authorizations: AtomicU64,
    tokens: AtomicU64,
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    nonce: String,
    code_challenge: String,
    code_challenge_method: String,
    scope: String,
}

#[handler]
fn discovery_endpoint(idm: Data<&Arc<Idm>>) -> Json<Value> {
    let issuer = &idm.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "authorization_response_iss_parameter_supported": true
    }))
}

#[handler]
fn jwks_endpoint(idm: Data<&Arc<Idm>>) -> Json<Value> {
    Json(json!({"keys": [idm.signer.jwk]}))
}

fn bad_request(error: &str) -> Response {
    Response::builder().status(StatusCode::BAD_REQUEST).content_type("application/json").body(json!({"error": error}).to_string())
}

#[handler]
fn authorize_endpoint(req: &Request, Query(q): Query<AuthorizeQuery>, idm: Data<&Arc<Idm>>) -> Response {
    if q.response_type != "code" || q.client_id != CLIENT_ID || q.code_challenge_method != "S256" || q.code_challenge.is_empty() || !q.scope.split(' ').any(|s| s == "openid") {
        return bad_request("invalid_request");
    }
    let user = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|all| all.split("; ").find_map(|c| c.strip_prefix(IDM_USER_COOKIE)?.strip_prefix('=')))
        .unwrap_or("anonymous")
        .to_owned();
    let code = uuid::Uuid::new_v4().simple().to_string();
    idm.codes.lock().unwrap().insert(code.clone(), Grant { nonce: q.nonce, user, redirect_uri: q.redirect_uri.clone() });
    idm.authorizations.fetch_add(1, Ordering::Relaxed);
    let mut target = url::Url::parse(&q.redirect_uri).unwrap();
    target.query_pairs_mut().append_pair("code", &code).append_pair("state", &q.state).append_pair("iss", &idm.issuer);
    Response::builder().status(StatusCode::FOUND).header(header::LOCATION, target.as_str()).finish()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    code_verifier: String,
}

#[handler]
fn token_endpoint(req: &Request, Form(form): Form<TokenForm>, idm: Data<&Arc<Idm>>) -> Response {
    let basic = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if basic != idm.expected_basic {
        return Response::builder().status(StatusCode::UNAUTHORIZED).content_type("application/json").body(r#"{"error":"invalid_client"}"#);
    }
    if form.grant_type != "authorization_code" || form.code_verifier.len() < 43 {
        return bad_request("invalid_request");
    }
    let Some(grant) = idm.codes.lock().unwrap().remove(&form.code) else {
        return bad_request("invalid_grant");
    };
    if grant.redirect_uri != form.redirect_uri {
        return bad_request("invalid_grant");
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let account = idm.account_id.lock().unwrap().clone();
    let claims = json!({
        "iss": idm.issuer, "aud": CLIENT_ID, "exp": now + 300, "iat": now, "nonce": grant.nonce,
        "sub": grant.user, "email": format!("{}@shop.example", grant.user), "email_verified": true,
        "given_name": "Bench", "family_name": grant.user,
        format!("https://{DOMAIN}/wepay_account_id"): account,
    });
    let id_token = idm.signer.sign(&claims, None);
    idm.tokens.fetch_add(1, Ordering::Relaxed);
    Response::builder()
        .content_type("application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(json!({"id_token": id_token, "token_type": "Bearer", "access_token": "x", "expires_in": 300}).to_string())
}

async fn start_idm() -> Arc<Idm> {
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    let idm = Arc::new(Idm {
        issuer: format!("http://{addr}"),
        signer: Signer::es256("bench-key").unwrap(),
        account_id: Mutex::new(String::new()),
        codes: Mutex::new(HashMap::new()),
        expected_basic: format!("Basic {}", STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))),
        authorizations: AtomicU64::new(0),
        tokens: AtomicU64::new(0),
    });
    let app = Route::new()
        .at("/.well-known/openid-configuration", get(discovery_endpoint))
        .at("/jwks", get(jwks_endpoint))
        .at("/authorize", get(authorize_endpoint))
        .at("/token", post(token_endpoint))
        .data(idm.clone());
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    idm
}

// ---------------------------------------------------------------------------------------
// The partner side of Causeway: an account and the IdM configuration.

/// Onboards one account over the API and points the app at the fake IdM.
async fn set_up_partner(base: &str, app_id: &str, token: &str, idm: &Idm) {
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str| {
        client.request(method, format!("{base}{path}")).header("App-Id", app_id).header("App-Token", token).header("Api-Version", "3.0")
    };
    let le: Value = call(reqwest::Method::POST, "/legal_entities")
        .json(&json!({"country": "US", "controller": {"email": "owner@shop.example", "email_is_verified": true}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = call(reqwest::Method::POST, "/accounts").json(&json!({"legal_entity_id": le["id"], "name": "Bench Shop"})).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let account: Value = resp.json().await.unwrap();
    *idm.account_id.lock().unwrap() = account["id"].as_str().unwrap().to_owned();
    let config = json!({"issuer": idm.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "token_endpoint_auth_method": "client_secret_basic", "domain": DOMAIN, "logout_url": "https://partner.example/bye"});
    let resp = call(reqwest::Method::PUT, "/partner/idm").json(&config).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

// ---------------------------------------------------------------------------------------
// Browsers.

struct Browser {
    http: reqwest::Client,
    /// Causeway's cookies (by name; one host).
    jar: BTreeMap<String, String>,
    idm_user: String,
}

#[derive(Debug)]
#[allow(dead_code)] // printed through Debug
enum LoginError {
    Http(String),
    Unexpected(&'static str, StatusCode, String),
}

impl Browser {
    fn new(user: String) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).pool_max_idle_per_host(4).build().unwrap();
        Self { http, jar: BTreeMap::new(), idm_user: user }
    }

    async fn get_causeway(&mut self, url: &str) -> Result<(StatusCode, Option<String>), LoginError> {
        let cookie = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut req = self.http.get(url);
        if !cookie.is_empty() {
            req = req.header(header::COOKIE, cookie);
        }
        let resp = req.send().await.map_err(|e| LoginError::Http(e.to_string()))?;
        for value in resp.headers().get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()) {
            if let Some((name, rest)) = value.split_once('=') {
                let val = rest.split(';').next().unwrap_or_default();
                if val.is_empty() {
                    self.jar.remove(name);
                } else {
                    self.jar.insert(name.to_owned(), val.to_owned());
                }
            }
        }
        let status = resp.status();
        let location = resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        // Read the body (a browser would), so the connection is reusable.
        let _ = resp.bytes().await.map_err(|e| LoginError::Http(e.to_string()))?;
        Ok((status, location))
    }

    async fn login(&mut self, base: &str, cta: &str) -> Result<(), LoginError> {
        self.jar.clear();
        let (status, location) = self.get_causeway(cta).await?;
        let authorize = match (status, location) {
            (StatusCode::FOUND, Some(l)) => l,
            (s, l) => return Err(LoginError::Unexpected("CTA", s, l.unwrap_or_default())),
        };
        let resp = self
            .http
            .get(&authorize)
            .header(header::COOKIE, format!("{IDM_USER_COOKIE}={}", self.idm_user))
            .send()
            .await
            .map_err(|e| LoginError::Http(e.to_string()))?;
        let callback = match (resp.status(), resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok())) {
            (StatusCode::FOUND, Some(l)) => l.to_owned(),
            (s, _) => return Err(LoginError::Unexpected("authorize", s, resp.text().await.unwrap_or_default())),
        };
        let _ = resp.bytes().await;
        let (status, location) = self.get_causeway(&callback).await?;
        let landing = match (status, location) {
            (StatusCode::FOUND, Some(l)) => l,
            (s, l) => return Err(LoginError::Unexpected("callback", s, l.unwrap_or_default())),
        };
        let (status, _) = self.get_causeway(&format!("{base}{landing}")).await?;
        if status != StatusCode::OK {
            return Err(LoginError::Unexpected("merchant center", status, String::new()));
        }
        Ok(())
    }
}

async fn run(concurrency: usize, server: &Server, app_id: &str, seconds: u64, warmup: u64) -> Window {
    let base = server.base.clone();
    let cta = format!("{base}/sso/oidc/{app_id}");
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..concurrency)
        .map(|n| {
            let (base, cta, measuring, stop) = (base.clone(), cta.clone(), measuring.clone(), stop.clone());
            tokio::spawn(async move {
                let mut browser = Browser::new(format!("c{concurrency}-b{n}"));
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    match browser.login(&base, &cta).await {
                        Ok(()) => {
                            if measuring.load(Ordering::Relaxed) {
                                latencies.push(started.elapsed());
                            }
                        }
                        Err(err) => {
                            if errors < 3 {
                                eprintln!("login failed: {err:?}");
                            }
                            errors += 1;
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();

    measure(workers, &measuring, &stop, warmup, seconds, server.child.id().unwrap()).await
}

#[tokio::main]
async fn main() {
    // Test runners (cargo nextest --all-targets) enumerate this target with --list: it
    // holds no tests, and running the load here would only slow the suite.
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let seconds = env_or("BENCH_SECONDS", 10);
    let warmup = env_or("BENCH_WARMUP_SECONDS", 2);
    let levels: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "8,32,64".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let db_url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()));
    let idm = start_idm().await;
    let (app_id, token) = create_app(&db_url);
    // The public URL must name the port the server listens on (redirect URIs are built
    // from it): reserve a free port first.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = serve(
        &db_url,
        &[
            ("CAUSEWAY_LISTEN", format!("127.0.0.1:{port}")),
            ("CAUSEWAY_PUBLIC_URL", format!("http://127.0.0.1:{port}")),
            ("CAUSEWAY_ALLOW_INSECURE_IDM", "true".into()),
        ],
    )
    .await;
    set_up_partner(&server.base, &app_id, &token, &idm).await;
    println!("causeway pid {} at {}, IdM at {}", server.child.id().unwrap(), server.base, idm.issuer);

    println!(
        "{:>9} {:>9} {:>8} {:>8} {:>8} {:>17} {:>21} {:>7}",
        "browsers", "logins/s", "p50 ms", "p99 ms", "max ms", "Causeway µs/login", "browsers+IdM µs/login", "errors"
    );
    for concurrency in levels {
        let o = run(concurrency, &server, &app_id, seconds, warmup).await;
        let logins = o.latencies.len() as f64;
        println!(
            "{concurrency:>9} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>17.0} {:>21.0} {:>7}",
            logins / o.elapsed,
            o.percentile_ms(0.50),
            o.percentile_ms(0.99),
            o.percentile_ms(1.0),
            o.cpu / logins * 1e6,
            o.bench_cpu / logins * 1e6,
            o.errors
        );
    }
    println!(
        "IdM: {} authorizations, {} tokens issued, {} codes never redeemed",
        idm.authorizations.load(Ordering::Relaxed),
        idm.tokens.load(Ordering::Relaxed),
        idm.codes.lock().unwrap().len()
    );
    drop(server);
}
