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
//! BENCH_POPULATION (other partners' data first: "apps,accounts,sessions", e.g.
//! "10000,1000000,100000"),
//! BENCH_SERVER_LOG (the server's CAUSEWAY_LOG; keep `causeway::cli=info` in it, and e.g.
//! add `sqlx::query=info` to see every statement a login runs).
//!
//! BENCH_RATE (comma list of logins/s, e.g. "1000,1500") runs an open loop instead: logins
//! start on a fixed schedule, spread over 64 browsers, whatever the server's pace, and each
//! latency counts from the login's scheduled start — so a stall shows as the wait of every
//! login due during it, not as one slow login (a closed loop, where the 32 browsers wait
//! for the server, sets its own median to 32 / throughput).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{StatusCode, header};
use serde_json::json;

#[path = "support/mod.rs"]
mod support;
use support::testkit::fake_op::{FakeOp, IssParam, USER_COOKIE};
use support::testkit::partner_api::PartnerApi;
use support::{create_app, env_or, measure, serve, Server, Window};

const DOMAIN: &str = "partner.example";


// ---------------------------------------------------------------------------------------
// The partner side of Causeway: an account, and the IdM configuration naming the fake
// provider (tests/support/fake_op.rs: it approves at once, for the user its cookie names).

/// Causeway's public URL: as behind a load balancer, not the server's own address; each
/// browser sends what is addressed to it to the server.
const PUBLIC_URL: &str = "http://causeway.bench.example";

async fn set_up_partner(base: &str, app_id: &str, token: &str, idm: &FakeOp) {
    let partner = PartnerApi::new(base, app_id, token);
    let account = partner.account("owner@shop.example", "Bench Shop").await;
    idm.set(|b| {
        b.id_token_claims = json!({"email_verified": true, "given_name": "Bench", format!("https://{DOMAIN}/wepay_account_id"): account});
        // Each user's own e-mail and family name, from its subject.
        b.edit_claims = Some(|claims| {
            let user = claims["sub"].as_str().unwrap_or_default().to_owned();
            claims["email"] = json!(format!("{user}@shop.example"));
            claims["family_name"] = json!(user);
        });
        b.iss_param = IssParam::Issuer;
    });
    partner.configure_idm(&idm.config(json!({}))).await;
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
            .header(header::COOKIE, format!("{USER_COOKIE}={}", self.idm_user))
            .send()
            .await
            .map_err(|e| LoginError::Http(e.to_string()))?;
        let callback = match (resp.status(), resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok())) {
            (StatusCode::FOUND, Some(l)) if l.starts_with(PUBLIC_URL) => l.replacen(PUBLIC_URL, base, 1),
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

/// How the browsers pace their logins.
#[derive(Clone, Copy)]
enum Pace {
    /// `n` browsers, each starting its next login when the last one ends.
    Closed(usize),
    /// Logins due at a fixed rate per second, over `OPEN_LOOP_BROWSERS` browsers.
    Open(u64),
}

/// Browsers of an open loop: enough that at the rates a small machine serves, a browser is
/// rarely still busy with its last login when its next one is due.
const OPEN_LOOP_BROWSERS: usize = 64;

async fn run(pace: Pace, server: &Server, app_id: &str, seconds: u64, warmup: u64) -> Window {
    let concurrency = match pace {
        Pace::Closed(n) => n,
        Pace::Open(_) => OPEN_LOOP_BROWSERS,
    };
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
                // Open loop: this browser's logins are due every `concurrency / rate` s,
                // the browsers' schedules staggered evenly.
                let every = match pace {
                    Pace::Closed(_) => None,
                    Pace::Open(rate) => Some(Duration::from_secs_f64(concurrency as f64 / rate as f64)),
                };
                let mut due = Instant::now() + every.map_or(Duration::ZERO, |every| every * n as u32 / concurrency as u32);
                while !stop.load(Ordering::Relaxed) {
                    let started = match every {
                        None => Instant::now(),
                        Some(every) => {
                            tokio::time::sleep_until(due.into()).await;
                            let scheduled = due;
                            due += every;
                            scheduled
                        }
                    };
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
    let idm = FakeOp::start().await;
    let (app_id, token) = create_app(&db_url);
    let population = support::seed_population(&db_url).await;
    println!("database: {population}");
    let server = serve(&db_url, &[("CAUSEWAY_PUBLIC_URL", PUBLIC_URL.into()), ("CAUSEWAY_ALLOW_INSECURE_IDM", "true".into())]).await;
    set_up_partner(&server.base, &app_id, &token, &idm).await;
    println!("causeway pid {} at {}, IdM at {}", server.child.id().unwrap(), server.base, idm.issuer);

    let paces: Vec<Pace> = match std::env::var("BENCH_RATE") {
        Ok(rates) => rates.split(',').filter_map(|v| v.trim().parse().ok()).map(Pace::Open).collect(),
        Err(_) => levels.into_iter().map(Pace::Closed).collect(),
    };
    println!(
        "{:>9} {:>9} {:>8} {:>8} {:>8} {:>17} {:>21} {:>7}",
        "browsers", "logins/s", "p50 ms", "p99 ms", "max ms", "Causeway µs/login", "browsers+IdM µs/login", "errors"
    );
    for pace in paces {
        let o = run(pace, &server, &app_id, seconds, warmup).await;
        let logins = o.latencies.len() as f64;
        let browsers = match pace {
            Pace::Closed(n) => n.to_string(),
            Pace::Open(rate) => format!("{rate}/s due"),
        };
        println!(
            "{browsers:>9} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>17.0} {:>21.0} {:>7}",
            logins / o.elapsed,
            o.percentile_ms(0.50),
            o.percentile_ms(0.99),
            o.percentile_ms(1.0),
            o.cpu / logins * 1e6,
            o.bench_cpu / logins * 1e6,
            o.errors
        );
    }
    println!("causeway serve: {}", support::memory(server.child.id().unwrap()));
    println!("IdM: {} authorizations, {} tokens issued", idm.hits().authorize.load(Ordering::Relaxed), idm.hits().token.load(Ordering::Relaxed));
    drop(server);
}
