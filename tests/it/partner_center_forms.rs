//! Partner Center forms over plain HTTP: what they store, what they refuse, and that the
//! client secret never appears in a page.

use causeway::store::sso_events::SsoEventRow;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::pc_client::PcClient;

const SECRET: &str = "s3cret-Value-that-must-never-show-9f2c";

fn idm_fields<'a>(issuer: &'a str, secret: &'a str, csrf: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("issuer", issuer),
        ("client_id", "causeway-client"),
        ("client_secret", secret),
        ("token_endpoint_auth_method", "client_secret_post"),
        ("authorization_endpoint", ""),
        ("token_endpoint", ""),
        ("jwks_uri", ""),
        ("userinfo_endpoint", ""),
        ("end_session_endpoint", ""),
        ("domain", "partner.example"),
        ("logout_url", "http://127.0.0.1:9/after-logout"),
        ("scopes", "openid email profile"),
        ("csrf_token", csrf),
    ]
}

async fn api_json(app: &TestApp, path: &str) -> Value {
    let resp = app.api(Method::GET, path, &app.partner).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

async fn insecure_app() -> TestApp {
    spawn_app_with(&[("CAUSEWAY_ALLOW_INSECURE_IDM", "true")]).await
}

#[tokio::test]
async fn posts_without_the_right_csrf_token_are_refused_and_change_nothing() {
    let app = insecure_app().await;
    let browser = PcClient::new(&app);
    let csrf = browser.sign_in(&app.partner).await;
    for token in ["", "wrong", &csrf[..csrf.len() - 1]] {
        let mut fields = idm_fields("http://127.0.0.1:9/", SECRET, token);
        if token.is_empty() {
            fields.pop();
        }
        let page = browser.post("/partner-center/idm", &fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "token {token:?}");
        assert!(page.header("content-type").starts_with("text/html"));
        assert!(page.body.contains("This form has expired"));
        let branding = browser.post("/partner-center/branding", &[("display_name", "Forged"), ("brand_color", "#000000"), ("csrf_token", token)]).await;
        assert_eq!(branding.status, StatusCode::FORBIDDEN);
        assert_eq!(browser.post("/partner-center/idm/test", &[("csrf_token", token)]).await.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(api_json(&app, "/partner/idm").await["configured"], false);
    assert_ne!(api_json(&app, "/partner/branding").await["display_name"], "Forged");
    // Another partner's session token does not work here either.
    let other = app.another_partner("Other Platform").await;
    let other_browser = PcClient::new(&app);
    let other_csrf = other_browser.sign_in(&other).await;
    let page = browser.post("/partner-center/idm", &idm_fields("http://127.0.0.1:9/", SECRET, &other_csrf)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_idm_input_shows_inline_errors_and_stores_nothing() {
    let app = spawn_app().await;
    let browser = PcClient::new(&app);
    let csrf = browser.sign_in(&app.partner).await;
    let mut fields = idm_fields("http://idm.partner.example/", SECRET, &csrf);
    fields.retain(|(k, _)| *k != "domain");
    fields.push(("domain", "https://partner.example/"));
    fields.retain(|(k, _)| *k != "jwks_uri");
    fields.push(("jwks_uri", "not a url"));
    let page = browser.post("/partner-center/idm", &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for (field, message) in [("issuer", "Must use https."), ("domain", "bare host name"), ("jwks_uri", "absolute URL"), ("logout_url", "Must use https.")] {
        let marker = format!("id=\"f-{field}-error\"");
        let at = page.body.find(&marker).unwrap_or_else(|| panic!("no inline error for {field}"));
        let snippet = &page.body[at..(at + 400).min(page.body.len())];
        assert!(snippet.contains(message), "{field}: {snippet}");
    }
    assert!(page.body.contains("Nothing was saved."));
    assert!(page.body.contains("<a href=\"#f-domain\">Claim domain</a>"), "the summary links to each bad field");
    assert!(page.body.contains("value=\"http://idm.partner.example/\""), "typed values are kept");
    assert!(page.body.contains("<details class=\"disclosure\" open>"), "overrides open when one has an error");
    assert!(!page.body.contains(SECRET), "the typed secret is not echoed back");
    assert!(page.body.contains("Enter the secret again"));
    assert_eq!(api_json(&app, "/partner/idm").await["configured"], false);

    // No secret the first time is an inline error too.
    let mut fields = idm_fields("https://idm.partner.example/", "", &csrf);
    fields.retain(|(k, _)| *k != "logout_url");
    fields.push(("logout_url", "https://partner.example/bye"));
    let page = browser.post("/partner-center/idm", &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"f-client_secret-error\""));
}

#[tokio::test]
async fn a_saved_idm_config_shows_in_the_partner_api_and_the_secret_in_no_page() {
    let app = insecure_app().await;
    let browser = PcClient::new(&app);
    let csrf = browser.sign_in(&app.partner).await;
    let saved = browser.post("/partner-center/idm", &idm_fields("http://127.0.0.1:9/", SECRET, &csrf)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), "/partner-center/idm?saved=1");
    let api = api_json(&app, "/partner/idm").await;
    assert_eq!(api["configured"], true);
    assert_eq!(api["client_secret_set"], true);
    assert_eq!(api["config"]["issuer"], "http://127.0.0.1:9/");
    assert_eq!(api["config"]["client_id"], "causeway-client");
    assert_eq!(api["config"]["token_endpoint_auth_method"], "client_secret_post");
    assert_eq!(api["config"]["domain"], "partner.example");

    // An empty secret keeps the current one.
    let kept = browser.post("/partner-center/idm", &idm_fields("http://127.0.0.1:10/", "", &csrf)).await;
    assert_eq!(kept.location(), "/partner-center/idm?saved=2");
    let api = api_json(&app, "/partner/idm").await;
    assert_eq!(api["client_secret_set"], true);
    assert_eq!(api["config"]["issuer"], "http://127.0.0.1:10/");

    // History and restore.
    let history = browser.get("/partner-center/idm/history").await;
    assert!(history.body.contains("Version 2") && history.body.contains("Restore version 1"));
    let restored = browser.post("/partner-center/idm/history/1/restore", &[("csrf_token", &csrf)]).await;
    assert_eq!(restored.location(), "/partner-center/idm?restored=1");
    assert_eq!(api_json(&app, "/partner/idm").await["config"]["issuer"], "http://127.0.0.1:9/");
    let versions = api_json(&app, "/partner/idm/history").await;
    assert!(versions["versions"][0]["changed_by"].as_str().unwrap().starts_with("Partner Center"));
    let missing = browser.post("/partner-center/idm/history/99/restore", &[("csrf_token", &csrf)]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // The test runs against an unreachable IdM: a page of failed steps, not an error.
    let test = browser.post("/partner-center/idm/test", &[("csrf_token", &csrf)]).await;
    assert_eq!(test.status, StatusCode::OK);
    assert!(test.body.contains("Discovery document") && test.body.contains("check-failed"));

    for path in ["/partner-center", "/partner-center/idm", "/partner-center/idm/history", "/partner-center/branding", "/partner-center/events"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.body.contains(SECRET), "client secret in {path}");
    }
    let form = browser.get("/partner-center/idm").await;
    assert!(form.body.contains("leave empty to keep the current one"));
    assert!(form.body.contains("http://127.0.0.1:8080/sso/oidc/"), "the redirect URI is shown");
}

#[tokio::test]
async fn branding_edits_show_in_the_partner_api() {
    let app = spawn_app().await;
    let browser = PcClient::new(&app);
    let csrf = browser.sign_in(&app.partner).await;
    let fields = [
        ("display_name", "Acme Pay"),
        ("logo_url", "https://cdn.acme.example/logo.svg"),
        ("brand_color", "#0e7c66"),
        ("support_label", "Help: support.acme.example"),
        ("csrf_token", &csrf),
    ];
    let saved = browser.post("/partner-center/branding", &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let api = api_json(&app, "/partner/branding").await;
    assert_eq!(api["display_name"], "Acme Pay");
    assert_eq!(api["logo_url"], "https://cdn.acme.example/logo.svg");
    assert_eq!(api["brand_color"], "#0E7C66");
    assert_eq!(api["support_label"], "Help: support.acme.example");
    let css = browser.get("/partner-center/brand.css").await;
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    assert!(css.body.contains("--brand: #0E7C66"));

    let bad = [("display_name", ""), ("logo_url", "http://cdn.acme.example/logo.svg"), ("brand_color", "teal"), ("support_label", ""), ("csrf_token", &csrf)];
    let page = browser.post("/partner-center/branding", &bad).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["display_name", "logo_url", "brand_color"] {
        assert!(page.body.contains(&format!("id=\"f-{field}-error\"")), "{field}");
    }
    assert_eq!(api_json(&app, "/partner/branding").await["display_name"], "Acme Pay", "nothing stored");
}

#[tokio::test]
async fn the_event_log_lists_sso_attempts_escaped() {
    let app = spawn_app().await;
    let browser = PcClient::new(&app);
    browser.sign_in(&app.partner).await;
    let empty = browser.get("/partner-center/events").await;
    assert!(empty.body.contains("No sign-in attempts yet"));
    app.store
        .insert_sso_event(&SsoEventRow {
            id: uuid::Uuid::new_v4().to_string(),
            app_id: app.partner.app_id.parse().unwrap(),
            occurred_at: crate::helpers::now(),
            outcome: "failed".into(),
            error_code: Some("issuer_mismatch".into()),
            detail: "<script>alert(1)</script> iss was wrong".into(),
            correlation_id: "corr-1234".into(),
        })
        .await
        .unwrap();
    let page = browser.get("/partner-center/events").await;
    assert!(page.body.contains("issuer_mismatch") && page.body.contains("corr-1234"));
    assert!(page.body.contains("alert(1)") && !page.body.contains("<script>alert"), "event details are HTML-escaped");
    let overview = browser.get("/partner-center").await;
    assert!(overview.body.contains("issuer_mismatch"), "the overview shows recent attempts");
}

#[tokio::test]
async fn the_identity_policy_is_edited_in_the_form_with_its_warnings() {
    let app = insecure_app().await;
    let browser = PcClient::new(&app);
    let csrf = browser.sign_in(&app.partner).await;
    // A new configuration starts from WePay's shape: the three claims are ticked.
    let form = browser.get("/partner-center/idm").await;
    for name in ["require_email", "require_given_name", "require_family_name"] {
        assert!(form.body.contains(&format!("name=\"{name}\" checked")), "{name} ticked by default");
    }
    assert!(!form.body.contains("name=\"require_phone_number\" checked"));

    let mut fields = idm_fields("http://127.0.0.1:9/", "basic+needs/encoding=", &csrf);
    fields.retain(|(k, _)| *k != "token_endpoint_auth_method");
    fields.extend([
        ("token_endpoint_auth_method", "client_secret_basic"),
        ("userinfo", "always"),
        ("require_phone_number", "on"),
        ("email_verified", "trusted_idm"),
        ("claims_phone_number", "msisdn"),
        ("claims_email", ""),
        ("claims_account", "https://partner.example/merchant"),
    ]);
    let saved = browser.post("/partner-center/idm", &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert!(saved.location().contains("basic_encoding=1"), "{}", saved.location());
    let config = api_json(&app, "/partner/idm").await["config"].clone();
    assert_eq!(config["required_claims"], serde_json::json!(["phone_number"]));
    assert_eq!((config["userinfo"].as_str(), config["email_verified"].as_str()), (Some("always"), Some("trusted_idm")));
    assert_eq!((config["claims"]["phone_number"].as_str(), config["claims"]["email"].as_str()), (Some("msisdn"), Some("email")), "an emptied name is the standard one");
    assert_eq!(config["account_claim"], "https://partner.example/merchant");

    let page = browser.get(&saved.location()).await;
    assert!(page.body.contains("id=\"basic-encoding-warning\"") && page.body.contains("client_secret_post"), "the secret's encoding is warned about");
    assert!(page.body.contains("id=\"trusted-idm-warning\""), "trusting the IdM's e-mails is shown as a warning");
    assert!(page.body.contains("<details class=\"disclosure\" id=\"identity\" open>"), "a customised policy shows its section open");
    assert!(page.body.contains("name=\"require_phone_number\" checked") && !page.body.contains("name=\"require_email\" checked"));
    assert!(!page.body.contains("basic+needs/encoding="), "the secret is never shown");

    // A bad claim name is explained next to its field; nothing is stored.
    let mut bad = idm_fields("http://127.0.0.1:9/", "", &csrf);
    bad.extend([("claims_given_name", "bad\u{7}name"), ("email_verified", "whatever")]);
    let page = browser.post("/partner-center/idm", &bad).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("href=\"#f-claims_given_name\"") && page.body.contains("href=\"#f-email_verified\""), "{}", page.body);
    assert_eq!(api_json(&app, "/partner/idm").await["version"], 1);
}
