//! Load benchmark: `POST /legal_entities` + `POST /accounts` pairs against a real
//! `causeway serve` process (release build), 32 concurrent clients, on SQLite and — when
//! CAUSEWAY_BENCH_POSTGRES_URL names a server — on PostgreSQL.
//!
//! `cargo bench --bench onboarding_load` prints pairs/s, latency percentiles per pair and
//! the server's CPU time per pair (utime+stime from /proc, so the client is not counted).
//! Knobs: BENCH_CONCURRENCY (32), BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2),
//! BENCH_DB_POOL_SIZE (8: the server's CAUSEWAY_DB_POOL_SIZE), BENCH_POPULATION (other
//! partners' data first: "apps,accounts,sessions").

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde_json::{Value, json};

#[path = "support/mod.rs"]
mod support;
use support::{create_app, env_or, measure, serve};

async fn run(label: &str, db_url: &str) {
    let concurrency = env_or("BENCH_CONCURRENCY", 32) as usize;
    let seconds = env_or("BENCH_SECONDS", 10);
    let warmup = env_or("BENCH_WARMUP_SECONDS", 2);
    let (app_id, token) = create_app(db_url);
    let population = support::seed_population(db_url).await;
    println!("database: {population}");
    let server = serve(db_url, &[]).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let base = server.base.clone();
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));

    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, base, app_id, token) = (client.clone(), base.clone(), app_id.clone(), token.clone());
            let (measuring, stop) = (measuring.clone(), stop.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let post = |path: &str, body: Value| {
                    client
                        .post(format!("{base}{path}"))
                        .header("App-Id", &app_id)
                        .header("App-Token", &token)
                        .header("Api-Version", "3.0")
                        .json(&body)
                        .send()
                };
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let le = post(
                        "/legal_entities",
                        json!({"country": "US", "controller": {"email": "owner@bench.example", "email_is_verified": true}}),
                    )
                    .await;
                    let le_id = match le {
                        Ok(r) if r.status() == 201 => r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned(),
                        _ => {
                            errors += 1;
                            continue;
                        }
                    };
                    let account = post("/accounts", json!({"legal_entity_id": le_id, "name": "Bench shop"})).await;
                    if !matches!(account, Ok(ref r) if r.status() == 201) {
                        errors += 1;
                        continue;
                    }
                    if measuring.load(Ordering::Relaxed) {
                        latencies.push(started.elapsed());
                    }
                }
                (latencies, errors)
            })
        })
        .collect();

    let w = measure(workers, &measuring, &stop, warmup, seconds, server.child.id().unwrap()).await;
    let pairs = w.latencies.len() as f64;
    println!(
        "{label:<10} concurrency {concurrency}: {:>7.0} pairs/s ({:.0} requests/s)  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  server CPU {:.0} µs/pair  errors {}",
        pairs / w.elapsed,
        2.0 * pairs / w.elapsed,
        w.percentile_ms(0.50),
        w.percentile_ms(0.99),
        w.percentile_ms(1.0),
        w.cpu / pairs * 1e6,
        w.errors,
    );
    println!("{label:<10} causeway serve: {}", support::memory(server.child.id().unwrap()));
    drop(server);
}

#[tokio::main]
async fn main() {
    // Test runners (cargo nextest --all-targets) enumerate this target with --list: it
    // holds no tests, and running the load here would only slow the suite.
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display());
    run("sqlite", &sqlite).await;
    if let Ok(admin) = std::env::var("CAUSEWAY_BENCH_POSTGRES_URL") {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
        let base = admin.rsplit_once('/').unwrap().0;
        run("postgres", &format!("{base}/{name}")).await;
    }
}
