//! Claims at userinfo and the partner's identity policy, against the hostile fake OP:
//! userinfo read only when needed, its answers checked (same `sub`, a JSON object, in
//! time, bounded), the ID token winning, and `email_verified` / `phone_number_verified`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::fake_op::{FakeOp, Userinfo};
use crate::form_browser::FormBrowser;
use crate::helpers::*;

const CLAIM: &str = "https://partner.example/wepay_account_id";

/// An app whose IdM is a fake OP configured with `extra`; its account's verified controller
/// is alice@shop.example.
async fn setup(extra: Value) -> (TestApp, FakeOp, String) {
    let app = spawn_app_for_sso(&[("CAUSEWAY_IDM_TIMEOUT_MS", "1000")]).await;
    let account = app.account(&app.partner, "alice@shop.example", "Corner Shop").await;
    let op = FakeOp::start().await;
    app.configure_idm(&op.config(extra)).await;
    (app, op, account)
}

async fn overview(browser: &mut FormBrowser, app: &TestApp) -> String {
    let (status, _, page) = browser.get(&app.url("/merchant-center")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

#[tokio::test]
async fn a_login_with_every_claim_in_the_id_token_calls_no_userinfo() {
    let (app, op, account) = setup(json!({})).await;
    op.set(|b| b.id_token_claims[CLAIM] = json!(account));
    let mut browser = FormBrowser::new();
    assert_eq!(app.sign_in(&mut browser, &[]).await, Ok("/merchant-center".into()));
    assert_eq!(op.userinfo_hits(), 0);
    assert!(overview(&mut browser, &app).await.contains("Financial admin"));
}

#[tokio::test]
async fn claims_only_at_userinfo_are_read_and_the_id_token_wins() {
    let (app, op, account) = setup(json!({})).await;
    op.set(|b| {
        b.id_token_claims = json!({"given_name": "Token"});
        b.userinfo = Userinfo::Claims(json!({"sub": "u-1", "email": "alice@shop.example", "email_verified": true,
            "given_name": "Userinfo", "family_name": "Merchant", CLAIM: account}));
    });
    let mut browser = FormBrowser::new();
    assert_eq!(app.sign_in(&mut browser, &[]).await, Ok("/merchant-center".into()));
    assert_eq!(op.userinfo_hits(), 1);
    let page = overview(&mut browser, &app).await;
    assert!(page.contains("Token Merchant") && !page.contains("Userinfo Merchant"), "the ID token's given_name wins");
    assert!(page.contains("Financial admin"), "the verified controller e-mail from userinfo");
}

#[tokio::test]
async fn every_bad_userinfo_answer_has_its_code_and_opens_no_session() {
    let (app, op, account) = setup(json!({})).await;
    let full = json!({"sub": "u-1", "email": "alice@shop.example", "email_verified": true, "given_name": "A", "family_name": "B", CLAIM: account});
    op.set(|b| b.id_token_claims = json!({}));
    let mut another_sub = full.clone();
    another_sub["sub"] = json!("someone-else");
    let cases = [
        ("another sub", Userinfo::Claims(another_sub), "userinfo_sub_mismatch"),
        ("no sub", Userinfo::Claims(json!({"email": "alice@shop.example"})), "userinfo_sub_mismatch"),
        ("HTTP 500", Userinfo::Status(500), "userinfo_failed"),
        ("HTTP 401", Userinfo::Status(401), "userinfo_failed"),
        ("not JSON", Userinfo::Body("<html>sign in first</html>"), "userinfo_failed"),
        ("a JSON array", Userinfo::Body("[]"), "userinfo_failed"),
        ("oversized", Userinfo::Oversized, "userinfo_failed"),
        ("no answer in time", Userinfo::Hang, "userinfo_failed"),
    ];
    for (name, answer, code) in cases {
        op.set(|b| b.userinfo = answer);
        assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Err(code.to_owned()), "{name}");
    }
    assert_eq!(app.count_merchant_sessions().await, 0);
    let events: Value = app.get("/partner/sso_events", &app.partner).await.json().await.unwrap();
    let details: Vec<&str> = events["events"].as_array().unwrap().iter().map(|e| e["detail"].as_str().unwrap()).collect();
    assert!(details.iter().any(|d| d.contains("HTTP 500")), "the partner reads what userinfo answered: {details:?}");
    assert!(!events.to_string().contains("opaque-access-token"), "no access token in the partner's log");
    // The fake works: a good answer signs in.
    op.set(|b| b.userinfo = Userinfo::Claims(full));
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Ok("/merchant-center".into()));
}

#[tokio::test]
async fn userinfo_always_and_never() {
    let (app, op, account) = setup(json!({"userinfo": "always"})).await;
    op.set(|b| {
        b.id_token_claims[CLAIM] = json!(account);
        b.userinfo = Userinfo::Claims(json!({"sub": "u-1"}));
    });
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Ok("/merchant-center".into()));
    assert_eq!(op.userinfo_hits(), 1, "always, even with every claim in the ID token");

    app.configure_idm(&op.config(json!({"userinfo": "never"}))).await;
    op.set(|b| b.id_token_claims = json!({CLAIM: account, "email": "alice@shop.example", "email_verified": true}));
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Err("claim_missing (given_name)".into()));
    assert_eq!(op.userinfo_hits(), 1, "never");

    // Without an endpoint, "when needed" judges the ID token alone and names what it lacks.
    app.configure_idm(&op.config(json!({}))).await;
    op.set(|b| b.publishes_userinfo = false);
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Err("claim_missing (given_name)".into()));
}

#[tokio::test]
async fn email_verified_absent_under_both_policies() {
    let (app, op, _) = setup(json!({})).await;
    op.set(|b| {
        b.publishes_userinfo = false;
        b.id_token_claims.as_object_mut().unwrap().remove("email_verified");
    });
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Err("email_unverified".into()));
    // The partner vouches for its IdM's e-mails: the controller's address now counts.
    app.configure_idm(&op.config(json!({"email_verified": "trusted_idm"}))).await;
    let mut browser = FormBrowser::new();
    assert_eq!(app.sign_in(&mut browser, &[]).await, Ok("/merchant-center".into()));
    assert!(overview(&mut browser, &app).await.contains("Financial admin"));
    let stored: Value = app.get("/partner/idm", &app.partner).await.json().await.unwrap();
    assert_eq!(stored["config"]["email_verified"], "trusted_idm");
}

#[tokio::test]
async fn a_phone_number_counts_only_when_verified() {
    let (app, op, account) = setup(json!({"required_claims": ["phone_number"]})).await;
    let grant = app.post_json(&format!("/accounts/{account}/users"), &app.partner, &json!({"phone_number": "+47 999 99 999"})).await;
    assert_eq!(grant.status(), StatusCode::CREATED);
    op.set(|b| b.id_token_claims = json!({"phone_number": "+4799999999", "phone_number_verified": false}));
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Err("phone_unverified".into()));
    // Not required: the unverified number is shown but grants nothing.
    app.configure_idm(&op.config(json!({"required_claims": []}))).await;
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Err("account_not_granted".into()));
    op.set(|b| b.id_token_claims["phone_number_verified"] = json!(true));
    let mut browser = FormBrowser::new();
    assert_eq!(app.sign_in(&mut browser, &[]).await, Ok("/merchant-center".into()));
    let page = overview(&mut browser, &app).await;
    assert!(page.contains("Moderator") && page.contains("+4799999999"), "named by the phone number: {page}");
}
