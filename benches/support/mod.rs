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
    let mut command = testkit::serve::command(db_url);
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
