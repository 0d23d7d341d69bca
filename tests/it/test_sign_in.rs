//! Test sign-ins: the partner's staff signs in at the IdM like a merchant, every rule is
//! judged and reported, and no Merchant Center session opens.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::form_browser::FormBrowser;
use crate::helpers::*;
use crate::idp::{causeway_client, OidcProvider};
use crate::support::fake_op::FakeOp;

const CLAIM: &str = "https://partner.example/wepay_account_id";

/// Starts a test sign-in through the API, signs in with `fill` at the IdM, and returns the
/// report (read through the API) with its id.
async fn run(app: &TestApp, fill: &[(&str, &str)]) -> (String, Value) {
    let resp = app.api(Method::POST, "/partner/idm/test_sign_in", &app.partner).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let started: Value = resp.json().await.unwrap();
    let id = started["id"].as_str().unwrap().to_owned();
    let mut browser = FormBrowser::new();
    let callback = app.url(&format!("/sso/oidc/{}/callback", app.partner.app_id));
    let back = browser.run_until(started["url"].as_str().unwrap(), &callback, fill).await;
    let (status, location, _) = browser.get(back.as_str()).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some(format!("/partner-center/test-sign-ins/{id}").as_str())));
    let report: Value = app.get(&format!("/partner/idm/test_sign_ins/{id}"), &app.partner).await.json().await.unwrap();
    (id, report)
}

fn failed_rules(report: &Value) -> Vec<String> {
    report["checks"].as_array().unwrap().iter().filter(|c| c["passed"] == false).map(|c| c["rule"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_test_sign_in_at_a_real_provider_passes_and_opens_no_session() {
    let app = spawn_app_for_sso(&[]).await;
    let account = app.account(&app.partner, "alice@shop.example", "Corner Shop").await;
    let idp = OidcProvider::start(json!({
        "conform_id_token_claims": true,
        "clients": [causeway_client(&app, "https://partner.example/out", "ES256")],
        "accounts": [{"sub": "alice", "email": "alice@shop.example", "email_verified": true, "given_name": "Alice", "family_name": "Merchant",
                      "claims": {CLAIM: account}}]
    }))
    .await;
    app.configure_idm(&json!({"issuer": idp.issuer, "client_id": "causeway", "client_secret": "s3cret", "token_endpoint_auth_method": "client_secret_basic",
        "domain": "partner.example", "logout_url": "https://partner.example/out"}))
    .await;
    let (id, report) = run(&app, &[("login", "alice"), ("password", "any")]).await;
    assert_eq!(report["status"], "passed", "{report:#}");
    assert_eq!(failed_rules(&report), Vec::<String>::new());
    assert_eq!((report["account_id"].as_str(), report["role"].as_str()), (Some(account.as_str()), Some("financial_admin")));
    assert!(report["access"].as_str().unwrap().contains("the account claim names it"), "{report}");
    assert_eq!(report["alg"], "ES256");
    assert!(report["clock_offset_seconds"].as_i64().unwrap().abs() < 30);
    // The profile came from userinfo (the provider's default), shown beside the ID token's.
    let userinfo = report["claims"]["userinfo"].as_array().unwrap();
    assert!(userinfo.iter().any(|c| c["name"] == "email" && c["value"] == "alice@shop.example"), "{report:#}");
    let text = report.to_string();
    assert!(!text.contains("s3cret") && !text.contains("\"nonce\":\"") , "no secret or one-time value: {text}");
    assert_eq!(app.count_merchant_sessions().await, 0, "a test opens no session");
    let events: Value = app.get("/partner/sso_events", &app.partner).await.json().await.unwrap();
    assert_eq!(events["events"], json!([]), "the merchants' event log is not the place for tests");

    // The report is the app's only, and shown in the Partner Center.
    let other = app.another_partner("Other").await;
    expect_error(app.get(&format!("/partner/idm/test_sign_ins/{id}"), &other).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    for made_up in ["made-up", "%00"] {
        expect_error(app.get(&format!("/partner/idm/test_sign_ins/{made_up}"), &app.partner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    let pc = crate::pc_client::PcClient::new(&app);
    pc.sign_in(&app.partner).await;
    let page = pc.get(&format!("/partner-center/test-sign-ins/{id}")).await;
    assert!(page.body.contains("Every rule passed") && page.body.contains("Corner Shop as financial_admin"), "{}", page.body);
    let trail: Value = app.get("/partner/audit_events", &app.partner).await.json().await.unwrap();
    assert_eq!(trail["events"][0]["action"], "test_sign_in.start");
}

/// A hand-written IdM with several defects at once: each one is listed, not just the first.
#[tokio::test]
async fn several_defects_at_once_are_each_listed() {
    let app = spawn_app_for_sso(&[]).await;
    let op = FakeOp::start().await;
    op.set(|b| {
        b.id_token_claims = json!({"email": "alice@shop.example", "email_verified": "true", "given_name": "Alice", CLAIM: 42});
        b.edit_claims = Some(|c| c["iat"] = json!(c["iat"].as_i64().unwrap() + 600));
        b.publishes_userinfo = false;
    });
    app.configure_idm(&op.config(json!({}))).await;
    let (_, report) = run(&app, &[]).await;
    assert_eq!(report["status"], "failed");
    assert_eq!(
        failed_rules(&report),
        ["iat", "required claim family_name", "email_verified is the JSON boolean true", &format!("account claim {CLAIM}"), "access to an account"],
        "{report:#}"
    );
    let check = |rule: &str| report["checks"].as_array().unwrap().iter().find(|c| c["rule"] == rule).unwrap().clone();
    assert_eq!(check("email_verified is the JSON boolean true")["observed"], "string \"true\" (ID token)");
    assert!(check("iat")["fix"].as_str().unwrap().contains("clock"), "{report:#}");
    assert!(report["clock_offset_seconds"].as_i64().unwrap() <= -590, "the IdM's clock is ten minutes ahead: {report}");
    let claims = report["claims"]["id_token"].as_array().unwrap();
    assert!(claims.iter().any(|c| c["name"] == "email_verified" && c["json_type"] == "string"), "{report:#}");
    assert!(report["claims"].get("userinfo").is_none());
    assert_eq!(app.count_merchant_sessions().await, 0);

    // A finished test cannot be finished again, nor a made-up one started.
    let resp = app.client.get(app.url(&format!("/sso/oidc/{}/test/made-up", app.partner.app_id))).send().await.unwrap();
    assert_eq!(error_code(&resp.text().await.unwrap()).as_deref(), Some("state_unknown"));
}
