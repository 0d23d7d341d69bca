//! `causeway demo` as an operator runs it: the real binary, what it prints, the whole
//! journey through its built-in IdM, and a clean exit on SIGTERM.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};
use url::Url;

use crate::form_browser::{FormBrowser, first_form};
use crate::helpers::Credentials;
use crate::pc_client::PcClient;

/// A running `causeway demo`, its stdout and its log; killed if the test ends early.
pub struct Demo {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    /// Everything it has logged so far (stderr), at the level it was started with.
    pub log: Arc<Mutex<String>>,
}

impl Demo {
    pub fn start(args: &[&str], log_level: &str) -> Self {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_causeway"))
            .arg("demo")
            .args(args)
            .env("CAUSEWAY_LISTEN", "127.0.0.1:0")
            .env("CAUSEWAY_LOG", log_level)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Self { child, stdout, log }
    }

    pub async fn next_line(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(60), self.stdout.next_line())
            .await
            .expect("the demo prints within 60 s")
            .unwrap()
            .expect("the demo is still running")
    }

    /// Sends SIGTERM and waits for the exit, at most 10 s.
    pub async fn stop(self) -> std::process::ExitStatus {
        self.stop_with(libc::SIGTERM).await
    }

    /// Sends `signal` and waits for the exit, at most 10 s.
    pub async fn stop_with(mut self, signal: i32) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap() as i32;
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("the demo stops within 10 s of the signal")
            .unwrap()
    }
}

impl Drop for Demo {
    /// SIGTERM, not SIGKILL: the demo deletes its data directory on the way out, also when
    /// a failed test drops it.
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        }
    }
}

/// What `causeway demo --json` printed.
pub struct Printed(pub Value);

impl Printed {
    pub fn text(&self, key: &str) -> &str {
        self.0[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in {}", self.0))
    }

    /// Causeway's base URL, as the CTA names it.
    pub fn public(&self) -> &str {
        let cta = self.text("cta_url");
        &cta[..cta.find("/sso/oidc/").unwrap()]
    }
}

/// From the CTA through the demo IdM's sign-in page (pressing `person`'s button) to the
/// Merchant Center; returns its overview page.
async fn sign_in(browser: &mut FormBrowser, demo: &Printed, person: &str) -> String {
    let (status, location, _) = browser.get(demo.text("cta_url")).await;
    assert_eq!(status, StatusCode::FOUND);
    let authorize = Url::parse(&location.unwrap()).unwrap();
    assert!(
        authorize
            .as_str()
            .starts_with(&format!("{}/authorize?", demo.text("idm_issuer"))),
        "{authorize}"
    );

    let (status, _, page) = browser.get(authorize.as_str()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Demo IdM") && page.contains("no password"),
        "the page says what it is: {page}"
    );
    assert!(page.contains("id=\"person-controller\"") && page.contains("id=\"person-moderator\""));
    let (action, mut fields) = first_form(&page).unwrap();
    fields.push(("person".into(), person.into()));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, location, _) = browser
        .post(authorize.join(&action).unwrap().as_str(), &fields)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let callback = location.unwrap();
    let expected = format!(
        "{}/sso/oidc/{}/callback?",
        demo.public(),
        demo.text("app_id")
    );
    assert!(
        callback.starts_with(&expected) && callback.contains("iss="),
        "{callback}"
    );

    let (status, location, page) = browser.get(&callback).await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::FOUND, Some("/merchant-center")),
        "{page}"
    );
    let (status, _, page) = browser
        .get(&format!("{}/merchant-center", demo.public()))
        .await;
    assert_eq!(status, StatusCode::OK);
    page
}

#[tokio::test]
async fn the_demo_signs_both_people_in_and_cleans_up_after_itself() {
    let mut demo = Demo::start(&["--json"], "warn");
    let line = demo.next_line().await;
    let printed = Printed(
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("one JSON object ({e}): {line}")),
    );
    let data_dir = std::path::PathBuf::from(printed.text("data_dir"));
    assert!(
        data_dir.join("causeway.db").is_file(),
        "the database is in the printed directory"
    );
    let people = printed.0["people"].as_array().unwrap();
    assert_eq!(
        people
            .iter()
            .map(|p| p["role"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["financial_admin", "moderator"]
    );
    assert_eq!(
        printed.text("partner_center_url"),
        format!("{}/partner-center", printed.public())
    );

    let mut casey = FormBrowser::new();
    let page = sign_in(&mut casey, &printed, "controller").await;
    assert!(
        page.contains("Financial admin") && page.contains("Demo Coffee Roasters"),
        "{page}"
    );
    assert!(
        page.contains(printed.text("account_id")) && page.contains("Demo Platform"),
        "account and branding"
    );

    let mut morgan = FormBrowser::new();
    let page = sign_in(&mut morgan, &printed, "moderator").await;
    assert!(
        page.contains("Moderator")
            && !page.contains("Financial admin")
            && page.contains("Demo Coffee Roasters"),
        "{page}"
    );

    // Sign-out goes through the demo IdM's end-session endpoint to the partner's page.
    let csrf = first_form(&page)
        .unwrap()
        .1
        .into_iter()
        .find(|(n, _)| n == "csrf_token")
        .unwrap()
        .1;
    let (status, location, _) = morgan
        .post(
            &format!("{}/sso/logout", printed.public()),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let end_session = location.unwrap();
    assert!(
        end_session.starts_with(&format!("{}/end-session?", printed.text("idm_issuer")))
            && end_session.contains("id_token_hint="),
        "{end_session}"
    );
    let signed_out = format!("{}/signed-out", printed.text("idm_issuer"));
    let landed = morgan.run_until(&end_session, &signed_out, &[]).await;
    let (status, _, page) = morgan.get(landed.as_str()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Sign in again") && page.contains(printed.text("cta_url")),
        "{page}"
    );
    assert_eq!(
        morgan
            .get(&format!("{}/merchant-center", printed.public()))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        casey
            .get(&format!("{}/merchant-center", printed.public()))
            .await
            .0,
        StatusCode::OK,
        "Casey is still in"
    );

    // The partner's side works with the printed credentials.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let partner_center = PcClient::at(http, printed.public().to_owned());
    partner_center
        .sign_in(&Credentials {
            app_id: printed.text("app_id").to_owned(),
            app_token: printed.text("app_token").to_owned(),
        })
        .await;
    let overview = partner_center.get("/partner-center").await;
    assert!(overview.body.contains("Demo Platform"), "{}", overview.body);

    let status = demo.stop().await;
    assert!(status.success(), "{status}");
    assert!(
        !data_dir.exists(),
        "{} is deleted at exit",
        data_dir.display()
    );
}

#[tokio::test]
async fn without_json_the_demo_prints_for_people() {
    let mut demo = Demo::start(&[], "warn");
    let mut printed = Vec::new();
    while !printed
        .last()
        .is_some_and(|line: &String| line.starts_with("Data:"))
    {
        printed.push(demo.next_line().await);
    }
    let text = printed.join("\n");
    for wanted in [
        "/sso/oidc/",
        "/partner-center",
        "App-Id:",
        "App-Token: cwt_",
        "casey@demo-coffee.example",
        "Financial admin",
        "Moderator",
    ] {
        assert!(text.contains(wanted), "{wanted} in {text}");
    }
    let data_dir = text
        .lines()
        .last()
        .unwrap()
        .trim_start_matches("Data:")
        .trim()
        .to_owned();
    assert!(std::path::Path::new(&data_dir).is_dir());
    assert!(demo.stop().await.success());
    assert!(!std::path::Path::new(&data_dir).exists());
}

/// The demo's second partner signs in through a hosted login (seed 000's model): the
/// directory's login page, a one-time code, the server-to-server exchange.
#[tokio::test]
async fn the_demos_hosted_login_partner_signs_both_people_in() {
    let mut demo = Demo::start(&["--json"], "warn");
    let printed = Printed(serde_json::from_str(&demo.next_line().await).unwrap());
    let hosted = &printed.0["hosted_login"];
    let (cta, base) = (hosted["cta_url"].as_str().unwrap(), hosted["base_url"].as_str().unwrap());
    for (person, role) in [("controller", "Financial admin"), ("moderator", "Moderator")] {
        let mut browser = FormBrowser::new();
        let (status, location, _) = browser.get(cta).await;
        assert_eq!(status, StatusCode::FOUND);
        let login = Url::parse(&location.unwrap()).unwrap();
        assert!(login.as_str().starts_with(&format!("{base}/connect/login?site_key=")), "{login}");
        let (status, _, page) = browser.get(login.as_str()).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let (action, mut fields) = first_form(&page).unwrap();
        fields.push(("person".into(), person.into()));
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, callback, _) = browser.post(login.join(&action).unwrap().as_str(), &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let callback = callback.unwrap();
        assert!(callback.contains("code=") && !callback.contains("iss="), "no OpenID here: {callback}");
        let (status, location, page) = browser.get(&callback).await;
        assert_eq!((status, location.as_deref()), (StatusCode::FOUND, Some("/merchant-center")), "{page}");
        let (_, _, page) = browser.get(&format!("{}/merchant-center", printed.public())).await;
        assert!(page.contains("Demo Tea House") && page.contains(role) && page.contains("Demo Directory"), "{person}: {page}");
    }
    assert!(demo.stop().await.success());
}

/// Ctrl-C, a closed terminal (SIGHUP) and SIGTERM alike: the demo deletes what it made.
#[tokio::test]
async fn every_way_to_stop_the_demo_removes_its_data() {
    for signal in [libc::SIGINT, libc::SIGHUP] {
        let mut demo = Demo::start(&["--json"], "warn");
        let printed = Printed(serde_json::from_str(&demo.next_line().await).unwrap());
        let data_dir = std::path::PathBuf::from(printed.text("data_dir"));
        assert!(data_dir.is_dir());
        assert!(demo.stop_with(signal).await.success(), "signal {signal}");
        assert!(!data_dir.exists(), "signal {signal} left {}", data_dir.display());
    }
}
