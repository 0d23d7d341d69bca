//! Latency of `POST /partner/idm/test` against a local `oidc-provider` (tests/idp, installed
//! with `npm ci --prefix tests/idp`): a release `causeway serve` with
//! CAUSEWAY_ALLOW_INSECURE_IDM, BENCH_CALLS (50) sequential checks, p50/p99/max printed.
//! The bar: < 100 ms per check against a local provider.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

#[path = "support/mod.rs"]
mod support;
use support::testkit::partner_api::PartnerApi;
use support::{create_app, serve};

async fn first_json_line<R: tokio::io::AsyncRead + Unpin>(reader: R, wanted: impl Fn(&Value) -> bool) -> (Value, tokio::io::Lines<BufReader<R>>) {
    let mut lines = BufReader::new(reader).lines();
    loop {
        let line = lines.next_line().await.unwrap().expect("process exited early");
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && wanted(&v) {
                return (v, lines);
            }
    }
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    let calls: usize = std::env::var("BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut idp = tokio::process::Command::new("node")
        .arg(root.join("tests/idp/provider.mjs"))
        .env("IDP_CONFIG", json!({"algorithms": ["ES256", "RS256"]}).to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node and tests/idp must be installed");
    let (ready, _idp_out) = first_json_line(idp.stdout.take().unwrap(), |v| v.get("issuer").is_some()).await;
    let issuer = ready["issuer"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display());
    let (app_id, app_token) = create_app(&db);
    let server = serve(&db, &[("CAUSEWAY_ALLOW_INSECURE_IDM", "true".into())]).await;
    let partner = PartnerApi::new(&server.base, &app_id, &app_token);
    let config = json!({"issuer": issuer, "client_id": "bench", "client_secret": "s", "token_endpoint_auth_method": "client_secret_basic",
        "domain": "partner.example", "logout_url": "https://partner.example/bye"});
    partner.configure_idm(&config).await;

    let mut times: Vec<Duration> = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let report: Value = partner.request(reqwest::Method::POST, "/partner/idm/test").send().await.unwrap().json().await.unwrap();
        times.push(started.elapsed());
        assert_eq!(report["ok"], true, "{report}");
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "idm/test against local oidc-provider, {calls} sequential calls: p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
        ms(times[calls / 2]),
        ms(times[(calls * 99 / 100).min(calls - 1)]),
        ms(times[calls - 1])
    );
    drop(server);
    drop(idp);
}
