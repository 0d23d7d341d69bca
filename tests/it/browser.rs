//! The Partner Center in a real browser (headless Chromium over WebDriver): sign in, set
//! up the IdM, test the connection against a fake IdM, brand the Merchant Center, read
//! the event log, sign out. Proves the pages work under their CSP (our script runs, our
//! stylesheet applies) and takes the screenshots the README shows.

use std::time::Duration;

use causeway::store::sso_events::SsoEventRow;
use crate::browser_support::{Client, Locator};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::browser_support::{click, fill, open_browser, path, screenshot, start_driver, start_fake_idm, text_of};
use crate::helpers::{now, spawn_app_with, TestApp};

const DESKTOP: u32 = 1280;
const PHONE: u32 = 390;

/// Waits out the colour transition of `css` and checks where it ends.
async fn assert_eventually_colored(browser: &Client, css: &str, rgb: &str) {
    let element = browser.find(Locator::Css(css)).await.unwrap();
    let mut seen = String::new();
    for _ in 0..50 {
        seen = element.css_value("background-color").await.unwrap();
        if seen.contains(rgb) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    panic!("{css} should be rgb({rgb}), is {seen}");
}

async fn api(app: &TestApp, path: &str) -> Value {
    let resp = app.api(Method::GET, path, &app.partner).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

async fn record_events(app: &TestApp) {
    let events = [
        (600, "started", None, "Sign-in started; redirected to the IdM."),
        (590, "failed", Some("redirect_uri_mismatch"), "The IdM answered error=invalid_request: redirect_uri is not registered for this client."),
        (120, "started", None, "Sign-in started; redirected to the IdM."),
        (110, "succeeded", None, "jamie@corner-shop.example signed in to account Corner Shop as Financial admin."),
    ];
    for (ago, outcome, code, detail) in events {
        let event = SsoEventRow {
            id: uuid::Uuid::new_v4().to_string(),
            app_id: app.partner.app_id.parse().unwrap(),
            occurred_at: now() - ago,
            outcome: outcome.into(),
            error_code: code.map(str::to_owned),
            detail: detail.into(),
            correlation_id: uuid::Uuid::new_v4().to_string(),
        };
        app.store.insert_sso_event(&event).await.unwrap();
    }
}

#[tokio::test]
async fn a_partner_sets_up_sso_in_a_real_browser() {
    let app = spawn_app_with(&[("CAUSEWAY_ALLOW_INSECURE_IDM", "true")]).await;
    let idm = start_fake_idm().await;
    let driver = start_driver().await;
    let browser = open_browser(&driver).await;
    let result = tokio::time::timeout(Duration::from_secs(120), walk_through(&app, &browser, &idm.issuer)).await;
    let _ = browser.close().await;
    result.expect("the walk-through finished within two minutes");
}

async fn walk_through(app: &TestApp, browser: &Client, issuer: &str) {
    browser.set_window_size(DESKTOP, 900).await.unwrap();
    // Unsigned: the Partner Center sends the browser to sign in.
    browser.goto(&app.url("/partner-center")).await.unwrap();
    assert_eq!(path(browser).await, "/partner-center/sign-in");
    // The stylesheet applied (the CSP allows our own CSS).
    let family = browser.find(Locator::Css("body")).await.unwrap().css_value("font-family").await.unwrap();
    assert!(family.contains("system-ui"), "stylesheet applied: {family}");
    screenshot(browser, "partner-center-sign-in", DESKTOP).await;

    fill(browser, "f-app_id", &app.partner.app_id).await;
    fill(browser, "f-app_token", "cwt_not-the-token").await;
    click(browser, "form button[type=submit]").await;
    assert!(text_of(browser, "#sign-in-error").await.contains("do not match an active app"));
    fill(browser, "f-app_token", &app.partner.app_token).await;
    click(browser, "form button[type=submit]").await;
    assert_eq!(text_of(browser, "h1").await, "Overview");
    assert_eq!(path(browser).await, "/partner-center");

    // The IdM form: a mistake first, shown next to its field; nothing is stored.
    click(browser, "a.btn[href='/partner-center/idm']").await;
    assert_eq!(text_of(browser, "h1").await, "Identity provider");
    fill(browser, "f-issuer", issuer).await;
    fill(browser, "f-client_id", "causeway-merchant-center").await;
    fill(browser, "f-client_secret", "correct-horse-battery-staple").await;
    fill(browser, "f-domain", "https://acme.example/").await;
    fill(browser, "f-logout_url", "https://acme.example/signed-out").await;
    click(browser, "form.form-card button[type=submit]").await;
    assert!(text_of(browser, "#f-domain-error").await.contains("bare host name"));
    assert!(browser.source().await.unwrap().contains("Enter the secret again"));
    screenshot(browser, "partner-center-idm-errors", DESKTOP).await;
    assert_eq!(api(app, "/partner/idm").await["configured"], false);

    fill(browser, "f-domain", "acme.example").await;
    fill(browser, "f-client_secret", "correct-horse-battery-staple").await;
    click(browser, "form.form-card button[type=submit]").await;
    assert!(text_of(browser, ".alert-success").await.contains("Saved as version 1"));
    let stored = api(app, "/partner/idm").await;
    assert_eq!(stored["config"]["issuer"], issuer);
    assert_eq!(stored["client_secret_set"], true);
    browser.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    screenshot(browser, "partner-center-idm", DESKTOP).await;

    // Test connection against the fake IdM: every step passes.
    click(browser, "#test-connection").await;
    assert_eq!(text_of(browser, "h1").await, "Connection test");
    assert!(text_of(browser, ".result-banner").await.contains("Causeway can use this IdM"));
    let steps = browser.find_all(Locator::Css(".check-step")).await.unwrap();
    assert_eq!(steps.len(), 7);
    assert_eq!(browser.find_all(Locator::Css(".check-passed")).await.unwrap().len(), 7);
    screenshot(browser, "partner-center-test", DESKTOP).await;

    // The hosted-login kind: choosing it warns that saving switches the kind, and
    // shows the registration request for the IdM's administrator. Nothing is saved.
    browser.goto(&app.url("/partner-center/idm")).await.unwrap();
    click(browser, "#kind-hosted_login").await;
    assert!(text_of(browser, "#kind-switch").await.contains("OpenID Connect"));
    let request = text_of(browser, "#request-template").await;
    let callback = format!("/sso/oidc/{}/callback", app.partner.app_id);
    assert!(request.contains(&callback), "the request names our callback URL: {request}");
    assert!(browser.find(Locator::Css("#hosted-form #f-service_key")).await.is_ok());
    screenshot(browser, "partner-center-idm-hosted", DESKTOP).await;
    assert_eq!(api(app, "/partner/idm").await["config"]["kind"], "oidc");

    // Branding: the preview follows the form as the partner types (our script runs).
    browser.goto(&app.url("/partner-center/branding")).await.unwrap();
    fill(browser, "f-display_name", "Acme Pay").await;
    fill(browser, "f-brand_color", "#7C3AED").await;
    fill(browser, "f-support_label", "Help: support.acme.example").await;
    assert_eq!(text_of(browser, "#pv-name").await, "Acme Pay");
    assert_eventually_colored(browser, ".mc-avatar", "124, 58, 237").await;
    screenshot(browser, "partner-center-branding", DESKTOP).await;
    click(browser, "#branding-form button[type=submit]").await;
    assert!(text_of(browser, ".alert-success").await.contains("Branding saved"));
    let branding = api(app, "/partner/branding").await;
    assert_eq!(branding["display_name"], "Acme Pay");
    assert_eq!(branding["brand_color"], "#7C3AED");

    // Overview with events; the copy button exists only because our script ran.
    record_events(app).await;
    browser.goto(&app.url("/partner-center")).await.unwrap();
    let copy = browser.find(Locator::Css("button[data-copy='#redirect-uri']")).await.unwrap();
    assert!(copy.is_displayed().await.unwrap(), "copy buttons are shown by partner-center.js");
    assert_eventually_colored(browser, ".mini-header", "124, 58, 237").await;
    screenshot(browser, "partner-center-overview", DESKTOP).await;
    copy.click().await.unwrap();
    let label = text_of(browser, "button[data-copy='#redirect-uri'] span").await;
    assert!(label == "Copied" || label == "Press Ctrl+C", "copy feedback: {label}");

    browser.goto(&app.url("/partner-center/events")).await.unwrap();
    assert_eq!(browser.find_all(Locator::Css("tbody tr")).await.unwrap().len(), 4);
    screenshot(browser, "partner-center-events", DESKTOP).await;

    // A phone-sized screen: the same overview, one column.
    browser.goto(&app.url("/partner-center")).await.unwrap();
    screenshot(browser, "partner-center-phone", PHONE).await;
    let width = browser.execute("return document.documentElement.scrollWidth;", vec![]).await.unwrap();
    assert!(width.as_u64().unwrap() <= u64::from(PHONE), "no horizontal scrolling on a phone: {width}");

    // Sign out.
    browser.set_window_size(DESKTOP, 900).await.unwrap();
    click(browser, ".topbar form button").await;
    assert!(text_of(browser, ".alert-info").await.contains("signed out"));
    browser.goto(&app.url("/partner-center/idm")).await.unwrap();
    assert_eq!(path(browser).await, "/partner-center/sign-in");
}

/// The go-live pages in a real browser: a test sign-in through the fake IdM ends on its
/// report (the link to the IdM is not a form, which `form-action 'self'` would stop at the
/// IdM's origin), and the health page draws its chart under the CSP, on a phone too.
#[tokio::test]
async fn the_go_live_pages_in_a_real_browser() {
    let app = crate::helpers::spawn_app_for_sso(&[]).await;
    app.account(&app.partner, "alice@shop.example", "Corner Shop").await;
    let op = crate::support::fake_op::FakeOp::start().await;
    app.configure_idm(&op.config(serde_json::json!({}))).await;
    for _ in 0..3 {
        assert_eq!(app.sign_in(&mut crate::form_browser::FormBrowser::new(), &[]).await, Ok("/merchant-center".into()));
    }
    op.set(|b| b.authorize_error = Some("access_denied"));
    assert_eq!(app.sign_in(&mut crate::form_browser::FormBrowser::new(), &[]).await, Err("idm_error".into()));
    op.set(|b| b.authorize_error = None);

    let driver = start_driver().await;
    let browser = open_browser(&driver).await;
    let result = tokio::time::timeout(Duration::from_secs(90), go_live(&app, &browser)).await;
    let _ = browser.close().await;
    result.expect("the go-live pages within 90 s");
}

async fn go_live(app: &TestApp, browser: &Client) {
    browser.set_window_size(DESKTOP, 900).await.unwrap();
    browser.goto(&app.url("/partner-center/sign-in")).await.unwrap();
    fill(browser, "f-app_id", &app.partner.app_id).await;
    fill(browser, "f-app_token", &app.partner.app_token).await;
    click(browser, "form button[type=submit]").await;
    assert_eq!(path(browser).await, "/partner-center");

    browser.goto(&app.url("/partner-center/idm")).await.unwrap();
    click(browser, "#test-sign-in").await;
    click(browser, "#continue-to-idm").await;
    assert!(path(browser).await.starts_with("/partner-center/test-sign-ins/"), "back on the report: {}", path(browser).await);
    assert!(text_of(browser, "#test-sign-in-result").await.contains("Every rule passed"));
    assert!(browser.find_all(Locator::Css("#test-sign-in-checks .check-passed")).await.unwrap().len() >= 12);
    screenshot(browser, "partner-center-test-sign-in", DESKTOP).await;

    browser.goto(&app.url("/partner-center/health")).await.unwrap();
    assert_eq!(browser.find_all(Locator::Css("svg.health-chart rect")).await.unwrap().len(), 48, "two bars an hour");
    assert!(text_of(browser, "#health-figures").await.contains("75.0 %"));
    screenshot(browser, "partner-center-health", DESKTOP).await;
    browser.set_window_size(PHONE, 800).await.unwrap();
    let width = browser.execute("return document.documentElement.scrollWidth;", vec![]).await.unwrap();
    assert!(width.as_u64().unwrap() <= u64::from(PHONE), "no horizontal scrolling on a phone: {width}");
}

/// The session lifecycle in a real browser: a partner's deep link lands on the payout form,
/// a stale session is locked until the step-up's round trip through the IdM, the save goes
/// through, and a back-channel logout from the IdM ends the open page's session.
#[tokio::test]
async fn a_deep_link_a_step_up_and_a_logout_from_the_idm_in_a_real_browser() {
    let app = crate::helpers::spawn_app_for_sso_with_pinned_clock(&[]).await;
    let account = app.account(&app.partner, "alice@shop.example", "Corner Shop").await;
    let op = crate::support::fake_op::FakeOp::start().await;
    app.configure_idm(&op.config(serde_json::json!({}))).await;
    op.set(|b| b.id_token_claims["sid"] = serde_json::json!("idm-session-1"));
    let link: Value = app.post_json(&format!("/accounts/{account}/links"), &app.partner, &serde_json::json!({"target": "payout"})).await.json().await.unwrap();

    let driver = start_driver().await;
    let browser = open_browser(&driver).await;
    let result = tokio::time::timeout(Duration::from_secs(90), session_lifecycle(&app, &op, &browser, link["url"].as_str().unwrap())).await;
    let _ = browser.close().await;
    result.expect("the session lifecycle within 90 s");
}

async fn session_lifecycle(app: &TestApp, op: &crate::support::fake_op::FakeOp, browser: &Client, link: &str) {
    browser.set_window_size(DESKTOP, 900).await.unwrap();
    browser.goto(link).await.unwrap();
    assert_eq!(path(browser).await, "/merchant-center/payout", "the deep link lands on its page");
    assert!(browser.find_all(Locator::Css("#step-up-needed")).await.unwrap().is_empty(), "a fresh sign-in may save");

    // Eleven minutes later the form is locked until the person signs in again.
    app.clock.advance(660);
    op.set(|b| b.time_shift = 660);
    browser.goto(&app.url("/merchant-center/payout")).await.unwrap();
    assert!(text_of(browser, "#step-up-needed").await.contains("needs a recent sign-in"));
    let locked = browser.execute("return document.querySelector('#payout-form fieldset').disabled;", vec![]).await.unwrap();
    assert_eq!(locked, Value::Bool(true));
    screenshot(browser, "merchant-center-step-up", DESKTOP).await;
    click(browser, "#step-up").await;
    assert_eq!(path(browser).await, "/merchant-center/payout?signed_in_again=1");
    assert!(text_of(browser, "#signed-in-again").await.contains("You signed in again"));
    fill(browser, "f-account_holder", "Alice Merchant").await;
    fill(browser, "f-routing_number", crate::merchant_center::ROUTING).await;
    fill(browser, "f-account_number", crate::merchant_center::ACCOUNT_NUMBER).await;
    fill(browser, "f-account_number_confirmation", crate::merchant_center::ACCOUNT_NUMBER).await;
    click(browser, "#payout-submit").await;
    assert!(text_of(browser, "#saved").await.contains("Bank account saved"));

    // The IdM ends its session: the page's next request finds the session gone.
    let now = app.clock.now();
    let token = op.sign(&serde_json::json!({"iss": op.issuer, "aud": crate::support::fake_op::CLIENT_ID, "iat": now, "exp": now + 120,
        "jti": "browser-logout-1", "sid": "idm-session-1", "events": {"http://schemas.openid.net/event/backchannel-logout": {}}}));
    let delivered = app.client.post(app.url(&format!("/sso/oidc/{}/backchannel_logout", app.partner.app_id))).form(&[("logout_token", token)]).send().await.unwrap();
    assert_eq!(delivered.status(), StatusCode::OK);
    browser.goto(&app.url("/merchant-center/payout")).await.unwrap();
    assert_eq!(text_of(browser, "#notice-title").await, "You are signed out");
}
