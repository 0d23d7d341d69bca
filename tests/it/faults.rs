//! Faults and load (issue 14): PostgreSQL restarted under onboarding load through two
//! replicas, a replica killed in the middle of a login, SIGTERM with requests in flight, an
//! IdM that goes away and comes back, SQLite killed with `kill -9` during writes, and a
//! hostile sweep over every route. Each stops by itself and prints its figures on stderr,
//! as lines starting with `faults:`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::cli::causeway_json;
use crate::form_browser::FormBrowser;
use crate::helpers::*;
use crate::support::partner_api::PartnerApi;
use crate::support::serve::Serving;
use crate::support::server::TestServer;

// ---------------------------------------------------------------------------------------
// What several tests share: a `causeway serve` with its log, and onboarding load.

/// A `causeway serve` subprocess (killed when dropped), its stderr kept in a file that
/// failure messages quote.
struct Server {
    serving: Serving,
    log: tempfile::NamedTempFile,
}

impl Server {
    /// On `db_url` with `env` (the database's: the master key on PostgreSQL) and `extra`;
    /// API rate limits lifted.
    async fn start(db_url: &str, env: &[(String, String)], extra: &[(&str, &str)]) -> Self {
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut command = crate::support::serve::command(db_url);
        command
            .env("CAUSEWAY_LOG", "warn")
            .env("CAUSEWAY_API_RATE_PER_SECOND", "100000")
            .env("CAUSEWAY_API_RATE_BURST", "100000")
            .env("CAUSEWAY_DB_POOL_SIZE", "4")
            .envs(env.iter().cloned())
            .envs(extra.iter().map(|(k, v)| (*k, *v)))
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap());
        Self { serving: Serving::start(command).await, log }
    }

    fn base(&self) -> String {
        self.serving.base.clone()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.serving.base)
    }

    fn addr(&self) -> SocketAddr {
        self.serving.base.trim_start_matches("http://").parse().unwrap()
    }

    fn pid(&self) -> i32 {
        self.serving.child.id().expect("the server is running") as i32
    }

    fn running(&mut self) -> bool {
        self.serving.child.try_wait().unwrap().is_none()
    }

    /// SIGKILL, and its exit status once it is gone.
    async fn kill_9(&mut self) -> std::process::ExitStatus {
        self.serving.child.start_kill().unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.serving.child.wait()).await.expect("gone within 10 s of SIGKILL").unwrap()
    }

    /// The error lines of its log (at most 20).
    fn log_errors(&self) -> String {
        let text = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        let errors: Vec<&str> = text.lines().filter(|l| l.contains("\"level\":\"ERROR\"") || l.contains(" ERROR ")).take(20).collect();
        format!("--- errors in the log of {} ---\n{}", self.serving.base, errors.join("\n"))
    }

    /// The end of its log.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        let start = text.len().saturating_sub(4000);
        let start = (start..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
        format!("--- log of {} ---\n{}", self.serving.base, &text[start..])
    }
}

/// Its resident set, from /proc.
fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS in /proc/<pid>/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn credentials(created: &Value) -> Credentials {
    Credentials { app_id: created["app_id"].as_str().unwrap().into(), app_token: created["app_token"].as_str().unwrap().into() }
}

/// How long a logical write may take, retries included, before its client gives up.
const WRITE_DEADLINE: Duration = Duration::from_secs(20);

/// What the onboarding clients saw.
#[derive(Default)]
struct Seen {
    /// (Unique-Key, controller e-mail, legal entity id) of every acknowledged write.
    acknowledged: Vec<(String, String, String)>,
    /// Acknowledgements that were replays (`Idempotent-Replayed: true`) of a write whose
    /// first answer was lost.
    replayed: u32,
    /// Failed attempts, by what the client saw: `503 ERROR_CODE`, `conn`, `timeout`, …
    failures: BTreeMap<String, u32>,
    /// 503 answers that carried Retry-After.
    retry_after: u32,
    /// Answers that were neither 2xx nor 5xx.
    unexpected: Vec<String>,
    /// Logical writes given up after WRITE_DEADLINE.
    abandoned: u32,
}

impl Seen {
    fn fail(&mut self, what: String) {
        *self.failures.entry(what).or_default() += 1;
    }

    fn failures_text(&self) -> String {
        if self.failures.is_empty() {
            return "none".into();
        }
        self.failures.iter().map(|(what, n)| format!("{what}×{n}")).collect::<Vec<_>>().join(", ")
    }
}

/// Onboarding clients writing legal entities, each with its own `Unique-Key`, retrying
/// the same key and body on a connection error or a 5xx until it is acknowledged.
struct Load {
    /// The servers the clients take turns with (replaced when a server is restarted).
    bases: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(clients: usize, bases: Vec<String>, app: &Credentials) -> Self {
        let bases = Arc::new(Mutex::new(bases));
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let clients = (0..clients)
            .map(|n| tokio::spawn(onboarding_client(n, bases.clone(), app.clone(), stop.clone(), seen.clone())))
            .collect();
        Self { bases, stop, seen, clients }
    }

    fn point_at(&self, bases: Vec<String>) {
        *self.bases.lock().unwrap() = bases;
    }

    fn acknowledged(&self) -> usize {
        self.seen.lock().unwrap().acknowledged.len()
    }

    /// No new writes; the ones under way finish (or are given up). What was seen.
    async fn finish(self) -> Seen {
        self.stop.store(true, Ordering::SeqCst);
        for client in self.clients {
            client.await.unwrap();
        }
        Arc::try_unwrap(self.seen).ok().unwrap().into_inner().unwrap()
    }
}

async fn onboarding_client(client: usize, bases: Arc<Mutex<Vec<String>>>, app: Credentials, stop: Arc<AtomicBool>, seen: Arc<Mutex<Seen>>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut write = 0usize;
    while !stop.load(Ordering::SeqCst) {
        write += 1;
        let key = format!("fault-{client}-{write}");
        let email = format!("c{client}-{write}@load.example");
        let body = json!({
            "country": "US",
            "controller": {"email": email, "email_is_verified": true},
            "terms_of_service": {"acceptance_time": now() - 60, "original_ip": "203.0.113.7"}
        })
        .to_string();
        let started = Instant::now();
        for attempt in 0usize.. {
            // Clients alternate between the servers, and so do the retries of one write.
            let base = {
                let bases = bases.lock().unwrap();
                bases[(client + write + attempt) % bases.len()].clone()
            };
            let sent = http
                .post(format!("{base}/legal_entities"))
                .header("App-Id", &app.app_id)
                .header("App-Token", &app.app_token)
                .header("Api-Version", "3.0")
                .header("Unique-Key", &key)
                .header("Content-Type", "application/json")
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(resp) if resp.status().is_success() => {
                    let replayed = resp.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
                    match resp.json::<Value>().await {
                        Ok(answer) => {
                            let id = answer["id"].as_str().expect("a created legal entity has an id").to_owned();
                            let mut seen = seen.lock().unwrap();
                            seen.acknowledged.push((key.clone(), email.clone(), id));
                            seen.replayed += u32::from(replayed);
                            break;
                        }
                        // The answer was cut off: not acknowledged, so the client retries.
                        Err(_) => seen.lock().unwrap().fail("2xx cut off".into()),
                    }
                }
                Ok(resp) if resp.status().is_server_error() => {
                    let status = resp.status().as_u16();
                    let retry_after = resp.headers().contains_key("retry-after");
                    let code = resp.json::<Value>().await.ok().and_then(|b| b["error_code"].as_str().map(str::to_owned)).unwrap_or_else(|| "-".into());
                    let mut seen = seen.lock().unwrap();
                    seen.fail(format!("{status} {code}"));
                    seen.retry_after += u32::from(status == 503 && retry_after);
                }
                Ok(resp) => {
                    let status = resp.status();
                    let text = resp.text().await.unwrap_or_default();
                    seen.lock().unwrap().unexpected.push(format!("{key} (attempt {attempt}) at {base}: {status} {text}"));
                    break;
                }
                Err(err) => {
                    let what = if err.is_connect() {
                        "conn"
                    } else if err.is_timeout() {
                        "timeout"
                    } else {
                        "cut"
                    };
                    seen.lock().unwrap().fail(what.into());
                }
            }
            if started.elapsed() > WRITE_DEADLINE {
                seen.lock().unwrap().abandoned += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The app's legal entities in the database: (id, controller e-mail).
async fn legal_entities_in(db_url: &str, app_id: &str) -> Vec<(String, String)> {
    use sqlx::Connection;
    let app_id: uuid::Uuid = app_id.parse().unwrap();
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(db_url).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id, controller_email FROM legal_entities WHERE app_id = '{app_id}'")))
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows
}

/// Acknowledged writes against the database: (lost, duplicated, stored but never
/// acknowledged), each as the rows or writes concerned.
struct Audit {
    lost: Vec<String>,
    duplicated: Vec<String>,
    unacknowledged: Vec<String>,
}

fn audit(seen: &Seen, rows: &[(String, String)]) -> Audit {
    let mut by_email: HashMap<&str, Vec<&str>> = HashMap::new();
    for (id, email) in rows {
        by_email.entry(email).or_default().push(id);
    }
    let acknowledged: HashMap<&str, &str> = seen.acknowledged.iter().map(|(_, email, id)| (email.as_str(), id.as_str())).collect();
    let lost = seen
        .acknowledged
        .iter()
        .filter(|(_, email, id)| !by_email.get(email.as_str()).is_some_and(|ids| ids.contains(&id.as_str())))
        .map(|(key, _, id)| format!("{key} → {id}"))
        .collect();
    let mut duplicated: Vec<String> = by_email.iter().filter(|(_, ids)| ids.len() > 1).map(|(email, ids)| format!("{email}: {ids:?}")).collect();
    // Two acknowledgements of one logical write with different ids are a duplicate too.
    let mut ids_per_email: HashMap<&str, Vec<&str>> = HashMap::new();
    for (_, email, id) in &seen.acknowledged {
        ids_per_email.entry(email).or_default().push(id);
    }
    duplicated.extend(ids_per_email.iter().filter(|(_, ids)| ids.len() > 1).map(|(email, ids)| format!("acknowledged twice, {email}: {ids:?}")));
    let unacknowledged = rows.iter().filter(|(_, email)| !acknowledged.contains_key(email.as_str())).map(|(id, email)| format!("{email} → {id}")).collect();
    Audit { lost, duplicated, unacknowledged }
}

/// Waits until `/readyz` answers 200 on every server; how long that took.
async fn ready_within(servers: &[&Server], limit: Duration) -> Duration {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().unwrap();
    let started = Instant::now();
    let mut ready = vec![false; servers.len()];
    while !ready.iter().all(|r| *r) {
        for (i, server) in servers.iter().enumerate() {
            if !ready[i] {
                ready[i] = http.get(server.url("/readyz")).send().await.is_ok_and(|r| r.status() == StatusCode::OK);
            }
        }
        if started.elapsed() > limit {
            let logs: Vec<String> = servers.iter().map(|s| s.log_tail()).collect();
            panic!("/readyz not 200 on every replica within {limit:?} of the database's return (ready: {ready:?})\n{}", logs.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    started.elapsed()
}

// ---------------------------------------------------------------------------------------
// 1. PostgreSQL restarted under load.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarts_under_onboarding_load_lose_and_duplicate_nothing() {
    // Its own server, so that restarting it disturbs no other test; crash-safe commits,
    // since `-m immediate` is a crash of the server (what it acknowledged must survive).
    let dir = std::env::temp_dir().join(format!("causeway-faults-pg-{}", uuid::Uuid::new_v4().simple()));
    let pg = xtask::postgres::Postgres::start_crash_safe(dir)
        .unwrap_or_else(|why| panic!("this test starts its own PostgreSQL 15 and could not: {why}. Install the server binaries (postgresql-15) or point PGBIN at them."));
    let pg = Arc::new(pg);
    let db_url = pg.url();
    let (_, key) = causeway::crypto::keyring::MasterKey::generate();
    let env = vec![("CAUSEWAY_MASTER_KEY".to_owned(), key.expose_secret().to_owned())];
    let app = credentials(&causeway_json(&db_url, &["app", "create", "--name", "Restarted Platform", "--json"]));
    let mut a = Server::start(&db_url, &env, &[]).await;
    let mut b = Server::start(&db_url, &env, &[]).await;

    let started = Instant::now();
    let load = Load::start(8, vec![a.base(), b.base()], &app);
    let mut restarts = Vec::new();
    for mode in ["fast", "immediate"] {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let before = load.acknowledged();
        let down = Instant::now();
        let server = pg.clone();
        tokio::task::spawn_blocking(move || server.restart(mode)).await.unwrap().unwrap_or_else(|why| panic!("pg_ctl restart -m {mode}: {why}"));
        let outage = down.elapsed();
        // From the moment the database accepts connections again.
        let ready = ready_within(&[&a, &b], Duration::from_secs(15)).await;
        restarts.push((mode, before, outage, ready));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let seen = load.finish().await;
    let load_time = started.elapsed();

    assert!(a.running(), "replica A exited during the restarts\n{}", a.log_tail());
    assert!(b.running(), "replica B exited during the restarts\n{}", b.log_tail());
    let rows = legal_entities_in(&db_url, &app.app_id).await;
    let audit = audit(&seen, &rows);
    let restarts_text: Vec<String> = restarts
        .iter()
        .map(|(mode, before, outage, ready)| format!("-m {mode} after {before} writes: down {:.2} s, both /readyz 200 {:.2} s after the database was back", outage.as_secs_f64(), ready.as_secs_f64()))
        .collect();
    eprintln!(
        "faults: pg restart: {} acknowledged writes ({} replays) by 8 clients through 2 replicas in {:.1} s, {} lost, {} duplicated, {} stored unacknowledged, {} abandoned; client errors {}; 503 with Retry-After {}; {}",
        seen.acknowledged.len(),
        seen.replayed,
        load_time.as_secs_f64(),
        audit.lost.len(),
        audit.duplicated.len(),
        audit.unacknowledged.len(),
        seen.abandoned,
        seen.failures_text(),
        seen.retry_after,
        restarts_text.join("; ")
    );
    assert!(seen.acknowledged.len() >= 100, "the load ran: only {} writes acknowledged", seen.acknowledged.len());
    assert!(seen.unexpected.is_empty(), "answers other than 2xx or 5xx: {:#?}", &seen.unexpected[..seen.unexpected.len().min(10)]);
    assert_eq!(seen.abandoned, 0, "writes never acknowledged within {WRITE_DEADLINE:?}\n{}\n{}", a.log_tail(), b.log_tail());
    assert!(audit.lost.is_empty(), "acknowledged writes missing from the database: {:?}", audit.lost);
    assert!(audit.duplicated.is_empty(), "duplicated writes: {:?}", audit.duplicated);
    assert!(audit.unacknowledged.is_empty(), "rows no client was told about: {:?}", audit.unacknowledged);
    assert_eq!(rows.len(), seen.acknowledged.len(), "legal entities of the app = logical writes acknowledged");
}

// ---------------------------------------------------------------------------------------
// 2. A replica dies in the middle of a login.

#[tokio::test]
async fn a_login_started_on_a_replica_that_dies_finishes_on_the_other() {
    use crate::replicas::{Browser, SESSION_COOKIE, cluster};
    let mut c = cluster().await;
    let backend = if c._db.is_sqlite() { "SQLite" } else { "PostgreSQL" };
    let mut browser = Browser::new();
    // The CTA on A (A writes the flow and binds it to this browser), the sign-in at the
    // IdM; then A dies before the IdM's redirect comes back.
    let callback = c.callback_on(&mut browser, &c.a, &c.b).await;
    c.a._serving.child.start_kill().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), c.a._serving.child.wait()).await.expect("A is gone within 10 s of SIGKILL").unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
    assert!(reqwest::get(c.a.url("/healthz")).await.is_err(), "nothing answers where A was");

    let started = Instant::now();
    let (status, location, page) = browser.get(&callback).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::FOUND, "B finishes the login A started before it died: {page}");
    assert_eq!(location.as_deref(), Some("/merchant-center"));
    assert!(browser.cookies.contains_key(SESSION_COOKIE));
    c.assert_shows_account(c.merchant_center(&mut browser, &c.b).await, "B");
    // B alone carries the next login from CTA to session.
    let mut next = Browser::new();
    c.sign_in(&mut next, &c.b, &c.b).await;
    c.assert_shows_account(c.merchant_center(&mut next, &c.b).await, "B");
    eprintln!(
        "faults: replica death ({backend}): CTA on A, A killed (SIGKILL) before the callback; callback on B answered 302 → /merchant-center in {} ms; B serves the session and the next login",
        took.as_millis()
    );
}

// ---------------------------------------------------------------------------------------
// 3. SIGTERM with requests in flight.

/// An IdM whose discovery document comes after `delay`; counts the requests for it.
async fn slow_idm(delay: Duration, hits: Arc<AtomicU32>) -> TestServer {
    use poem::{Route, get};
    let signer = causeway::federation::oidc::signer::Signer::es256("drain-key").unwrap();
    let jwks = json!({"keys": [signer.jwk]});
    TestServer::start(move |base| {
        let mut doc = crate::idp::discovery(base, "/jwks");
        doc["id_token_signing_alg_values_supported"] = json!(["ES256"]);
        Route::new()
            .at(
                "/.well-known/openid-configuration",
                get(poem::endpoint::make(move |_| {
                    let (doc, hits) = (doc.clone(), hits.clone());
                    async move {
                        hits.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(delay).await;
                        poem::web::Json(doc)
                    }
                })),
            )
            .at("/jwks", get(poem::endpoint::make_sync(move |_| poem::web::Json(jwks.clone()))))
    })
    .await
}

#[tokio::test]
async fn sigterm_drains_requests_already_accepted_and_exits_zero() {
    const IN_FLIGHT: u32 = 20;
    let db = TestDatabase::new().await;
    let app = credentials(&causeway_json(&db.url, &["app", "create", "--name", "Draining Platform", "--json"]));
    let hits = Arc::new(AtomicU32::new(0));
    let idm = slow_idm(Duration::from_millis(1500), hits.clone()).await;
    let mut server = Server::start(&db.url, &db.env, &[("CAUSEWAY_ALLOW_INSECURE_IDM", "true")]).await;
    let api = PartnerApi::new(&server.base(), &app.app_id, &app.app_token);
    let config = json!({"issuer": format!("{}/", idm.base), "client_id": "causeway", "client_secret": "s3cret",
        "token_endpoint_auth_method": "client_secret_basic", "domain": "partner.example", "logout_url": "https://partner.example/bye"});
    api.configure_idm(&config).await;

    // Twenty connection tests, each waiting on the slow discovery document inside Causeway.
    let requests: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let request = api.request(reqwest::Method::POST, "/partner/idm/test").timeout(Duration::from_secs(40));
            tokio::spawn(async move {
                let resp = request.send().await.map_err(|e| format!("{e:?}"))?;
                let status = resp.status();
                let body = resp.text().await.map_err(|e| format!("body: {e:?}"))?;
                Ok::<_, String>((status, body, Instant::now()))
            })
        })
        .collect();
    let waiting = Instant::now();
    while hits.load(Ordering::SeqCst) < IN_FLIGHT {
        assert!(waiting.elapsed() < Duration::from_secs(15), "only {} of {IN_FLIGHT} requests reached the IdM", hits.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(server.pid(), libc::SIGTERM) }, 0);
    let sigterm = Instant::now();

    // Accepting stops: a new connection is refused while the twenty still run.
    let addr = server.addr();
    let refused = tokio::spawn(async move {
        while sigterm.elapsed() < Duration::from_secs(5) {
            match tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(addr)).await {
                Ok(Err(_)) => return Some(sigterm.elapsed()),
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
        None
    });

    let mut last = sigterm;
    for request in requests {
        let (status, body, at) = request.await.unwrap().unwrap_or_else(|e| panic!("a request accepted before SIGTERM got no complete answer: {e}\n{}", server.log_tail()));
        assert_eq!(status, StatusCode::OK, "{body}");
        let report: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not the whole report ({e}): {body}"));
        let discovery = report["steps"].as_array().and_then(|steps| steps.iter().find(|s| s["name"] == "discovery")).cloned().unwrap_or_default();
        assert_eq!(discovery["status"], "passed", "the slow discovery was waited for: {report:#}");
        assert!(at > sigterm, "answered after SIGTERM, so it was in flight");
        last = last.max(at);
    }
    let answered = last - sigterm;
    let exit = tokio::time::timeout(Duration::from_secs(30).saturating_sub(sigterm.elapsed()), server.serving.child.wait())
        .await
        .unwrap_or_else(|_| panic!("still running 30 s after SIGTERM\n{}", server.log_tail()))
        .unwrap();
    let exited = sigterm.elapsed();
    assert!(exit.success(), "exit status after SIGTERM: {exit}\n{}", server.log_tail());
    let refused = refused.await.unwrap();
    eprintln!(
        "faults: sigterm: {IN_FLIGHT} of {IN_FLIGHT} in-flight requests answered 200 with the whole report, the last {:.2} s after SIGTERM; exit status 0 after {:.2} s; new connections refused {}",
        answered.as_secs_f64(),
        exited.as_secs_f64(),
        refused.map_or("— not seen within 5 s".to_owned(), |t| format!("{} ms after SIGTERM", t.as_millis()))
    );
    assert!(!server.running());
}

// ---------------------------------------------------------------------------------------
// 4. An IdM outage.

const OUTAGE_TIMEOUT_MS: u64 = 1000;
const OUTAGE_LOGOUT: &str = "https://partner.example/after-logout";

/// Until dropped, something else on the IdM's address: a port that accepts connections and
/// never answers, or one that answers every request with a 500.
struct BadIdm {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BadIdm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn bind_again(port: u16) -> TcpListener {
    let started = Instant::now();
    loop {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => return listener,
            Err(err) => {
                assert!(started.elapsed() < Duration::from_secs(10), "127.0.0.1:{port} not free again: {err}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

impl BadIdm {
    async fn hanging(port: u16) -> Self {
        let listener = bind_again(port).await;
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        Self { task }
    }

    async fn failing(port: u16) -> Self {
        let listener = bind_again(port).await;
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut head = Vec::new();
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let body = r#"{"error":"server_error"}"#;
                    let answer = format!("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                    let _ = stream.write_all(answer.as_bytes()).await;
                });
            }
        });
        Self { task }
    }
}

/// Asserts an SSO error page in `brand`'s colours with one of `codes`; its code.
fn branded_failure(status: StatusCode, page: &str, brand: &str, support: Option<&str>, codes: &[&str]) -> String {
    let code = failure(page).unwrap_or_else(|| panic!("not the SSO error page ({status}): {page}"));
    assert!(codes.contains(&code.as_str()), "{code} is not one of {codes:?}: {page}");
    assert!(status.is_server_error(), "an unreachable IdM is a gateway failure, not the merchant's: {status}");
    assert!(page.contains(&format!("<span class=\"portal-name\">{brand}</span>")), "the page is in the partner's branding ({brand}): {page}");
    if let Some(support) = support {
        assert!(page.contains(support), "the partner's support line is on the page: {page}");
    }
    code
}

/// A partner on the outage's IdM: its credentials, its account, and the IdM user whose
/// account claim names that account.
struct OutagePartner {
    who: Credentials,
    name: &'static str,
    user: &'static str,
    account: String,
}

/// During one form of the outage: the callback of a login in flight (the code exchange
/// cannot reach the token endpoint) and the first CTA of a partner this process has not
/// opened a connector for yet (discovery cannot be fetched) each end on the partner's
/// branded error page within the IdM timeout.
async fn outage_phase(form: &str, browser: &mut FormBrowser, back: url::Url, cta: &str, partner: &str, timeout: Duration) -> String {
    let slack = Duration::from_millis(1500);
    let started = Instant::now();
    let (status, _, page) = browser.get(back.as_str()).await;
    let took = started.elapsed();
    let code = branded_failure(status, &page, "Outage Pay", Some("Outage Pay support: 555-0100"), &["token_endpoint_failed", "idm_unavailable"]);
    assert!(took < timeout + slack, "{form}: the callback failed after {took:?}, beyond the {timeout:?} IdM timeout");
    let started = Instant::now();
    let (cta_status, _, cta_page) = FormBrowser::new().get(cta).await;
    let cta_took = started.elapsed();
    let cta_code = branded_failure(cta_status, &cta_page, partner, None, &["idm_unavailable"]);
    assert!(cta_took < timeout + slack, "{form}: the CTA failed after {cta_took:?}, beyond the {timeout:?} IdM timeout");
    format!("{form}: callback {} {code} in {} ms, a first CTA {} {cta_code} in {} ms", status.as_u16(), took.as_millis(), cta_status.as_u16(), cta_took.as_millis())
}

/// How soon after the IdM is back a partner whose connector failed to open during the
/// outage must sign in again: Causeway may remember the failure for a few seconds
/// (discovery is not fetched again by every click while an IdM is down).
const RECOVERY_LIMIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn an_idm_outage_gives_branded_pages_and_recovery_needs_no_restart() {
    let timeout = Duration::from_millis(OUTAGE_TIMEOUT_MS);
    let app = spawn_app_for_sso(&[("CAUSEWAY_IDM_TIMEOUT_MS", &OUTAGE_TIMEOUT_MS.to_string()), ("CAUSEWAY_CTA_RATE_PER_MINUTE", "1000")]).await;
    let first_account = app.account(&app.partner, "alice@shop.example", "Corner Shop").await;
    let branding = json!({"display_name": "Outage Pay", "brand_color": "#0a7cff", "support_label": "Outage Pay support: 555-0100"});
    let resp = app.api(reqwest::Method::PUT, "/partner/branding", &app.partner).json(&branding).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{}", resp.text().await.unwrap());
    // For each form of the outage a partner on the same IdM that nobody has signed in to
    // in this process yet: its first CTA has to fetch discovery.
    let mut others = Vec::new();
    for (name, user) in [("Second Platform", "bob"), ("Third Platform", "carol"), ("Fourth Platform", "dave")] {
        let who = app.another_partner(name).await;
        let account = app.partner_api(&who).account(&format!("{user}@shop.example"), "Other Shop").await;
        others.push(OutagePartner { who, name, user, account });
    }

    let cta = |who: &Credentials| app.url(&format!("/sso/oidc/{}", who.app_id));
    let callback = |who: &Credentials| app.url(&format!("/sso/oidc/{}/callback", who.app_id));
    let provider = |port: u16| {
        let mut redirects = vec![callback(&app.partner)];
        let mut accounts = vec![crate::idp::person("alice", "alice@shop.example", "Alice", &first_account)];
        for other in &others {
            redirects.push(callback(&other.who));
            accounts.push(crate::idp::person(other.user, &format!("{}@shop.example", other.user), other.user, &other.account));
        }
        json!({
            "port": port,
            "clients": [{"client_id": "causeway", "client_secret": "s3cret", "redirect_uris": redirects,
                         "post_logout_redirect_uris": [OUTAGE_LOGOUT], "token_endpoint_auth_method": "client_secret_basic",
                         "id_token_signed_response_alg": "ES256"}],
            "accounts": accounts
        })
    };
    let idp = crate::idp::OidcProvider::start(provider(0)).await;
    let port = url::Url::parse(&idp.issuer).unwrap().port().unwrap();
    let config = json!({"issuer": idp.issuer, "client_id": "causeway", "client_secret": "s3cret",
        "token_endpoint_auth_method": "client_secret_basic", "domain": "partner.example", "logout_url": OUTAGE_LOGOUT});
    app.configure_idm(&config).await;
    for other in &others {
        app.partner_api(&other.who).configure_idm(&config).await;
    }
    let alice = [("login", "alice"), ("password", "any")];
    assert!(app.sign_in(&mut FormBrowser::new(), &alice).await.is_ok(), "a login works before the outage");

    // Three logins get as far as the IdM's redirect back while it is up; their callbacks
    // come during the outage, one in each of its forms.
    let mut in_flight = Vec::new();
    for _ in 0..3 {
        let mut browser = FormBrowser::new();
        let back = browser.run_until(&cta(&app.partner), &callback(&app.partner), &alice).await;
        in_flight.push((browser, back));
    }
    drop(idp);

    let mut figures = Vec::new();
    let mut flights = in_flight.into_iter();
    // Gone: nothing listens at the IdM's address.
    let closed = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        assert!(closed.elapsed() < Duration::from_secs(10), "the IdM did not stop");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (mut browser, back) = flights.next().unwrap();
    figures.push(outage_phase("refused", &mut browser, back, &cta(&others[0].who), others[0].name, timeout).await);
    // Hanging: connections accepted, never answered.
    let bad = BadIdm::hanging(port).await;
    let (mut browser, back) = flights.next().unwrap();
    figures.push(outage_phase("hanging", &mut browser, back, &cta(&others[1].who), others[1].name, timeout).await);
    drop(bad);
    // Failing: every request answered 500.
    let bad = BadIdm::failing(port).await;
    let (mut browser, back) = flights.next().unwrap();
    figures.push(outage_phase("500s", &mut browser, back, &cta(&others[2].who), others[2].name, timeout).await);
    drop(bad);

    // The IdM comes back on the same address (with the same keys: tests/idp/keys.json).
    let started = Instant::now();
    drop(bind_again(port).await);
    let idp = crate::idp::OidcProvider::start(provider(port)).await;
    assert_eq!(url::Url::parse(&idp.issuer).unwrap().port(), Some(port));
    let back_up = Instant::now();
    let restart_took = back_up - started;
    // The first partner's connector is open: its very next login works.
    let first_again = app.sign_in(&mut FormBrowser::new(), &alice).await;
    assert_eq!(first_again.as_deref(), Ok("/merchant-center"), "the first partner's next login after the IdM is back");
    let first_took = back_up.elapsed();
    // The others sign in again too, in the same Causeway process, once any failure it
    // remembers has run out.
    let mut recoveries = Vec::new();
    for other in &others {
        let mut refused = 0;
        let mut browser = loop {
            let mut browser = FormBrowser::new();
            let (status, _, page) = browser.get(&cta(&other.who)).await;
            if status == StatusCode::FOUND {
                break browser;
            }
            assert_eq!(failure(&page).as_deref(), Some("idm_unavailable"), "{}: {status}", other.name);
            refused += 1;
            assert!(back_up.elapsed() < RECOVERY_LIMIT, "{}: CTAs still refused {RECOVERY_LIMIT:?} after the IdM came back", other.name);
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        let login = [("login", other.user), ("password", "any")];
        let back = browser.run_until(&cta(&other.who), &callback(&other.who), &login).await;
        let (status, location, page) = browser.get(back.as_str()).await;
        assert_eq!((status, location.as_deref()), (StatusCode::FOUND, Some("/merchant-center")), "{}: {:?}", other.name, failure(&page));
        recoveries.push(format!("{} after {refused} refused CTA{} ({:.1} s)", other.name, if refused == 1 { "" } else { "s" }, back_up.elapsed().as_secs_f64()));
    }
    eprintln!(
        "faults: idm outage (IdM timeout {OUTAGE_TIMEOUT_MS} ms): {}; IdM back on port {port} ({:.1} s to restart it); then, without restarting Causeway, the open connector's next login succeeded ({} ms), and the partners whose discovery had failed signed in: {}",
        figures.join("; "),
        restart_took.as_secs_f64(),
        first_took.as_millis(),
        recoveries.join(", ")
    );
}

// ---------------------------------------------------------------------------------------
// 5. SQLite killed with `kill -9` during writes.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kill_9_during_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}?mode=rwc", dir.path().join("causeway.db").display());
    let app = credentials(&causeway_json(&db_url, &["app", "create", "--name", "Killed Platform", "--json"]));
    let mut server = Server::start(&db_url, &[], &[]).await;
    let started = Instant::now();
    let load = Load::start(6, vec![server.base()], &app);
    let mut kills = Vec::new();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let before = load.acknowledged();
        let status = server.kill_9().await;
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
        let down = Instant::now();
        // The same file, a new process (on a new port: the clients follow).
        server = Server::start(&db_url, &[], &[]).await;
        load.point_at(vec![server.base()]);
        kills.push((before, down.elapsed()));
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let seen = load.finish().await;
    let load_time = started.elapsed();
    assert!(server.running(), "{}", server.log_tail());

    let rows = legal_entities_in(&db_url, &app.app_id).await;
    let audit = audit(&seen, &rows);
    // And through the API of the last process: every acknowledged id reads back.
    let api = PartnerApi::new(&server.base(), &app.app_id, &app.app_token);
    let ids: Vec<String> = seen.acknowledged.iter().map(|(_, _, id)| id.clone()).collect();
    let readers: Vec<_> = ids
        .chunks(ids.len().div_ceil(8).max(1))
        .map(|chunk| {
            let (api, chunk) = (api.clone(), chunk.to_vec());
            tokio::spawn(async move {
                let mut missing = Vec::new();
                for id in chunk {
                    let resp = api.request(reqwest::Method::GET, &format!("/legal_entities/{id}")).send().await.unwrap();
                    if resp.status() != StatusCode::OK {
                        missing.push(format!("{id}: {}", resp.status()));
                    }
                }
                missing
            })
        })
        .collect();
    let mut unreadable = Vec::new();
    for reader in readers {
        unreadable.extend(reader.await.unwrap());
    }
    let kills_text: Vec<String> = kills.iter().map(|(before, restart)| format!("after {before} writes (restarted in {} ms)", restart.as_millis())).collect();
    eprintln!(
        "faults: sqlite kill -9: {} acknowledged writes ({} replays) by 6 clients in {:.1} s, 3 kills {}, {} lost, {} duplicated, {} stored unacknowledged, {} unreadable through the API; client errors {}",
        seen.acknowledged.len(),
        seen.replayed,
        load_time.as_secs_f64(),
        kills_text.join(", "),
        audit.lost.len(),
        audit.duplicated.len(),
        audit.unacknowledged.len(),
        unreadable.len(),
        seen.failures_text()
    );
    assert!(seen.acknowledged.len() >= 100, "the load ran: only {} writes acknowledged", seen.acknowledged.len());
    assert!(seen.unexpected.is_empty(), "answers other than 2xx or 5xx: {:#?}", &seen.unexpected[..seen.unexpected.len().min(10)]);
    assert_eq!(seen.abandoned, 0, "writes never acknowledged within {WRITE_DEADLINE:?}\n{}", server.log_tail());
    assert!(audit.lost.is_empty(), "acknowledged writes missing from the database: {:?}", audit.lost);
    assert!(unreadable.is_empty(), "acknowledged writes the API does not find: {unreadable:?}");
    assert!(audit.duplicated.is_empty(), "duplicated writes: {:?}", audit.duplicated);
    assert!(audit.unacknowledged.is_empty(), "rows no client was told about: {:?}", audit.unacknowledged);
    assert_eq!(rows.len(), seen.acknowledged.len());
}

// ---------------------------------------------------------------------------------------
// 6. A hostile sweep over every route.

/// SplitMix64: seeded, so the sweep sends the same requests at every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn text(&mut self, len: usize) -> String {
        const CHARS: &[char] = &['a', 'Z', '0', ' ', '"', '\\', '<', '>', '&', '%', '\u{0}', '\u{1b}', '\u{202e}', 'é', '😀', '\n', '\''];
        (0..len).map(|_| *self.pick(CHARS)).collect()
    }

    /// A JSON value of depth at most `depth`.
    fn json(&mut self, depth: usize) -> Value {
        match self.below(if depth == 0 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => json!(self.chance(50)),
            2 => json!(self.next() as i64),
            3 => json!(*self.pick(&[0.5, -1e308, 1e-308, 9007199254740993.0])),
            4 => {
                let len = self.below(40);
                json!(self.text(len))
            }
            5 => Value::Array((0..self.below(6)).map(|_| self.json(depth - 1)).collect()),
            _ => {
                let keys = ["country", "controller", "email", "email_is_verified", "name", "legal_entity_id", "issuer", "client_id", "limit", "display_name", "x"];
                Value::Object((0..self.below(6)).map(|_| (self.pick(&keys).to_string(), self.json(depth - 1))).collect())
            }
        }
    }
}

/// One request of the sweep: a label saying what it is, and its bytes.
struct Probe {
    label: String,
    bytes: Vec<u8>,
}

/// What the sweep knows of the server: ids and sessions that get requests past the
/// first checks.
struct Sweep {
    app: Credentials,
    legal_entity: String,
    account: String,
    /// Cookies of a Partner Center session and of a Merchant Center session.
    pc_cookie: String,
    mc_cookie: String,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];
const CONTENT_TYPES: &[&str] = &[
    "",
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=utf-16",
    "application/x-www-form-urlencoded",
    "text/plain",
    "multipart/form-data; boundary=zz",
    "application/xml",
    "application/json, text/html",
    "*/*",
    "application/",
];
const QUERIES: &[&str] = &[
    "",
    "?limit=1&limit=2&limit=x",
    "?limit=%00&since=%00",
    "?q=%ff%fe&limit=%c3%28",
    "?q=%zz&%&=&==",
    "?state=a&state=b&code=c&code=d&iss=x&iss=y&error=%00",
    "?limit=-1",
    "?limit=99999999999999999999999",
    "?redirect=javascript:alert(1)&next=//evil.example",
    "?a[]=1&a[x]=2&__proto__=x",
];

impl Sweep {
    /// The route templates: the API document's paths (from the server) and the page trees.
    fn routes(document: &Value) -> Vec<(String, Vec<String>)> {
        let mut routes: Vec<(String, Vec<String>)> = document["paths"]
            .as_object()
            .expect("the API document lists its paths")
            .iter()
            .map(|(path, ops)| {
                let methods = ops.as_object().unwrap().keys().map(|m| m.to_uppercase()).filter(|m| METHODS.contains(&m.as_str())).collect();
                (path.clone(), methods)
            })
            .collect();
        assert!(routes.len() >= 10, "the API document has its paths: {routes:?}");
        let pages: &[(&str, &[&str])] = &[
            ("/partner-center", &["GET"]),
            ("/partner-center/sign-in", &["GET", "POST"]),
            ("/partner-center/sign-out", &["POST"]),
            ("/partner-center/idm", &["GET", "POST"]),
            ("/partner-center/idm/test", &["POST"]),
            ("/partner-center/idm/history", &["GET"]),
            ("/partner-center/idm/history/{version}/restore", &["POST"]),
            ("/partner-center/branding", &["GET", "POST"]),
            ("/partner-center/brand.css", &["GET"]),
            ("/partner-center/events", &["GET"]),
            ("/sso/oidc/{app}", &["GET"]),
            ("/sso/oidc/{app}/callback", &["GET"]),
            ("/sso/logout", &["POST"]),
            ("/merchant-center", &["GET"]),
            ("/merchant-center/kyc", &["GET", "POST"]),
            ("/merchant-center/payout", &["GET", "POST"]),
            ("/merchant-center/users", &["GET"]),
            ("/merchant-center/accounts", &["GET", "POST"]),
            ("/brand/{file}", &["GET"]),
            ("/assets/causeway.css", &["GET"]),
            ("/assets/partner-center.js", &["GET"]),
            ("/assets/sso-error.js", &["GET"]),
            ("/assets/icon.svg", &["GET"]),
            ("/healthz", &["GET"]),
            ("/readyz", &["GET"]),
            ("/metrics", &["GET"]),
            ("/docs", &["GET"]),
            ("/openapi.json", &["GET"]),
            ("/", &["GET"]),
            ("/no/such/page", &["GET"]),
        ];
        routes.extend(pages.iter().map(|(path, methods)| (path.to_string(), methods.iter().map(|m| m.to_string()).collect())));
        routes
    }

    fn real_value(&self, template: &str, name: &str) -> String {
        match name {
            "id" if template.starts_with("/accounts") => self.account.clone(),
            "id" => self.legal_entity.clone(),
            "app" => self.app.app_id.clone(),
            "file" => format!("{}.css", self.app.app_id),
            _ => "1".to_owned(),
        }
    }

    /// The template with real values for its parameters.
    fn real_path(&self, template: &str) -> String {
        let mut path = template.to_owned();
        while let Some(start) = path.find('{') {
            let end = start + path[start..].find('}').unwrap();
            let value = self.real_value(template, &path[start + 1..end]);
            path.replace_range(start..=end, &value);
        }
        path
    }

    /// Credentials that get a request to `path` past authentication.
    fn valid_auth(&self, path: &str) -> Vec<(String, Vec<u8>)> {
        let header = |name: &str, value: &str| (name.to_owned(), value.as_bytes().to_vec());
        if path.starts_with("/partner-center") {
            vec![header("Cookie", &self.pc_cookie)]
        } else if path.starts_with("/merchant-center") || path.starts_with("/sso") {
            vec![header("Cookie", &self.mc_cookie)]
        } else {
            vec![header("App-Id", &self.app.app_id), header("App-Token", &self.app.app_token), header("Api-Version", "3.0")]
        }
    }

    /// The template with its parameters filled: real values, or hostile ones.
    fn path(&self, template: &str, rng: &mut Rng) -> String {
        let hostile = ["00000000-0000-0000-0000-000000000000", "not-an-id", "%00", "%ff%fe", "..%2F..%2Fetc%2Fpasswd", "-1", "99999999999999999999999", "%E2%80%AE", "x.css", "a%20b"];
        let long = "a".repeat(3000);
        let mut path = template.to_owned();
        while let Some(start) = path.find('{') {
            let end = start + path[start..].find('}').unwrap();
            let real = self.real_value(template, &path[start + 1..end]);
            let value = match rng.below(4) {
                0 | 1 => real,
                2 => rng.pick(&hostile).to_string(),
                _ if rng.chance(10) => long.clone(),
                _ => uuid::Uuid::new_v4().to_string(),
            };
            path.replace_range(start..=end, &value);
        }
        path
    }

    /// The credentials a request to `path` may carry.
    fn auth(&self, path: &str, rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
        let header = |name: &str, value: &str| (name.to_owned(), value.as_bytes().to_vec());
        if path.starts_with("/partner-center") {
            return if rng.chance(70) { vec![header("Cookie", &self.pc_cookie)] } else { vec![header("Cookie", "__Host-causeway_pc=forged; __Host-causeway_csrf=%00")] };
        }
        if path.starts_with("/merchant-center") || path.starts_with("/sso") {
            return if rng.chance(70) { vec![header("Cookie", &self.mc_cookie)] } else { vec![header("Cookie", "__Host-causeway_session=\u{7f}; __Host-causeway_sso=;;;")] };
        }
        match rng.below(5) {
            0 => vec![],
            1 => vec![header("App-Id", &self.app.app_id), header("App-Token", "wrong"), header("Api-Version", "3.0")],
            2 => vec![header("App-Id", "%00"), header("App-Token", &"x".repeat(5000)), header("Api-Version", "99")],
            _ => vec![header("App-Id", &self.app.app_id), header("App-Token", &self.app.app_token), header("Api-Version", "3.0")],
        }
    }

    fn body(kind: usize, rng: &mut Rng) -> (&'static str, Vec<u8>) {
        match kind {
            0 => ("empty", vec![]),
            1 => {
                let len = rng.below(4096);
                ("random bytes", rng.bytes(len))
            }
            2 => ("random JSON", rng.json(5).to_string().into_bytes()),
            3 => {
                // The shape the API expects, one field replaced by something else.
                let mut body = legal_entity_body();
                let field = *rng.pick(&["country", "controller", "terms_of_service", "name", "legal_entity_id", "issuer"]);
                body[field] = rng.json(3);
                ("near-valid JSON", body.to_string().into_bytes())
            }
            4 => ("form with repeats and %00", b"csrf_token=a&csrf_token=b&app_id=%00&app_token=%ff%fe&app_token=&name=%00&&=&%zz".to_vec()),
            5 => ("10,000-element array", format!("[{}0]", "0,".repeat(9_999)).into_bytes()),
            6 => ("nested 10,000 deep (arrays)", format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes()),
            7 => ("nested 10,000 deep (objects)", format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).into_bytes()),
            8 => ("invalid UTF-8 in JSON", b"{\"country\": \"\xff\xfe\", \"controller\": {\"email\": \"\xc3\x28@x.example\"}}".to_vec()),
            _ => ("200 KB string", json!({"name": "x".repeat(200_000), "display_name": "y".repeat(1000)}).to_string().into_bytes()),
        }
    }

    /// The request's bytes.
    fn build(method: &str, target: &[u8], headers: &[(String, Vec<u8>)], content_type: &str, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + body.len());
        out.extend_from_slice(method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(target);
        out.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nUser-Agent: faults-sweep\r\n");
        for (name, value) in headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        if !content_type.is_empty() {
            out.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
            out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out
    }

    /// Writes a client may well send several of at once (a double click, a retry loop, two
    /// operators): each valid, all for the same app.
    fn bursts(&self, idm_config: &Value) -> Vec<Probe> {
        let api = |method: &str, path: &str, extra: &[(&str, &str)], body: &Value| {
            let mut headers = self.valid_auth(path);
            headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())));
            let body = if body.is_null() { vec![] } else { body.to_string().into_bytes() };
            let content_type = if body.is_empty() { "" } else { "application/json" };
            Probe { label: format!("{method} {path}"), bytes: Self::build(method, path.as_bytes(), &headers, content_type, &body) }
        };
        vec![
            api("PUT", "/partner/idm", &[], idm_config),
            api("POST", "/partner/idm/history/1/restore", &[], &Value::Null),
            api("PUT", "/partner/branding", &[], &json!({"display_name": "Swept Pay", "brand_color": "#112233"})),
            api("POST", "/legal_entities", &[("Unique-Key", "burst-legal-entity")], &legal_entity_body()),
            api("POST", "/accounts", &[("Unique-Key", "burst-account")], &json!({"legal_entity_id": self.legal_entity, "name": "Burst Shop"})),
            api("POST", "/legal_entities", &[], &legal_entity_body()),
        ]
    }

    /// Every probe: for each route, the fixed hostile cases and `random` seeded ones.
    fn probes(&self, routes: &[(String, Vec<String>)], random: usize, seed: u64) -> Vec<Probe> {
        let mut rng = Rng(seed);
        let mut probes = Vec::new();
        for (template, methods) in routes {
            let method = methods.iter().find(|m| m.as_str() != "GET").unwrap_or(&methods[0]).clone();
            let path = self.real_path(template);
            let auth = self.valid_auth(&path);
            let mut fixed = |label: &str, method: &str, target: Vec<u8>, extra: Vec<(String, Vec<u8>)>, content_type: &str, body: Vec<u8>| {
                let mut headers = auth.clone();
                headers.extend(extra);
                let bytes = Self::build(method, &target, &headers, content_type, &body);
                probes.push(Probe { label: format!("{method} {template} [{label}]"), bytes });
            };
            let p = path.as_bytes().to_vec();
            let with = |suffix: &[u8]| [p.as_slice(), suffix].concat();
            let filler = || ("X-Filler".to_owned(), vec![b'a'; 64 * 1024]);
            let big_cookie = || ("Cookie".to_owned(), [b"__Host-causeway_pc=".as_slice(), &vec![b'b'; 64 * 1024]].concat());
            fixed("64 KiB header", &method, p.clone(), vec![filler()], "", vec![]);
            fixed("64 KiB cookie", &method, p.clone(), vec![big_cookie()], "", vec![]);
            fixed("10,000-element array", &method, p.clone(), vec![], "application/json", Self::body(5, &mut rng).1);
            fixed("nested 10,000 deep (arrays)", &method, p.clone(), vec![], "application/json", Self::body(6, &mut rng).1);
            fixed("nested 10,000 deep (objects)", &method, p.clone(), vec![], "application/json", Self::body(7, &mut rng).1);
            fixed("invalid UTF-8 in the path", &method, with(b"/\xff\xfe\xc3\x28"), vec![], "", vec![]);
            fixed("invalid UTF-8 in the path, percent-encoded", &method, with(b"%ff%fe"), vec![], "", vec![]);
            fixed("%00 in the path", &method, with(b"%00"), vec![], "", vec![]);
            fixed("invalid UTF-8 in the query", &method, with(b"?q=\xff\xfe&limit=\xc3\x28"), vec![], "", vec![]);
            fixed("invalid UTF-8 in the query, percent-encoded", &method, with(b"?q=%ff%fe&limit=%c3%28&state=%80"), vec![], "", vec![]);
            fixed("%00 and repeated parameters", &method, with(b"?limit=%00&limit=1&limit=2&state=a&state=%00&code=%00&code=x"), vec![], "", vec![]);
            fixed("form with repeats and %00", &method, p.clone(), vec![], "application/x-www-form-urlencoded", Self::body(4, &mut rng).1);
            fixed("JSON sent as text/plain", &method, p.clone(), vec![], "text/plain", legal_entity_body().to_string().into_bytes());
            fixed("form sent as JSON", &method, p.clone(), vec![], "application/json", b"csrf_token=x&name=y".to_vec());
            fixed("non-ASCII Unique-Key", &method, p.clone(), vec![("Unique-Key".to_owned(), b"cl\xc3\xa9-\xff".to_vec())], "application/json", legal_entity_body().to_string().into_bytes());
            fixed("made-up method", "FROBNICATE", p.clone(), vec![], "", vec![]);
            fixed("dot segments", &method, [b"/./x/..".as_slice(), &p].concat(), vec![], "", vec![]);

            for n in 0..random {
                let method = if rng.chance(75) { rng.pick(methods).clone() } else { rng.pick(METHODS).to_string() };
                let path = self.path(template, &mut rng);
                let query = *rng.pick(QUERIES);
                let content_type = *rng.pick(CONTENT_TYPES);
                let kind = if rng.chance(85) { rng.below(5) } else { 5 + rng.below(5) };
                let (body_label, body) = Self::body(kind, &mut rng);
                let body = if method == "GET" && rng.chance(70) { vec![] } else { body };
                let mut headers = self.auth(&path, &mut rng);
                let extra = match rng.below(12) {
                    0 => Some(("Unique-Key", rng.text(20).into_bytes())),
                    1 => Some(("Accept", b"application/xml;q=0.1, */*;q=x".to_vec())),
                    2 => Some(("X-Forwarded-For", b"999.1.1.1, ::ffff:127.0.0.1, %00".to_vec())),
                    3 => Some(("Cookie", rng.text(100).replace(['\n', '\u{0}'], "").into_bytes())),
                    _ => None,
                };
                headers.extend(extra.map(|(name, value)| (name.to_owned(), value)));
                let target = format!("{path}{query}");
                let bytes = Self::build(&method, target.as_bytes(), &headers, content_type, &body);
                probes.push(Probe { label: format!("{method} {template} [random {n}: {body_label}, content type {content_type:?}, query {query:?}]"), bytes });
            }
        }
        probes
    }
}

/// Sends `request` on a new connection; the answer's status, or why there was none.
async fn send_raw(addr: SocketAddr, request: &[u8]) -> Result<u16, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    exchange(stream, request).await
}

/// `count` copies of `request` at once, each on its own connection (all connected first,
/// then all written together); their answers.
async fn send_together(addr: SocketAddr, request: &[u8], count: usize) -> Vec<Result<u16, String>> {
    let barrier = Arc::new(tokio::sync::Barrier::new(count));
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let (barrier, request) = (barrier.clone(), request.to_vec());
            tokio::spawn(async move {
                let stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"));
                barrier.wait().await;
                exchange(stream?, &request).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// Writes `request` on `stream` and reads the answer to its end: its status.
async fn exchange(mut stream: TcpStream, request: &[u8]) -> Result<u16, String> {
    // The server may answer (and close) before reading everything: what it said counts.
    let wrote = stream.write_all(request).await;
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let read = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) => return Err(e),
            }
        }
    })
    .await;
    let status = answer.strip_prefix(b"HTTP/1.1 ").or_else(|| answer.strip_prefix(b"HTTP/1.0 ")).and_then(|rest| std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok());
    match (status, read) {
        (Some(status), _) => Ok(status),
        (None, Err(_)) => Err("no answer within 15 s".into()),
        (None, Ok(result)) => Err(format!("no status line (write: {wrote:?}, read: {result:?}, {} bytes)", answer.len())),
    }
}

/// The start of a request, readable.
fn head_of(bytes: &[u8]) -> String {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(bytes.len());
    let head = String::from_utf8_lossy(&bytes[..end.min(600)]).into_owned();
    format!("{head}{} (+{} body bytes)", if end > 600 { "…" } else { "" }, bytes.len().saturating_sub(end + 4))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_sweep_gets_no_5xx_and_little_memory() {
    const RANDOM_PER_ROUTE: usize = 60;
    const SEED: u64 = 0x5EED_0014;
    let db = TestDatabase::new().await;
    let app = credentials(&causeway_json(&db.url, &["app", "create", "--name", "Swept Platform", "--json"]));
    // Callbacks go to this public URL; the test points them at the server's real address.
    let public = "http://causeway.sweep.example";
    // Throttles lifted, so that the requests reach the handlers behind them (one client
    // address sends everything, wrong tokens included).
    let lifted = [
        ("CAUSEWAY_ALLOW_INSECURE_IDM", "true"),
        ("CAUSEWAY_PUBLIC_URL", public),
        ("CAUSEWAY_API_FAILED_AUTH_PER_MINUTE", "1000000"),
        ("CAUSEWAY_CTA_RATE_PER_MINUTE", "1000000"),
        ("CAUSEWAY_CTA_RATE_PER_APP_PER_SECOND", "1000000"),
    ];
    let mut server = Server::start(&db.url, &db.env, &lifted).await;
    let api = PartnerApi::new(&server.base(), &app.app_id, &app.app_token);
    let legal_entity = api.legal_entity("owner@shop.example").await;
    let account = api.send(reqwest::Method::POST, "/accounts", &json!({"legal_entity_id": legal_entity, "name": "Swept Shop"}), 201).await["id"].as_str().unwrap().to_owned();
    let op = crate::support::fake_op::FakeOp::start().await;
    op.set(|b| {
        b.id_token_claims = json!({"email": "owner@shop.example", "email_verified": true, "given_name": "Olive", "family_name": "Owner",
            "https://partner.example/wepay_account_id": account});
    });
    api.configure_idm(&op.config(json!({}))).await;

    // A Merchant Center session (a login through the fake IdM) and a Partner Center one.
    let mut browser = FormBrowser::new();
    let mut back = browser
        .run_until(&server.url(&format!("/sso/oidc/{}", app.app_id)), &format!("{public}/sso/oidc/{}/callback", app.app_id), &[])
        .await;
    let real = server.addr();
    back.set_host(Some("127.0.0.1")).unwrap();
    back.set_port(Some(real.port())).unwrap();
    let (status, _, page) = browser.get(back.as_str()).await;
    assert_eq!(status, StatusCode::FOUND, "{page}");
    let mc_session = browser.cookie(causeway::services::merchant_sessions::COOKIE).expect("a merchant session");
    let pc = crate::pc_client::PcClient::at(reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(), server.base());
    pc.sign_in(&app).await;
    let pc_session = pc.cookie(crate::pc_client::SESSION_COOKIE).expect("a partner center session");
    let sweep = Sweep {
        app: app.clone(),
        legal_entity,
        account,
        pc_cookie: format!("{}={pc_session}", crate::pc_client::SESSION_COOKIE),
        mc_cookie: format!("{}={mc_session}", causeway::services::merchant_sessions::COOKIE),
    };

    let document: Value = reqwest::get(server.url("/openapi.json")).await.unwrap().json().await.unwrap();
    let routes = Sweep::routes(&document);
    let probes = Arc::new(sweep.probes(&routes, RANDOM_PER_ROUTE, SEED));
    let rss_before = rss_kib(server.pid());

    let started = Instant::now();
    const WORKERS: usize = 4;
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let probes = probes.clone();
            tokio::spawn(async move {
                let mut results = Vec::new();
                for i in (w..probes.len()).step_by(WORKERS) {
                    results.push((i, send_raw(real, &probes[i].bytes).await));
                }
                results
            })
        })
        .collect();
    let mut statuses: BTreeMap<u16, u32> = BTreeMap::new();
    let mut server_errors = Vec::new();
    let mut unanswered = Vec::new();
    for worker in workers {
        for (i, result) in worker.await.unwrap() {
            match result {
                Ok(status) => {
                    *statuses.entry(status).or_default() += 1;
                    if status >= 500 {
                        server_errors.push(format!("{status} for {}:\n{}", probes[i].label, head_of(&probes[i].bytes)));
                    }
                }
                Err(why) => unanswered.push(format!("{why} for {}:\n{}", probes[i].label, head_of(&probes[i].bytes))),
            }
        }
    }
    let took = started.elapsed();
    // Then each write of `bursts` sixteen times at once.
    const BURST: usize = 16;
    let bursts = sweep.bursts(&op.config(json!({})));
    let mut burst_statuses: BTreeMap<u16, u32> = BTreeMap::new();
    for burst in &bursts {
        for result in send_together(real, &burst.bytes, BURST).await {
            match result {
                Ok(status) => {
                    *burst_statuses.entry(status).or_default() += 1;
                    if status >= 500 {
                        server_errors.push(format!("{status} for one of {BURST} simultaneous {}:\n{}", burst.label, head_of(&burst.bytes)));
                    }
                }
                Err(why) => unanswered.push(format!("{why} for one of {BURST} simultaneous {}:\n{}", burst.label, head_of(&burst.bytes))),
            }
        }
    }
    let alive = server.running();
    let healthz = reqwest::get(server.url("/healthz")).await.map(|r| r.status());
    let rss_after = if alive { rss_kib(server.pid()) } else { 0 };
    let growth_mib = (rss_after as f64 - rss_before as f64) / 1024.0;
    let statuses_text = |statuses: &BTreeMap<u16, u32>| statuses.iter().map(|(s, n)| format!("{s}×{n}")).collect::<Vec<_>>().join(" ");
    eprintln!(
        "faults: hostile sweep: {} requests over {} routes in {:.1} s ({} workers, seed {SEED:#x}); statuses {}; then {} writes {BURST} at a time: statuses {}; {} 5xx, {} unanswered; RSS {:.1} → {:.1} MiB ({growth_mib:+.1} MiB); /healthz after: {healthz:?}",
        probes.len(),
        routes.len(),
        took.as_secs_f64(),
        WORKERS,
        statuses_text(&statuses),
        bursts.len(),
        statuses_text(&burst_statuses),
        server_errors.len(),
        unanswered.len(),
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
    );
    for line in server_errors.iter().chain(&unanswered).take(20) {
        eprintln!("faults: hostile sweep: {line}");
    }
    assert!(probes.len() >= 2000, "a few thousand requests: {}", probes.len());
    assert!(alive, "the server died during the sweep\n{}", server.log_tail());
    assert_eq!(healthz.ok(), Some(StatusCode::OK), "the server still answers /healthz");
    assert!(server_errors.is_empty(), "{} requests got a 5xx; the first: {:#?}\n{}", server_errors.len(), &server_errors[..server_errors.len().min(5)], server.log_errors());
    assert!(unanswered.is_empty(), "{} requests got no answer; the first: {:#?}", unanswered.len(), &unanswered[..unanswered.len().min(5)]);
    assert!(growth_mib < 50.0, "RSS grew by {growth_mib:.1} MiB over the sweep");
}
