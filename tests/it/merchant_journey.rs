//! The merchant's whole journey in headless Chromium: the CTA, the IdM's own pages, the
//! Merchant Center as financial admin (KYC, payout, then masked), sign-out landing on the
//! partner's logout URL; then as a moderator (KYC read-only, payout refused). Run against
//! `oidc-provider` and against `causeway demo`, so the demo cannot rot.
//! Saves the screenshots the README shows.

use std::time::Duration;

use crate::browser_support::{Client, Locator};
use poem::web::Html;
use poem::{get, handler, Route};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::browser_support::{click, fill, fill_css, open_browser, path, screenshot, start_driver, text_of};
use crate::helpers::*;
use crate::idp::{causeway_client, person, OidcProvider};
use crate::support::server::TestServer;
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
        self.sign_in_to(browser, person, shoot_login, "/merchant-center").await;
    }

    /// From the CTA through the IdM's pages to `landing`.
    async fn sign_in_to(&self, browser: &Client, person: &str, shoot_login: bool, landing: &str) {
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
        assert_eq!(path(browser).await, landing, "where the login ends");
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

#[tokio::test]
async fn a_merchant_journey_against_oidc_provider_in_chromium() {
    let app = spawn_app_for_sso(&[]).await;
    // The partner's own site: only its logout landing page matters here.
    let partner = TestServer::start(|_| Route::new().at("/signed-out", get(signed_out_page))).await;
    let logout_url = format!("{}/signed-out", partner.base);
    let account = app.account(&app.partner, "alice@shop.example", "Corner Shop").await;
    let idp = OidcProvider::start(json!({
        "clients": [causeway_client(&app, &logout_url, "RS256")],
        "accounts": [person("alice", "alice@shop.example", "Alice", &account), person("bob", "bob@shop.example", "Bob", &account)]
    }))
    .await;
    app.use_idm(&idp.issuer, &logout_url).await;
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
    let mut demo = crate::demo::Demo::start(&["--json"], "debug");
    let printed = crate::demo::Printed(serde_json::from_str(&demo.next_line().await).unwrap());
    let journey = Journey {
        causeway: printed.public().to_owned(),
        cta: printed.text("cta_url").to_owned(),
        logout_url: format!("{}/signed-out", printed.text("idm_issuer")),
        idm: IdmPages::Demo,
        admin: "controller",
        moderator: "moderator",
        shots: "demo",
    };
    in_chromium(&journey).await;

    let log = demo.log.lock().unwrap().clone();
    assert!(log.contains("/merchant-center/payout"), "the log does record the requests");
    for secret in [ACCOUNT_NUMBER, ROUTING, "456012345", "45-6012345"] {
        assert!(!log.contains(secret), "{secret} is in the demo's log");
    }
    stop_and_check_cleanup(demo, &printed).await;
}

/// Stops the demo as Ctrl-C would and checks that its data directory went with it.
async fn stop_and_check_cleanup(demo: crate::demo::Demo, printed: &crate::demo::Printed) {
    let data_dir = std::path::PathBuf::from(printed.text("data_dir"));
    assert!(data_dir.is_dir());
    assert!(demo.stop().await.success());
    assert!(!data_dir.exists(), "{} is left behind", data_dir.display());
}

/// Access without an account claim, as the Wenme-shaped IdM (seed 003) needs it: a
/// moderator by an e-mail grant lands in the Merchant Center; a person with grants on two
/// accounts chooses one, then switches without signing in again.
#[tokio::test]
async fn granted_people_and_the_account_chooser_in_chromium() {
    let app = spawn_app_for_sso(&[]).await;
    let partner = TestServer::start(|_| Route::new().at("/signed-out", get(signed_out_page))).await;
    let logout_url = format!("{}/signed-out", partner.base);
    let bakery = app.account(&app.partner, "owner@bakery.example", "Sunrise Bakery").await;
    let atelier = app.account(&app.partner, "owner@atelier.example", "Atelier Nord").await;
    for (account, body) in [
        (&bakery, json!({"email": "dana@partner-staff.example"})),
        (&bakery, json!({"email": "carol@partner-staff.example"})),
        (&atelier, json!({"email": "carol@partner-staff.example", "role": "financial_admin"})),
    ] {
        let resp = app.post_json(&format!("/accounts/{account}/users"), &app.partner, &body).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let standard = |sub: &str, email: &str, given: &str| json!({"sub": sub, "email": email, "email_verified": true, "given_name": given, "family_name": "Staff"});
    let idp = OidcProvider::start(json!({
        "conform_id_token_claims": true,
        "clients": [causeway_client(&app, &logout_url, "RS256")],
        "accounts": [standard("dana", "dana@partner-staff.example", "Dana"), standard("carol", "carol@partner-staff.example", "Carol")]
    }))
    .await;
    app.use_idm(&idp.issuer, &logout_url).await;
    let branding = json!({"display_name": "Acme Commerce", "brand_color": "#0E7490"});
    assert_eq!(app.api(Method::PUT, "/partner/branding", &app.partner).json(&branding).send().await.unwrap().status(), StatusCode::OK);
    let j = Journey {
        cta: app.url(&format!("/sso/oidc/{}", app.partner.app_id)),
        causeway: app.url(""),
        logout_url,
        idm: IdmPages::OidcProvider,
        admin: "carol",
        moderator: "dana",
        shots: "grants",
    };
    let driver = start_driver().await;
    let browser = open_browser(&driver).await;
    let walk = async {
        browser.set_window_size(DESKTOP, 900).await.unwrap();
        j.sign_in(&browser, j.moderator, false).await;
        assert_eq!(text_of(&browser, "#role").await, "Moderator");
        assert!(source(&browser).await.contains("Sunrise Bakery"));
        assert!(browser.find(Locator::Css("#nav-accounts")).await.is_err(), "one account: nothing to switch");
        j.sign_out(&browser).await;

        j.sign_in_to(&browser, j.admin, false, "/merchant-center/accounts").await;
        assert_eq!(text_of(&browser, "h1").await, "Choose an account");
        let choices = text_of(&browser, "#account-choices").await;
        assert!(choices.find("Atelier Nord").unwrap() < choices.find("Sunrise Bakery").unwrap(), "{choices}");
        screenshot(&browser, "portal-account-chooser", DESKTOP).await;
        click(&browser, "button[aria-label='Open Atelier Nord']").await;
        assert_eq!(path(&browser).await, "/merchant-center");
        assert_eq!(text_of(&browser, "#role").await, "Financial admin");
        click(&browser, "#nav-accounts").await;
        click(&browser, "button[aria-label='Open Sunrise Bakery']").await;
        assert_eq!(text_of(&browser, "#role").await, "Moderator");
        assert!(source(&browser).await.contains("Sunrise Bakery"));
        click(&browser, "#nav-users").await;
        let team = text_of(&browser, "#members").await;
        assert!(team.contains("Granted by your platform"), "{team}");
        screenshot(&browser, "portal-team-grants", DESKTOP).await;
        j.sign_out(&browser).await;
    };
    let result = tokio::time::timeout(Duration::from_secs(120), walk).await;
    let _ = browser.close().await;
    result.expect("the journey finished within two minutes");
}

/// The demo's hosted-login partner in Chromium: the directory's own login page, back to the
/// Merchant Center by a one-time code, sign-out to the partner's page.
#[tokio::test]
async fn the_demos_hosted_login_partner_in_chromium() {
    let mut demo = crate::demo::Demo::start(&["--json"], "warn");
    let printed = crate::demo::Printed(serde_json::from_str(&demo.next_line().await).unwrap());
    let hosted = &printed.0["hosted_login"];
    let j = Journey {
        causeway: printed.public().to_owned(),
        cta: hosted["cta_url"].as_str().unwrap().to_owned(),
        logout_url: format!("{}/signed-out", hosted["base_url"].as_str().unwrap()),
        idm: IdmPages::Demo,
        admin: "controller",
        moderator: "moderator",
        shots: "demo-hosted",
    };
    let driver = start_driver().await;
    let browser = open_browser(&driver).await;
    let walk = async {
        browser.set_window_size(DESKTOP, 900).await.unwrap();
        j.sign_in(&browser, j.admin, true).await;
        assert_eq!(text_of(&browser, "#role").await, "Financial admin");
        assert!(source(&browser).await.contains("Demo Tea House"));
        screenshot(&browser, "demo-hosted-overview", DESKTOP).await;
        j.sign_out(&browser).await;
        assert!(text_of(&browser, "h1").await.contains("signed out"));
        j.sign_in(&browser, j.moderator, false).await;
        assert_eq!(text_of(&browser, "#role").await, "Moderator");
        click(&browser, "#nav-users").await;
        assert!(text_of(&browser, "#members").await.contains("Granted by your platform"));
        j.sign_out(&browser).await;
    };
    let result = tokio::time::timeout(Duration::from_secs(120), walk).await;
    let _ = browser.close().await;
    result.expect("the journey finished within two minutes");
    stop_and_check_cleanup(demo, &printed).await;
}
