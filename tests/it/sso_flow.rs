//! The whole SSO journey over HTTP against a real OpenID provider: CTA, the provider's
//! login and consent forms, callback, Merchant Center with the right role, logout
//! through the IdM's end-session endpoint; and the failures only a browser can cause.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::form_browser::FormBrowser;
use crate::helpers::*;
use crate::form_browser::csrf;
use crate::idp::{causeway_client, person, OidcProvider};

const LOGOUT_URL: &str = "https://partner.example/after-logout";

struct Journey {
    app: TestApp,
    idp: OidcProvider,
    account_id: String,
}

impl Journey {
    fn cta(&self) -> String {
        self.app.url(&format!("/sso/oidc/{}", self.app.partner.app_id))
    }

    fn merchant_center(&self) -> String {
        self.app.url("/merchant-center")
    }
}

async fn journey(claim_account: Option<&str>) -> Journey {
    journey_on(spawn_app_for_sso(&[]).await, claim_account).await
}

/// Partner A's app, IdM and account; the IdM's account claim names `claim_account`
/// (default: A's own account).
async fn journey_on(app: TestApp, claim_account: Option<&str>) -> Journey {
    let account_id = app.account(&app.partner, "alice@shop.example", "Corner Shop").await;
    let claim = claim_account.unwrap_or(&account_id).to_owned();
    let idp = OidcProvider::start(json!({
        "clients": [causeway_client(&app, LOGOUT_URL, "ES256")],
        "accounts": [person("alice", "Alice@Shop.example", "Alice", &claim), person("bob", "bob@shop.example", "Bob", &claim)]
    }))
    .await;
    app.use_idm(&idp.issuer, LOGOUT_URL).await;
    Journey { app, idp, account_id }
}

async fn sign_in(j: &Journey, browser: &mut FormBrowser, login: &str) {
    let landed = browser.run_until(&j.cta(), &j.merchant_center(), &[("login", login), ("password", "any")]).await;
    assert_eq!(landed.as_str(), j.merchant_center());
}

#[tokio::test]
async fn controller_and_moderator_sign_in_and_out() {
    let j = journey(None).await;
    let mut alice = FormBrowser::new();
    sign_in(&j, &mut alice, "alice").await;
    let (status, _, page) = alice.get(&j.merchant_center()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Corner Shop") && page.contains(&j.account_id), "{page}");
    assert!(page.contains("Financial admin"), "the verified controller (case-insensitive e-mail) is the financial admin");

    let mut bob = FormBrowser::new();
    sign_in(&j, &mut bob, "bob").await;
    let (_, _, page) = bob.get(&j.merchant_center()).await;
    assert!(page.contains("Moderator") && !page.contains("Financial admin"));

    // Logout ends the session and goes through the IdM's end-session endpoint.
    let token = csrf(&alice.get(&j.merchant_center()).await.2);
    let (status, location, _) = alice.post(&j.app.url("/sso/logout"), &[("csrf_token", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert!(location.starts_with(&j.idp.issuer) && location.contains("id_token_hint=") && location.contains("post_logout_redirect_uri="), "{location}");
    let end = alice.run_until(&location, LOGOUT_URL, &[]).await;
    assert!(end.as_str().starts_with(LOGOUT_URL));
    assert_eq!(alice.get(&j.merchant_center()).await.0, StatusCode::UNAUTHORIZED);
    // Bob's session is untouched.
    assert_eq!(bob.get(&j.merchant_center()).await.0, StatusCode::OK);

    let events: Value = j.app.get("/partner/sso_events", &j.app.partner).await.json().await.unwrap();
    let succeeded: Vec<&Value> = events["events"].as_array().unwrap().iter().filter(|e| e["outcome"] == "succeeded").collect();
    assert_eq!(succeeded.len(), 2);
    // Both logins fall in the same second: find Alice's by content, not by position.
    let details: Vec<&str> = succeeded.iter().map(|e| e["detail"].as_str().unwrap()).collect();
    assert!(
        details.iter().any(|d| d.contains("Alice@Shop.example") && d.contains(&j.account_id) && d.contains("Financial admin")),
        "{details:?}"
    );
    assert!(details.iter().any(|d| d.contains("bob@shop.example") && d.contains("Moderator")), "{details:?}");
}

/// Runs a login up to the IdM's redirect back to Causeway and returns the callback URL.
async fn callback_url(j: &Journey, browser: &mut FormBrowser) -> String {
    let callback = format!("{}/sso/oidc/{}/callback", j.app.url(""), j.app.partner.app_id);
    browser.run_until(&j.cta(), &callback, &[("login", "alice"), ("password", "any")]).await.to_string()
}

async fn error_code(browser: &mut FormBrowser, url: &str) -> (StatusCode, String) {
    let (status, _, page) = browser.get(url).await;
    let marker = "Error code</dt><dd><code>";
    let start = page.find(marker).map(|i| i + marker.len()).unwrap_or_else(|| panic!("no error page: {page}"));
    (status, page[start..start + page[start..].find('<').unwrap()].to_owned())
}

#[tokio::test]
async fn replayed_and_foreign_browser_callbacks_are_refused() {
    let j = journey(None).await;
    let mut browser = FormBrowser::new();
    let callback = callback_url(&j, &mut browser).await;
    // Another browser (no binding cookie) presents the callback first.
    let mut thief = FormBrowser::new();
    assert_eq!(error_code(&mut thief, &callback).await.1, "flow_other_browser");
    // The flow was consumed by that attempt: the real browser now sees a replay.
    assert_eq!(error_code(&mut browser, &callback).await.1, "state_replayed");
    let (status, code) = error_code(&mut browser, &format!("{}/sso/oidc/{}/callback?state=forged&code=x", j.app.url(""), j.app.partner.app_id)).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "state_unknown"));
    assert_eq!(error_code(&mut browser, &format!("{}/sso/oidc/{}/callback?code=x", j.app.url(""), j.app.partner.app_id)).await.1, "state_missing");
    assert_eq!(j.app.store.count_merchant_sessions(j.app.partner.app_id.parse().unwrap()).await.unwrap(), 0);

    // A good flow, then its callback replayed after success.
    let callback = callback_url(&j, &mut browser).await;
    assert_eq!(browser.get(&callback).await.0, StatusCode::FOUND);
    // Replayed by the browser it signed in (Back): on to the Merchant Center, no new session.
    let (status, location, _) = browser.get(&callback).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/merchant-center")));
    assert_eq!(j.app.store.count_merchant_sessions(j.app.partner.app_id.parse().unwrap()).await.unwrap(), 1);
    // Replayed without that session: still a replay.
    assert_eq!(error_code(&mut FormBrowser::new(), &callback).await.1, "state_replayed");
}

#[tokio::test]
async fn a_token_naming_another_partners_account_opens_nothing() {
    let j = journey(Some("00000000-0000-4000-8000-000000000000")).await;
    let mut browser = FormBrowser::new();
    let callback = callback_url(&j, &mut browser).await;
    assert_eq!(error_code(&mut browser, &callback).await.1, "account_unknown");

    // Partner B onboards an account; partner A's IdM (misconfigured or hostile) names it.
    let app = spawn_app_for_sso(&[]).await;
    let rival = app.another_partner("Rival Platform").await;
    let rival_account = app.account(&rival, "alice@shop.example", "Corner Shop").await;
    let j = journey_on(app, Some(&rival_account)).await;
    let mut browser = FormBrowser::new();
    let callback = callback_url(&j, &mut browser).await;
    assert_eq!(error_code(&mut browser, &callback).await, (StatusCode::FORBIDDEN, "account_other_partner".to_owned()));
    let events: Value = j.app.get("/partner/sso_events", &j.app.partner).await.json().await.unwrap();
    assert_eq!(events["events"][0]["error_code"], "account_other_partner");
    assert_eq!(j.app.store.count_merchant_sessions(rival.app_id.parse().unwrap()).await.unwrap(), 0);
    assert_eq!(j.app.store.count_merchant_sessions(j.app.partner.app_id.parse().unwrap()).await.unwrap(), 0);
}

#[tokio::test]
async fn the_cta_explains_unusable_apps() {
    let app = spawn_app_for_sso(&[]).await;
    let mut browser = FormBrowser::new();
    let cta = app.url(&format!("/sso/oidc/{}", app.partner.app_id));
    assert_eq!(error_code(&mut browser, &cta).await, (StatusCode::BAD_REQUEST, "idm_not_configured".to_owned()));
    assert_eq!(error_code(&mut browser, &app.url(&format!("/sso/oidc/{}", uuid::Uuid::new_v4()))).await.0, StatusCode::NOT_FOUND);
    causeway::services::apps::set_status(&app.store, app.partner.app_id.parse().unwrap(), causeway::domain::app::AppStatus::Suspended).await.unwrap();
    assert_eq!(error_code(&mut browser, &cta).await, (StatusCode::FORBIDDEN, "app_suspended".to_owned()));
}
