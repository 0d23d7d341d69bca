//! The IdM shapes partners really have, each a real `oidc-provider` configured like one,
//! signed in through end to end: claims only at userinfo (the OIDC default), standard
//! claims only with endpoints on other hosts (seed 003, Wenme), and pairwise subjects with
//! a phone number and no e-mail (seed 002, wgtwo).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::form_browser::FormBrowser;
use crate::helpers::*;
use crate::idp::{causeway_client, OidcProvider};

const LOGOUT_URL: &str = "https://partner.example/after-logout";

async fn page(browser: &mut FormBrowser, app: &TestApp, path: &str) -> String {
    let (status, _, page) = browser.get(&app.url(path)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

fn idm_config(idp: &OidcProvider, extra: Value) -> Value {
    let mut config = json!({"issuer": idp.issuer, "client_id": "causeway", "client_secret": "s3cret",
        "token_endpoint_auth_method": "client_secret_basic", "domain": "partner.example", "logout_url": LOGOUT_URL});
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    config
}

#[tokio::test]
async fn claims_only_at_userinfo_the_oidc_default() {
    let app = spawn_app_for_sso(&[]).await;
    let account = app.account(&app.partner, "alice@shop.example", "Corner Shop").await;
    // oidc-provider's own default: with an access token issued, the ID token carries no
    // profile claims; they, and the account claim, are at userinfo.
    let idp = OidcProvider::start(json!({
        "conform_id_token_claims": true,
        "clients": [causeway_client(&app, LOGOUT_URL, "ES256")],
        "accounts": [{"sub": "alice", "email": "alice@shop.example", "email_verified": true, "given_name": "Alice", "family_name": "Merchant",
                      "claims": {"https://partner.example/wepay_account_id": account}}]
    }))
    .await;
    app.configure_idm(&idm_config(&idp, json!({}))).await;
    let mut browser = FormBrowser::new();
    assert_eq!(app.sign_in(&mut browser, &[("login", "alice"), ("password", "any")]).await, Ok("/merchant-center".into()));
    let overview = page(&mut browser, &app, "/merchant-center").await;
    assert!(overview.contains("Corner Shop") && overview.contains("Alice Merchant") && overview.contains("Financial admin"), "{overview}");

    // With userinfo turned off, the same IdM's ID token lacks what Causeway needs.
    app.configure_idm(&idm_config(&idp, json!({"userinfo": "never"}))).await;
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[("login", "alice"), ("password", "any")]).await, Err("claim_missing (email)".into()));
}

#[tokio::test]
async fn standard_claims_only_with_endpoints_on_other_hosts() {
    let app = spawn_app_for_sso(&[]).await;
    let account = app.account(&app.partner, "owner@shop.example", "Corner Shop").await;
    // Seed 003: PKCE mandatory, discovery on the issuer's host, authorization and JWKS on
    // another, token and userinfo on a third; only standard OIDC claims.
    let idp = OidcProvider::start(json!({
        "hosts": {"authorization_endpoint": "127.0.0.2", "jwks_uri": "127.0.0.2", "end_session_endpoint": "127.0.0.2",
                  "token_endpoint": "127.0.0.3", "userinfo_endpoint": "127.0.0.3"},
        "conform_id_token_claims": true,
        "clients": [{"client_id": "causeway", "client_secret": "s3cret", "token_endpoint_auth_method": "client_secret_post",
                     "redirect_uris": [format!("{}/sso/oidc/{}/callback", app.url(""), app.partner.app_id)],
                     "post_logout_redirect_uris": [LOGOUT_URL], "id_token_signed_response_alg": "RS256"}],
        "accounts": [
            {"sub": "casey", "email": "Casey@Shop.example", "email_verified": true, "given_name": "Casey", "family_name": "Clerk"},
            {"sub": "stranger", "email": "stranger@elsewhere.example", "email_verified": true, "given_name": "Sam", "family_name": "Stranger"}
        ]
    }))
    .await;
    app.configure_idm(&idm_config(&idp, json!({"token_endpoint_auth_method": "client_secret_post"}))).await;
    let discovery: Value = reqwest::get(format!("{}/.well-known/openid-configuration", idp.issuer)).await.unwrap().json().await.unwrap();
    assert!(discovery["authorization_endpoint"].as_str().unwrap().starts_with("http://127.0.0.2:"));
    assert!(discovery["token_endpoint"].as_str().unwrap().starts_with("http://127.0.0.3:"));

    // The CTA leads to the authorization endpoint's own host, with PKCE.
    let cta = app.client.get(app.cta()).send().await.unwrap();
    let location = cta.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(discovery["authorization_endpoint"].as_str().unwrap()) && location.contains("code_challenge_method=S256"), "{location}");

    // No account claim and no grant yet: the fix names both ways.
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[("login", "casey"), ("password", "any")]).await, Err("account_not_granted".into()));
    let events: Value = app.get("/partner/sso_events", &app.partner).await.json().await.unwrap();
    let detail = events["events"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("account claim") && detail.contains("POST /accounts/{id}/users"), "{detail}");

    let grant = app.post_json(&format!("/accounts/{account}/users"), &app.partner, &json!({"email": "casey@shop.example"})).await;
    assert_eq!(grant.status(), StatusCode::CREATED);
    let mut casey = FormBrowser::new();
    assert_eq!(app.sign_in(&mut casey, &[("login", "casey"), ("password", "any")]).await, Ok("/merchant-center".into()));
    let overview = page(&mut casey, &app, "/merchant-center").await;
    assert!(overview.contains("Casey Clerk") && overview.contains("Moderator"), "{overview}");
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[("login", "stranger"), ("password", "any")]).await, Err("account_not_granted".into()));
}

#[tokio::test]
async fn pairwise_subjects_and_a_phone_number_without_e_mail() {
    let app = spawn_app_for_sso(&[]).await;
    let account = app.account(&app.partner, "owner@shop.example", "Fjord Fish").await;
    // Seed 002: RS256, client_secret_basic, pairwise subjects, the phone scope, no e-mail.
    let idp = OidcProvider::start(json!({
        "pairwise": true,
        "clients": [causeway_client(&app, LOGOUT_URL, "RS256")],
        "accounts": [
            {"sub": "nora", "phone_number": "+4799999999", "phone_number_verified": true, "name": "Nora Fisker"},
            {"sub": "ola", "phone_number": "+4788888888", "phone_number_verified": false, "name": "Ola Unverified"}
        ]
    }))
    .await;
    app.configure_idm(&idm_config(&idp, json!({"scopes": ["openid", "phone", "profile"], "required_claims": ["phone_number"]}))).await;
    let grant = app.post_json(&format!("/accounts/{account}/users"), &app.partner, &json!({"phone_number": "+47 999 99 999"})).await;
    assert_eq!(grant.status(), StatusCode::CREATED);

    let mut nora = FormBrowser::new();
    assert_eq!(app.sign_in(&mut nora, &[("login", "nora"), ("password", "any")]).await, Ok("/merchant-center".into()));
    let overview = page(&mut nora, &app, "/merchant-center").await;
    assert!(overview.contains("Fjord Fish") && overview.contains("Nora Fisker") && overview.contains("Moderator"), "{overview}");
    let listed: Value = app.get(&format!("/accounts/{account}/users"), &app.partner).await.json().await.unwrap();
    assert_eq!(listed["users"][0]["phone_number"], "+4799999999");
    assert_eq!(listed["users"][0]["name"], "Nora Fisker");
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[("login", "ola"), ("password", "any")]).await, Err("phone_unverified".into()));
    // The subject Causeway keys the user by is the pairwise one, not the provider's account id.
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&app.db.url).await.unwrap();
    let subjects: Vec<String> = sqlx::query_scalar("SELECT subject FROM merchant_users").fetch_all(&mut conn).await.unwrap();
    assert_eq!(subjects.len(), 1);
    assert!(subjects[0].len() == 64 && subjects[0] != "nora", "{subjects:?}");
}
