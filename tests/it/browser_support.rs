//! What the headless Chromium test needs: Debian's chromedriver on a free port, a
//! WebDriver session with the agreed flags, a tiny fake IdM, and screenshots.
//!
//! Missing chromedriver is a failure, not a skip: `scripts/test.sh` installs it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use poem::listener::{Acceptor, Listener};
use poem::web::Json;
use poem::{get, handler, EndpointExt, Route, Server};
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// A chromedriver process, killed when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
    _profile: tempfile::TempDir,
    pub profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Chromium outlives a killed chromedriver when the session was not closed (a failed
        // test): end the processes started with this driver's own profile directory.
        let flag = format!("--user-data-dir={}", self.profile.display());
        let pids: Vec<String> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let pid = entry.file_name().to_string_lossy().into_owned();
                let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
                cmdline.split(|b| *b == 0).any(|arg| arg == flag.as_bytes()).then_some(pid)
            })
            .collect();
        if !pids.is_empty() {
            let _ = Command::new("kill").arg("-KILL").args(&pids).stderr(Stdio::null()).status();
        }
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub async fn start_driver() -> Driver {
    let binary = env_or("CAUSEWAY_TEST_CHROMEDRIVER", CHROMEDRIVER);
    assert!(
        Path::new(&binary).exists(),
        "chromedriver not found at {binary}: install Debian's chromium and chromium-driver (scripts/test.sh does), \
         or set CAUSEWAY_TEST_CHROMEDRIVER"
    );
    let port = free_port();
    let child = Command::new(&binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}"), profile: profile.path().to_owned(), _profile: profile };
    let started = Instant::now();
    let http = reqwest::Client::new();
    loop {
        if let Ok(resp) = http.get(format!("{}/status", driver.url)).send().await
            && resp.status().is_success()
        {
            return driver;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not come up on port {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn open_browser(driver: &Driver) -> Client {
    let chromium = env_or("CAUSEWAY_TEST_CHROMIUM", CHROMIUM);
    assert!(Path::new(&chromium).exists(), "chromium not found at {chromium}: install Debian's chromium (scripts/test.sh does)");
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([format!("--user-data-dir={}", driver.profile.display())])
    .collect::<Vec<_>>();
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert("goog:chromeOptions".into(), json!({"binary": chromium, "args": args}));
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(&driver.url).await.expect("a WebDriver session with headless Chromium")
}

/// A fake IdM with discovery and JWKS at `{issuer}`: enough for "Test connection" to pass.
pub struct FakeIdm {
    pub issuer: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

#[handler]
fn discovery(issuer: poem::web::Data<&String>) -> Json<Value> {
    Json(json!({
        "issuer": *issuer,
        "authorization_endpoint": format!("{}/protocol/openid-connect/auth", *issuer),
        "token_endpoint": format!("{}/protocol/openid-connect/token", *issuer),
        "jwks_uri": format!("{}/protocol/openid-connect/certs", *issuer),
        "userinfo_endpoint": format!("{}/protocol/openid-connect/userinfo", *issuer),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    }))
}

#[handler]
fn jwks() -> Json<Value> {
    Json(json!({"keys": [
        {"kty": "RSA", "kid": "2026-11", "use": "sig", "alg": "RS256", "e": "AQAB",
         "n": "u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0_IzW7yWR7QkrmBL7jTKEn5u-qKhbwKfBstIs-bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW_VDL5AaWTg0nLVkjRo9z-40RQzuVaE8AkAFmxZzow3x-VJYKdjykkJ0iT9wCS0DRTXu269V264Vf_3jvredZiKRkgwlL9xNAwxXFg0x_XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC-9aGVd-Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmw"},
        {"kty": "EC", "kid": "2026-11-ec", "use": "sig", "alg": "ES256", "crv": "P-256",
         "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
    ]}))
}

pub async fn start_fake_idm() -> FakeIdm {
    let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    // A realm-style issuer with a path and no trailing slash, as Keycloak has.
    let issuer = format!("http://{addr}/realms/acme");
    let app = Route::new()
        .at("/realms/acme/.well-known/openid-configuration", get(discovery))
        .at("/realms/acme/protocol/openid-connect/certs", get(jwks))
        .data(issuer.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
        app,
        async {
            let _ = rx.await;
        },
        None,
    ));
    FakeIdm { issuer, _shutdown: tx }
}

/// Saves a screenshot of the whole page to target/screenshots/, and to docs/ when
/// CAUSEWAY_UPDATE_SCREENSHOTS=1 (the committed copies the README shows).
pub async fn screenshot(browser: &Client, name: &str, width: u32) {
    // Measure at a small height first (the page is never shorter than the window), then
    // size the window so the viewport holds the whole page: no scrollbar, nothing cut off.
    browser.set_window_size(width, 600).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let sizes = browser
        .execute("return [window.outerHeight - window.innerHeight, Math.ceil(document.documentElement.scrollHeight)];", vec![])
        .await
        .unwrap();
    let number = |i: usize| sizes.get(i).and_then(Value::as_u64).unwrap_or(0) as u32;
    let height = (number(1) + number(0)).clamp(600, 3000);
    browser.set_window_size(width, height).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target").join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    if std::env::var("CAUSEWAY_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = root.join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join(format!("{name}.png")), &png).unwrap();
    }
}

pub async fn fill(browser: &Client, id: &str, value: &str) {
    fill_css(browser, &format!("#{id}"), value).await;
}

/// Replaces the text of the field `css` selects.
pub async fn fill_css(browser: &Client, css: &str, value: &str) {
    let field = browser.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("field {css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

/// Clicks something that loads a new page (a submit button, a link) and waits until the
/// old page is gone, so later lookups cannot find elements of the page being left.
pub async fn click(browser: &Client, css: &str) {
    let old = browser.find(Locator::Css("html")).await.unwrap();
    browser.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("element {css}: {e}")).click().await.unwrap();
    let started = std::time::Instant::now();
    while old.tag_name().await.is_ok() {
        assert!(started.elapsed() < Duration::from_secs(15), "clicking {css} loaded no new page");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

pub async fn text_of(browser: &Client, css: &str) -> String {
    browser.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("element {css}: {e}")).text().await.unwrap()
}

pub async fn path(browser: &Client) -> String {
    let url = browser.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}
