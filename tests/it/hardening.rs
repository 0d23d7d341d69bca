//! The outside review's high and medium findings, each as the attack it describes: bodies
//! larger than any form, slow and half-sent requests, one peer holding every connection,
//! made-up HTTP methods as metric labels, proxy variables steering IdM calls around the
//! address guard.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::*;

const TEN_MIB: usize = 10 * 1024 * 1024;

/// Whether the server closes `stream` (or answers and closes) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = vec![0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

async fn healthz_from(source: &str, addr: std::net::SocketAddr) -> Option<String> {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut stream = tokio::time::timeout(Duration::from_secs(2), socket.connect(addr)).await.ok()?.ok()?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: causeway\r\nConnection: close\r\n\r\n").await.ok()?;
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(2), stream.read_to_string(&mut answer)).await.ok()?.ok()?;
    Some(answer)
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_before_anything_reads_them() {
    let app = spawn_app().await;
    let big = "a=".to_owned() + &"x".repeat(TEN_MIB);
    for path in ["/sso/logout", "/merchant-center/kyc", "/merchant-center/payout", "/merchant-center/accounts", "/partner-center/sign-in"] {
        let started = Instant::now();
        let resp = app.client.post(app.url(path)).header("content-type", "application/x-www-form-urlencoded").body(big.clone()).send().await;
        // The server may answer before it has read what was sent, and close.
        if let Ok(resp) = resp {
            assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{path} took {:?}", started.elapsed());
    }
    // Without a declared length (chunked), reading stops at the limit: the server answers
    // (or closes) long before 10 MiB went through.
    let mut chunked = TcpStream::connect(app.addr).await.unwrap();
    chunked.write_all(b"POST /sso/logout HTTP/1.1\r\nHost: causeway\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n").await.unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
    let mut sent = 0;
    while sent < TEN_MIB {
        if chunked.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
        sent += 64 * 1024;
    }
    assert!(sent < TEN_MIB || closed_within(&mut chunked, Duration::from_secs(2)).await, "the server stopped reading");
    // The API keeps the contract's JSON shape.
    let resp = app.api(reqwest::Method::POST, "/legal_entities", &app.partner).header("content-type", "application/json").body(vec![b' '; 2 * 1024 * 1024]).send().await.unwrap();
    expect_error(resp, StatusCode::PAYLOAD_TOO_LARGE, "INVALID_PARAMS").await;
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn half_sent_request_heads_and_slow_bodies_are_cut_off() {
    let app = spawn_app_with(&[("CAUSEWAY_HEADER_READ_TIMEOUT_SECONDS", "1"), ("CAUSEWAY_BODY_READ_TIMEOUT_SECONDS", "1")]).await;
    // Slowloris: heads that never end, one byte at a time.
    let mut lingering = Vec::new();
    for _ in 0..40 {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: causeway\r\nX-Slow: ").await.unwrap();
        lingering.push(stream);
    }
    for stream in lingering.iter_mut() {
        let _ = stream.write_all(b"a").await;
    }
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), StatusCode::OK, "others are served meanwhile");
    for stream in lingering.iter_mut() {
        assert!(closed_within(stream, Duration::from_secs(3)).await, "a half-sent head is dropped after the header timeout");
    }
    // A body that stops halfway.
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"POST /sso/logout HTTP/1.1\r\nHost: causeway\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncsrf_token=").await.unwrap();
    assert!(closed_within(&mut slow, Duration::from_secs(4)).await, "a stalled body ends the request");
}

#[tokio::test]
async fn one_peer_cannot_hold_every_connection() {
    let app = spawn_app_with(&[("CAUSEWAY_MAX_CONNECTIONS_PER_PEER", "5")]).await;
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: causeway\r\n").await.unwrap();
        held.push(stream);
    }
    let mut sixth = TcpStream::connect(app.addr).await.unwrap();
    assert!(closed_within(&mut sixth, Duration::from_secs(2)).await, "the sixth connection from the same address is refused");
    let other = healthz_from("127.0.0.2", app.addr).await.expect("another address is served");
    assert!(other.starts_with("HTTP/1.1 200"), "{other}");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), StatusCode::OK, "slots come back");
}

#[tokio::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    let app = spawn_app().await;
    for i in 0..200 {
        let method = reqwest::Method::from_bytes(format!("MADEUP{i}").as_bytes()).unwrap();
        app.client.request(method, app.url("/healthz")).send().await.unwrap();
    }
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("MADEUP"), "made-up methods are not labels");
    assert!(metrics.contains("method=\"other\""));
    assert!(metrics.len() < 20_000, "{} bytes", metrics.len());
}

#[tokio::test]
async fn proxy_variables_do_not_route_idm_calls() {
    // A "proxy" that counts who connects to it.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        while let Ok((_stream, _)) = proxy.accept().await {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    // nextest runs each test in a process of its own: the variables reach no other test.
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
        unsafe { std::env::set_var(var, &proxy_url) };
    }
    let idm = crate::support::server::TestServer::start(|_| poem::Route::new().at("/doc", poem::get(poem::endpoint::make_sync(|_| poem::web::Json(serde_json::json!({"ok": true}))))))
        .await;
    let client = causeway::federation::http::OutboundClient::new(causeway::domain::urls::UrlPolicy::AllowInsecure, Duration::from_secs(2)).unwrap();
    let doc = client.get_json(&url::Url::parse(&format!("{}/doc", idm.base)).unwrap(), 1024).await.expect("fetched directly");
    assert_eq!(doc["ok"], true);
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing went through the proxy");
}

#[tokio::test]
async fn anonymous_clicks_on_a_cta_are_paced_and_leave_no_rows() {
    let app = spawn_app_for_sso(&[("CAUSEWAY_CTA_RATE_PER_MINUTE", "10")]).await;
    let op = crate::support::fake_op::FakeOp::start().await;
    app.configure_idm(&op.config(serde_json::json!({}))).await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..30 {
        let resp = app.client.get(app.cta()).send().await.unwrap();
        statuses.push(resp.status());
        last = Some(resp);
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::FOUND).count(), 10, "{statuses:?}");
    let refused = last.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(refused.text().await.unwrap().contains("<code>too_many_sign_ins</code>"));
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&app.db.url).await.unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sso_used_states").fetch_one(&mut conn).await.unwrap();
    assert_eq!(rows, 0, "a start writes nothing: its flow travels in its state");
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sso_events").fetch_one(&mut conn).await.unwrap();
    assert_eq!(events, 0, "refused starts do not flood the partner's event log");
    // Another address still starts sign-ins.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut stream = socket.connect(app.addr).await.unwrap();
    let request = format!("GET /sso/oidc/{} HTTP/1.1\r\nHost: causeway\r\nConnection: close\r\n\r\n", app.partner.app_id);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 302"), "{answer}");
}

#[tokio::test]
async fn replicas_share_the_api_quota() {
    let db = TestDatabase::new().await;
    let limits = [("CAUSEWAY_API_RATE_PER_SECOND", "1"), ("CAUSEWAY_API_RATE_BURST", "10"), ("CAUSEWAY_REPLICA_HEARTBEAT_SECONDS", "1")];
    let sqlite = db.is_sqlite();
    let first = spawn_app_on(db.same_database(), &limits).await;
    // On PostgreSQL replicas announce themselves and each takes half of the burst; a SQLite
    // file is served by one process, which keeps the whole quota (two in one test would
    // each think they are alone).
    let second = if sqlite { None } else { Some(spawn_app_on(db, &limits).await) };
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut allowed = 0;
    for i in 0..20 {
        let app = match &second {
            Some(second) if i % 2 == 1 => second,
            _ => &first,
        };
        if app.get("/partner/idm", &first.partner).await.status() == StatusCode::OK {
            allowed += 1;
        }
    }
    assert!((10..=12).contains(&allowed), "{allowed} calls passed; the whole burst is 10 (plus what refilled)");
}
