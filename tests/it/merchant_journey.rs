//! The merchant's whole journey in headless Chromium: the CTA, the IdM's own pages, the
//! Merchant Center as financial admin (KYC, payout, then masked), sign-out landing on the
//! partner's logout URL; then as a moderator (KYC read-only, payout refused). Run against
//! `oidc-provider` here and against `causeway demo` in `demo_journey`, so the demo cannot rot.
//! Saves the screenshots the README shows.

use std::time::Duration;

use fantoccini::{Client, Locator};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Html;
use poem::{get, handler, Route, Server};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::browser_support::{click, fill, open_browser, path, screenshot, start_driver, text_of};
use crate::helpers::*;
use crate::idp::OidcProvider;
use crate::merchant_center::{ACCOUNT_NUMBER, ROUTING};

const DESKTOP: u32 = 1280;
const PHONE: u32 = 390;

/// How the IdM's sign-in pages are driven.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum IdmPages {
    /// oidc-provider's development login and consent forms (any password).
    OidcProvider,
    /// The demo IdM's "choose a person" page.
    Demo,
}

pub struct Journey {
    pub cta: String,
    /// Causeway's base URL.
    pub causeway: String,
    pub logout_url: String,
    pub idm: IdmPages,
    /// The people to sign in as: (financial admin, moderator), as the IdM pages name them.
    pub admin: &'static str,
    pub moderator: &'static str,
    /// Screenshot names start with this.
    pub shots: &'static str,
}

impl Journey {
    fn mc(&self, path: &str) -> String {
        format!("{}/merchant-center{path}", self.causeway)
    }

    async fn on_causeway(&self, browser: &Client) -> bool {
        browser.current_url().await.unwrap().as_str().starts_with(&self.causeway)
    }

    /// From the CTA through the IdM's pages to the Merchant Center overview.
    async fn sign_in(&self, browser: &Client, person: &str, shoot_login: bool) {
        browser.goto(&self.cta).await.unwrap();
        for step in 0..4 {
            if self.on_causeway(browser).await {
                break;
            }
            if step == 0 && shoot_login {
                screenshot(browser, &format!("{}-idm-sign-in", self.shots), DESKTOP).await;
            }
            match self.idm {
                IdmPages::Demo => click(browser, &format!("#person-{person}")).await,
                IdmPages::OidcProvider => {
                    if browser.find(Locator::Css("input[name=login]")).await.is_ok() {
                        fill_css(browser, "input[name=login]", person).await;
                        fill_css(browser, "input[name=password]", "any password").await;
                    }
                    click(browser, "button[type=submit]").await;
                }
            }
        }
        assert_eq!(path(browser).await, "/merchant-center", "the login ends on the Merchant Center");
    }

    /// Sign out, through the IdM's end-session page, to the partner's logout URL.
    async fn sign_out(&self, browser: &Client) {
        click(browser, "#sign-out").await;
        for _ in 0..3 {
            if browser.current_url().await.unwrap().as_str().starts_with(&self.logout_url) {
                return;
            }
            // oidc-provider asks to confirm ending its own session.
            click(browser, "button[type=submit]").await;
        }
        panic!("sign-out did not reach {}: at {}", self.logout_url, browser.current_url().await.unwrap());
    }
}

async fn fill_css(browser: &Client, css: &str, value: &str) {
    let field = browser.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("field {css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

async fn set_date(browser: &Client, id: &str, value: &str) {
    // Typing into a date input depends on the browser's locale; setting the value does not.
    browser.execute("document.getElementById(arguments[0]).value = arguments[1];", vec![json!(id), json!(value)]).await.unwrap();
}

async fn source(browser: &Client) -> String {
    browser.source().await.unwrap()
}

/// The financial admin's part, then the moderator's.
pub async fn walk(j: &Journey, browser: &Client) {
    browser.set_window_size(DESKTOP, 900).await.unwrap();
    j.sign_in(browser, j.admin, true).await;
    assert_eq!(text_of(browser, "#role").await, "Financial admin");
    assert!(source(browser).await.contains("Still missing"), "a new account lists what is missing");
    let family = browser.find(Locator::Css("body")).await.unwrap().css_value("font-family").await.unwrap();
    assert!(family.contains("system-ui"), "Causeway's stylesheet applies under the CSP: {family}");
    screenshot(browser, &format!("{}-overview-admin", j.shots), DESKTOP).await;

    // KYC: a mistake is explained next to its field, then the corrected form is saved.
    click(browser, "#nav-kyc").await;
    fill(browser, "f-legal_name", "Corner Shop LLC").await;
    browser.find(Locator::Css("#f-business_type option[value=llc]")).await.unwrap().click().await.unwrap();
    fill(browser, "f-tax_id", "45-6012345").await;
    fill(browser, "f-address_line1", "1 Market St").await;
    fill(browser, "f-city", "San Francisco").await;
    fill(browser, "f-region", "CA").await;
    fill(browser, "f-postal_code", "9410").await;
    set_date(browser, "f-representative_dob", "1980-02-29").await;
    click(browser, "#kyc-submit").await;
    assert!(text_of(browser, "#f-postal_code-error").await.contains("ZIP code"));
    fill(browser, "f-postal_code", "94105").await;
    fill(browser, "f-tax_id", "45-6012345").await;
    click(browser, "#kyc-submit").await;
    assert!(text_of(browser, "#saved").await.contains("submitted"));
    assert!(source(browser).await.contains("ending in 2345"));
    screenshot(browser, &format!("{}-kyc-admin", j.shots), DESKTOP).await;

    // Payout: saved, then only the last four digits are ever shown.
    click(browser, "#nav-payout").await;
    fill(browser, "f-account_holder", "Corner Shop LLC").await;
    fill(browser, "f-routing_number", ROUTING).await;
    fill(browser, "f-account_number", ACCOUNT_NUMBER).await;
    fill(browser, "f-account_number_confirmation", ACCOUNT_NUMBER).await;
    click(browser, "#payout-submit").await;
    assert_eq!(text_of(browser, "#account-masked").await, "••••••4321");
    assert!(!source(browser).await.contains(ACCOUNT_NUMBER));
    screenshot(browser, &format!("{}-payout-admin", j.shots), DESKTOP).await;
    click(browser, "a[aria-current=false][href='/merchant-center']").await;
    assert!(!source(browser).await.contains("Still missing"));
    screenshot(browser, &format!("{}-overview-phone", j.shots), PHONE).await;
    browser.set_window_size(DESKTOP, 900).await.unwrap();

    j.sign_out(browser).await;
    screenshot(browser, &format!("{}-signed-out", j.shots), DESKTOP).await;
    browser.goto(&j.mc("")).await.unwrap();
    assert!(text_of(browser, "h1").await.contains("signed out"), "the session is gone");

    // The moderator: reads KYC, cannot reach payouts, sees the team.
    j.sign_in(browser, j.moderator, false).await;
    assert_eq!(text_of(browser, "#role").await, "Moderator");
    assert!(browser.find(Locator::Css("#nav-payout")).await.is_err(), "no payout link for a moderator");
    screenshot(browser, &format!("{}-overview-moderator", j.shots), DESKTOP).await;
    click(browser, "#nav-kyc").await;
    assert!(text_of(browser, "#read-only").await.contains("Only the account's financial admin"));
    assert!(text_of(browser, "#kyc-facts").await.contains("Corner Shop LLC"));
    assert!(browser.find(Locator::Css("#kyc-form")).await.is_err());
    screenshot(browser, &format!("{}-kyc-moderator", j.shots), DESKTOP).await;
    browser.goto(&j.mc("/payout")).await.unwrap();
    assert_eq!(text_of(browser, "h1").await, "Only a financial admin can do this");
    screenshot(browser, &format!("{}-payout-refused", j.shots), DESKTOP).await;
    click(browser, "#nav-users").await;
    let team = text_of(browser, "#members").await;
    assert!(team.contains("Financial admin") && team.contains("Moderator"), "{team}");
    screenshot(browser, &format!("{}-team", j.shots), DESKTOP).await;
    j.sign_out(browser).await;
}

/// Runs `walk` in a fresh headless Chromium, with a time limit.
pub async fn in_chromium(j: &Journey) {
    let driver = start_driver().await;
    let browser = open_browser(&driver).await;
    let result = tokio::time::timeout(Duration::from_secs(180), walk(j, &browser)).await;
    let _ = browser.close().await;
    result.expect("the journey finished within three minutes");
}

#[handler]
fn signed_out_page() -> Html<&'static str> {
    Html("<!doctype html><title>Partner</title><h1>You are signed out of the partner's product</h1>")
}

/// The partner's own site: only its logout landing page matters here.
async fn partner_site() -> (String, tokio::sync::oneshot::Sender<()>) {
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
        Route::new().at("/signed-out", get(signed_out_page)),
        async {
            let _ = rx.await;
        },
        None,
    ));
    (format!("http://{addr}/signed-out"), tx)
}

#[tokio::test]
async fn a_merchant_journey_against_oidc_provider_in_chromium() {
    let app = spawn_app_for_sso(&[]).await;
    let (logout_url, _partner) = partner_site().await;
    let le: serde_json::Value = app
        .post_json("/legal_entities", &app.partner, &json!({"country": "US", "controller": {"email": "alice@shop.example", "email_is_verified": true}}))
        .await
        .json()
        .await
        .unwrap();
    let account: serde_json::Value =
        app.post_json("/accounts", &app.partner, &json!({"legal_entity_id": le["id"], "name": "Corner Shop"})).await.json().await.unwrap();
    let account = account["id"].as_str().unwrap();
    let redirect = format!("{}/sso/oidc/{}/callback", app.url(""), app.partner.app_id);
    let person = |sub: &str, email: &str, given: &str| {
        json!({"sub": sub, "email": email, "email_verified": true, "given_name": given, "family_name": "Merchant",
               "claims": {"https://partner.example/wepay_account_id": account}})
    };
    let idp = OidcProvider::start(json!({
        "clients": [{"client_id": "causeway", "client_secret": "s3cret", "redirect_uris": [redirect],
                     "post_logout_redirect_uris": [logout_url], "id_token_signed_response_alg": "RS256"}],
        "accounts": [person("alice", "alice@shop.example", "Alice"), person("bob", "bob@shop.example", "Bob")]
    }))
    .await;
    let config = json!({"issuer": idp.issuer, "client_id": "causeway", "client_secret": "s3cret",
        "token_endpoint_auth_method": "client_secret_basic", "domain": "partner.example", "logout_url": logout_url});
    assert_eq!(app.api(Method::PUT, "/partner/idm", &app.partner).json(&config).send().await.unwrap().status(), StatusCode::OK);
    let branding = json!({"display_name": "Acme Commerce", "brand_color": "#7C3AED", "support_label": "Help: support.acme.example"});
    assert_eq!(app.api(Method::PUT, "/partner/branding", &app.partner).json(&branding).send().await.unwrap().status(), StatusCode::OK);

    let journey = Journey {
        cta: app.url(&format!("/sso/oidc/{}", app.partner.app_id)),
        causeway: app.url(""),
        logout_url,
        idm: IdmPages::OidcProvider,
        admin: "alice",
        moderator: "bob",
        shots: "journey-oidc-provider",
    };
    in_chromium(&journey).await;
}

/// The same journey against `causeway demo` (the real binary), so the demo cannot rot;
/// its log, at debug level, never holds the bank or tax numbers typed into it.
#[tokio::test]
async fn the_same_journey_against_causeway_demo() {
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncBufReadExt, BufReader};

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_causeway"))
        .args(["demo", "--json"])
        .env("CAUSEWAY_LISTEN", "127.0.0.1:0")
        .env("CAUSEWAY_LOG", "debug")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
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
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), stdout.next_line()).await.expect("the demo prints within 60 s").unwrap().unwrap();
    let printed: serde_json::Value = serde_json::from_str(&line).unwrap();
    let text = |key: &str| printed[key].as_str().unwrap_or_else(|| panic!("{key} in {printed}")).to_owned();
    let cta = text("cta_url");
    let journey = Journey {
        causeway: cta[..cta.find("/sso/oidc/").unwrap()].to_owned(),
        cta,
        logout_url: format!("{}/signed-out", text("idm_issuer")),
        idm: IdmPages::Demo,
        admin: "controller",
        moderator: "moderator",
        shots: "demo",
    };
    in_chromium(&journey).await;

    let log = log.lock().unwrap().clone();
    assert!(log.contains("/merchant-center/payout"), "the log does record the requests");
    for secret in [ACCOUNT_NUMBER, ROUTING, "456012345", "45-6012345"] {
        assert!(!log.contains(secret), "{secret} is in the demo's log");
    }
}
