//! What the load benchmarks share: knobs from the environment, a release `causeway serve`
//! as a separate process (so its CPU time can be read apart from the load generator's),
//! and that process's CPU time, and the measuring window of the client-driven benches.

// Each bench compiles this module and uses a part of it.
#![allow(dead_code)]

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::task::JoinHandle;

#[path = "../../tests/support/mod.rs"]
pub mod testkit;

pub const BIN: &str = testkit::serve::BIN;

/// A numeric knob from the environment, or its default.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// utime + stime of a process, in seconds (Linux /proc, 100 ticks per second).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// The resident and peak memory of a process, for the report: "RSS N MB (peak M MB)".
pub fn memory(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |field: &str| status.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    format!("RSS {:.1} MB (peak {:.1} MB)", kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

/// `causeway app create` on the database: (app id, app token).
pub fn create_app(db_url: &str) -> (String, String) {
    let out = std::process::Command::new(BIN)
        .args(["app", "create", "--name", "bench", "--json"])
        .env("CAUSEWAY_DATABASE_URL", db_url)
        .env("CAUSEWAY_LOG", "warn")
        .output()
        .expect("run causeway app create");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app: Value = serde_json::from_slice(&out.stdout).unwrap();
    (app["app_id"].as_str().unwrap().to_owned(), app["app_token"].as_str().unwrap().to_owned())
}

/// A release `causeway serve` the benchmark drives.
pub type Server = testkit::serve::Serving;

/// Starts `causeway serve` on the database with benchmark settings (no per-request log
/// lines, no rate limit, a fresh master key) plus `extra`, and waits until it listens.
/// Its log lines (warnings) are echoed to stderr.
pub async fn serve(db_url: &str, extra: &[(&str, String)]) -> Server {
    let (_, master_key) = causeway::crypto::keyring::MasterKey::generate();
    // BENCH_SERVER_WRAPPER: a program the server runs under (`benches/count_instructions.sh`).
    let wrapper = std::env::var("BENCH_SERVER_WRAPPER").unwrap_or_default();
    let mut command = testkit::serve::command_under(&wrapper.split_whitespace().collect::<Vec<_>>(), db_url);
    command
        // Request lines cost a write per request; the benchmarks measure the request path.
        .env("CAUSEWAY_LOG", std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn,causeway::startup=info".into()))
        .env("CAUSEWAY_API_RATE_PER_SECOND", "1000000")
        .env("CAUSEWAY_API_RATE_BURST", "1000000")
        // The load comes from one address: the CTA's pacing would refuse it.
        .env("CAUSEWAY_CTA_RATE_PER_MINUTE", "1000000")
        .env("CAUSEWAY_CTA_RATE_PER_APP_PER_SECOND", "1000000")
        // PostgreSQL deployments must bring their master key.
        .env("CAUSEWAY_MASTER_KEY", secrecy::ExposeSecret::expose_secret(&master_key))
        .env("CAUSEWAY_DB_POOL_SIZE", std::env::var("BENCH_DB_POOL_SIZE").unwrap_or_else(|_| "8".into()))
        .stderr(Stdio::inherit());
    // The benches' own knob, not the server's (it would warn about an unknown variable).
    command.env_remove("CAUSEWAY_BENCH_POSTGRES_URL");
    command.env_remove("BENCH_SERVER_WRAPPER");
    for (name, value) in extra {
        command.env(name, value);
    }
    Server::start(command).await
}

/// What the clients did in the measured window.
pub struct Window {
    pub elapsed: f64,
    /// One per completed operation in the window, sorted.
    pub latencies: Vec<Duration>,
    pub errors: u64,
    /// The server's CPU seconds in the window.
    pub cpu: f64,
    /// This process's CPU seconds (the load generators) in the window.
    pub bench_cpu: f64,
}

impl Window {
    /// The `p` quantile of the latencies, in ms (NaN when nothing completed).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let n = self.latencies.len();
        if n == 0 {
            return f64::NAN;
        }
        self.latencies[((n as f64 * p) as usize).min(n - 1)].as_secs_f64() * 1000.0
    }
}

/// Lets `workers` warm up, then records `seconds` of their work (they push a latency
/// only while `measuring` is set) and the CPU of the server `pid`; stops them and
/// gathers their (latencies, errors).
pub async fn measure(
    workers: Vec<JoinHandle<(Vec<Duration>, u64)>>,
    measuring: &AtomicBool,
    stop: &AtomicBool,
    warmup: u64,
    seconds: u64,
    pid: u32,
) -> Window {
    tokio::time::sleep(Duration::from_secs(warmup)).await;
    let cpu_before = cpu_seconds(pid);
    let bench_cpu_before = cpu_seconds(std::process::id());
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_before;
    let bench_cpu = cpu_seconds(std::process::id()) - bench_cpu_before;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    latencies.sort();
    Window { elapsed, latencies, errors, cpu, bench_cpu }
}

/// Fills the database (migrated, before the server starts) with other partners' data, so a
/// bench shows whether its costs stay flat with size: `BENCH_POPULATION` =
/// "apps,accounts,sessions" (e.g. "10000,1000000,100000"; unset: nothing added). Accounts
/// spread evenly over the apps, ten to a legal entity; each session's user and account
/// belong to the same app. The same SQL runs on SQLite and PostgreSQL. Returns what it
/// added, for the report.
pub async fn seed_population(db_url: &str) -> String {
    let Ok(spec) = std::env::var("BENCH_POPULATION") else { return "no other data".into() };
    let sizes: Vec<i64> = spec.split(',').map(|n| n.trim().parse().expect("BENCH_POPULATION: apps,accounts,sessions")).collect();
    let [apps, accounts, sessions] = sizes[..] else { panic!("BENCH_POPULATION: apps,accounts,sessions") };
    let legal_entities = (accounts / 10).max(1);
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(db_url).await.unwrap();
    // UUID-shaped ids (what the server parses), from the row number and a digit per table.
    let id = |n: &str, table: u8| format!("CAST({n} + 10000000 AS TEXT) || '-0000-4000-8000-00000000000{table}'");
    let rows = |count: i64, insert: String| format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) {insert}");
    let started = Instant::now();
    let statements = [
        rows(apps, format!("INSERT INTO apps (id, name, status, token_hash, token_prefix, token_created_at, created_at)
             SELECT {}, 'Seeded platform', 'active', 'seed', 'seed', 0, 0 FROM n", id("i", 1))),
        rows(legal_entities, format!("INSERT INTO legal_entities (id, app_id, country, controller_email, controller_email_verified, created_at, controller_email_key)
             SELECT {}, {}, 'US', 'owner' || i || '@seed.example', 1, 0, 'owner' || i || '@seed.example' FROM n", id("i", 2), id(&format!("i % {apps} + 1"), 1))),
        rows(accounts, format!("INSERT INTO accounts (id, app_id, legal_entity_id, name, created_at)
             SELECT {}, {}, {}, 'Seeded shop', 0 FROM n", id("i", 3), id(&format!("(i % {legal_entities} + 1) % {apps} + 1"), 1), id(&format!("i % {legal_entities} + 1"), 2))),
        rows(sessions, format!("INSERT INTO merchant_users (id, app_id, issuer, subject, email, email_key, given_name, family_name, created_at, updated_at)
             SELECT {}, {}, 'https://idm.seed.example', 'user' || i, 'user' || i || '@seed.example', 'user' || i || '@seed.example', 'Seeded', 'User', 0, 0
             FROM n", id("i", 4), id(&format!("(i % {legal_entities} + 1) % {apps} + 1"), 1))),
        rows(sessions, format!("INSERT INTO merchant_sessions (id_hash, app_id, user_id, account_id, role, csrf_token, created_at, last_seen_at, expires_at)
             SELECT 'seeded-session-' || i, {}, {}, {}, 'financial_admin', 'seed', 0, 4102444800, 4102444800 FROM n",
             id(&format!("(i % {legal_entities} + 1) % {apps} + 1"), 1), id("i", 4), id("i", 3))),
    ];
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await.unwrap();
    }
    pool.close().await;
    format!("{apps} other apps, {accounts} accounts, {sessions} live sessions (seeded in {:.0} s)", started.elapsed().as_secs_f64())
}
