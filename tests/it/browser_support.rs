//! What the headless Chromium test needs: Debian's chromedriver on a port it picks, a
//! WebDriver session with the agreed flags, a tiny fake IdM, and screenshots.
//!
//! Missing chromedriver is a failure, not a skip: the test command installs it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub use crate::webdriver::{Client, Locator};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// A chromedriver process in a process group of its own, which the browsers it starts
/// join: dropping it ends them all, also after a failed test left its session open.
pub struct Driver {
    _child: Child,
    group: i32,
    pub url: String,
    _profile: tempfile::TempDir,
    pub profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SAFETY: kill(2) with a negative pid signals the process group; no memory involved.
        unsafe { libc::kill(-self.group, libc::SIGKILL) };
    }
}

pub async fn start_driver() -> Driver {
    let binary = env_or("CAUSEWAY_TEST_CHROMEDRIVER", CHROMEDRIVER);
    assert!(
        Path::new(&binary).exists(),
        "chromedriver not found at {binary}: install Debian's chromium and chromium-driver (the test command does), \
         or set CAUSEWAY_TEST_CHROMEDRIVER"
    );
    // Port 0: chromedriver takes a free port and says which once it listens.
    let mut child = Command::new(&binary)
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    let group = child.id().expect("a running chromedriver") as i32;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("ChromeDriver was started successfully on port ") {
                return rest.trim_end_matches('.').parse::<u16>().ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("chromedriver says on which port it listens");
    // Keep reading its output, so that a full pipe never blocks it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let profile = tempfile::tempdir().unwrap();
    Driver { _child: child, group, url: format!("http://127.0.0.1:{port}"), profile: profile.path().to_owned(), _profile: profile }
}

pub async fn open_browser(driver: &Driver) -> Client {
    let chromium = env_or("CAUSEWAY_TEST_CHROMIUM", CHROMIUM);
    assert!(Path::new(&chromium).exists(), "chromium not found at {chromium}: install Debian's chromium (the test command does)");
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
    let capabilities = json!({"browserName": "chrome", "goog:chromeOptions": {"binary": chromium, "args": args}});
    Client::connect(&driver.url, capabilities).await.expect("a WebDriver session with headless Chromium")
}

/// A provider with a realm-style issuer (a path, no trailing slash, as Keycloak's have):
/// enough for "Test connection" to pass.
pub async fn start_fake_idm() -> crate::support::fake_op::FakeOp {
    crate::support::fake_op::FakeOp::start_at("/realms/acme").await
}

/// Saves a screenshot of the whole page to target/screenshots/, and to docs/ when
/// CAUSEWAY_UPDATE_SCREENSHOTS=1 (the committed copies the README shows).
pub async fn screenshot(browser: &Client, name: &str, width: u32) {
    // Measure at a small height first (the page is never shorter than the window), then
    // size the window so the viewport holds the whole page: no scrollbar, nothing cut off.
    browser.set_window_size(width, 600).await.unwrap();
    browser.settle().await.unwrap();
    let sizes = browser
        .execute("return [window.outerHeight - window.innerHeight, Math.ceil(document.documentElement.scrollHeight)];", vec![])
        .await
        .unwrap();
    let number = |i: usize| sizes.get(i).and_then(Value::as_u64).unwrap_or(0) as u32;
    let height = (number(1) + number(0)).clamp(600, 3000);
    browser.set_window_size(width, height).await.unwrap();
    browser.settle().await.unwrap();
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
    browser.wait_for(Locator::Css(css)).await.unwrap_or_else(|e| panic!("element {css}: {e}")).text().await.unwrap()
}

pub async fn path(browser: &Client) -> String {
    let url = browser.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}
