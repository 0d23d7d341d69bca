//! The signed-in Merchant Center overview under load: `wrk` (Debian package) with a session
//! cookie at 32 connections against a release `causeway serve` on SQLite (or
//! BENCH_DATABASE_URL). Reports requests/s, latency and Causeway's CPU per request.
//!
//! The session is written straight into the database (app, account, user, membership,
//! session, the session with a sign-out hint as long as a sealed ID token) so that only the
//! page itself is measured.
//!
//! Knobs: BENCH_SECONDS (10), BENCH_CONCURRENCY (32), BENCH_THREADS (wrk threads, 2),
//! BENCH_POPULATION (other partners' data first: "apps,accounts,sessions"). It also prints
//! the server's resident memory after the run.

mod support;

use std::process::Command;

use causeway::crypto::session_ids::{id_hash, new_session_id};
use causeway::domain::access::Source;
use causeway::domain::role::Role;
use causeway::store::merchants::{Membership, SignIn, UsedState, UserProfile};
use causeway::store::{Store, StoreOptions};
use support::testkit::partner_api::PartnerApi;
use support::{cpu_seconds, create_app, env_or, serve};

/// A signed-in financial admin's session; returns the cookie value.
async fn session(db_url: &str, app_id: &str, account: &str) -> String {
    let store = Store::connect(db_url, &StoreOptions::default()).await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let profile = UserProfile {
        app_id: app_id.parse().unwrap(),
        issuer: "https://idm.bench.example",
        subject: "bench-user",
        email: Some("bench@shop.example"),
        email_key: Some("bench@shop.example"),
        phone_number: None,
        phone_key: None,
        given_name: "Bench",
        family_name: "User",
    };
    let membership = Membership { account: account.parse().unwrap(), role: Role::FinancialAdmin, source: Source::Controller };
    let cookie = new_session_id();
    // What a login with an end-session IdM keeps for sign-out: a sealed ID token, about
    // 1,100 characters for one of 800 (the page does not open it).
    let logout_hint = "h".repeat(1100);
    store
        .sign_in(&SignIn {
            profile,
            membership: Some(membership),
            session_id_hash: &id_hash(&cookie),
            csrf_token: "bench-csrf",
            logout_hint_sealed: Some(&logout_hint),
            sign_out_origins: "https://idm.bench.example",
            reachable_accounts: 1,
            expires_at: now + 86_400,
            idm_sid: None,
            authenticated_at: now,
            event_id: &uuid::Uuid::now_v7().to_string(),
            event_detail: "bench sign-in",
            correlation_id: "bench",
            signed_in_at: now,
            used_state: &UsedState { hash: id_hash(&cookie), expires_at: now + 600 },
        })
        .await
        .unwrap();
    store.close().await;
    cookie
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let wrk = Command::new("wrk").arg("--version").output();
    if wrk.is_err() {
        eprintln!("portal_page needs wrk: apt-get install wrk");
        std::process::exit(2);
    }
    let seconds = env_or("BENCH_SECONDS", 10);
    let concurrency = env_or("BENCH_CONCURRENCY", 32);
    let threads = env_or("BENCH_THREADS", 2);

    let dir = tempfile::tempdir().unwrap();
    let db_url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()));
    let (app_id, token) = create_app(&db_url);
    let population = support::seed_population(&db_url).await;
    println!("database: {population}");
    let server = serve(&db_url, &[]).await;
    let account = PartnerApi::new(&server.base, &app_id, &token).account("bench@shop.example", "Bench Shop").await;
    let cookie = session(&db_url, &app_id, &account).await;
    let url = format!("{}/merchant-center", server.base);
    let page = reqwest::Client::new().get(&url).header("Cookie", format!("__Host-causeway_mc={cookie}")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the session opens the overview");
    assert!(page.text().await.unwrap().contains("Bench Shop"));

    let pid = server.child.id().unwrap();
    let run = |secs: u64| {
        Command::new("wrk")
            .args(["-t", &threads.to_string(), "-c", &concurrency.to_string(), "-d", &format!("{secs}s"), "--latency"])
            .args(["-H", &format!("Cookie: __Host-causeway_mc={cookie}"), &url])
            .output()
            .expect("run wrk")
    };
    run(2); // warm-up: connections, caches, the allocator
    let cpu_before = cpu_seconds(pid);
    let out = run(seconds);
    let cpu = cpu_seconds(pid) - cpu_before;
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    let requests: f64 = report
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("wrk printed its request count");
    let non_2xx = report.lines().find(|l| l.contains("Non-2xx")).unwrap_or("Non-2xx or 3xx responses: 0");
    println!(
        "overview page, {concurrency} connections, {seconds} s: {:.0} requests/s, Causeway CPU {:.1} µs/request ({non_2xx})",
        requests / seconds as f64,
        cpu / requests * 1e6
    );
    println!("causeway serve: {}", support::memory(pid));
}
