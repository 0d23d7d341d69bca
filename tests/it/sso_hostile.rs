//! What a real provider will not do, from a hand-written IdM: every forged, broken or
//! misconfigured response gets its own error code and opens no session.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::form_browser::FormBrowser;
use crate::helpers::*;
use crate::support::fake_op::{Behaviour, FakeOp, IssParam, TokenFailure};

const CLAIM: &str = "https://partner.example/wepay_account_id";

/// How the fake IdM answers the next token request.
enum Answer {
    /// An ID token: the default claims changed by `edit`, signed with another key under the
    /// published `kid` (`forged_key`), or with `alg`.
    Token { edit: fn(&mut Value), forged_key: bool, alg: Option<&'static str> },
    Status(u16, &'static str),
    Hang,
}

async fn setup() -> (TestApp, FakeOp, String) {
    let app = spawn_app_for_sso(&[("CAUSEWAY_IDM_TIMEOUT_MS", "1000")]).await;
    let account = app.account(&app.partner, "alice@shop.example", "Shop").await;
    let op = FakeOp::start().await;
    let claims = json!({"email": "alice@shop.example", "email_verified": true, "given_name": "Alice", "family_name": "Merchant", CLAIM: account});
    op.set(|b| b.id_token_claims = claims);
    app.configure_idm(&op.config(json!({}))).await;
    (app, op, account)
}

/// The provider as `answer` asks, for the next login.
fn answer_with(op: &FakeOp, answer: Answer) {
    op.set(|b| {
        let defaults = Behaviour::default();
        (b.edit_claims, b.forged_key, b.alg, b.token_failure) = (defaults.edit_claims, defaults.forged_key, defaults.alg, defaults.token_failure);
        match answer {
            Answer::Token { edit, forged_key, alg } => (b.edit_claims, b.forged_key, b.alg) = (Some(edit), forged_key, alg),
            Answer::Status(status, body) => b.token_failure = Some(TokenFailure::Status(status, body)),
            Answer::Hang => b.token_failure = Some(TokenFailure::Hang),
        }
    });
}

/// One login through the fake IdM; the error code of the page it ends on ("" = success).
async fn attempt(app: &TestApp, op: &FakeOp, answer: Answer) -> String {
    answer_with(op, answer);
    let mut browser = FormBrowser::new();
    let cta = app.url(&format!("/sso/oidc/{}", app.partner.app_id));
    let callback = app.url(&format!("/sso/oidc/{}/callback", app.partner.app_id));
    let back = browser.run_until(&cta, &callback, &[]).await;
    let (status, _, page) = browser.get(back.as_str()).await;
    if status == StatusCode::FOUND {
        return String::new();
    }
    failure(&page).unwrap_or_else(|| panic!("{status}: {page}"))
}

fn token(edit: fn(&mut Value)) -> Answer {
    Answer::Token { edit, forged_key: false, alg: None }
}

#[tokio::test]
async fn every_bad_answer_has_its_code_and_opens_no_session() {
    let (app, op, _) = setup().await;
    let cases: Vec<(&str, Answer, &str)> = vec![
        ("alg none", Answer::Token { edit: |_| {}, forged_key: false, alg: Some("none") }, "alg_not_allowed"),
        ("HS256 key confusion", Answer::Token { edit: |_| {}, forged_key: false, alg: Some("HS256") }, "alg_not_allowed"),
        ("signed by another key under the same kid", Answer::Token { edit: |_| {}, forged_key: true, alg: None }, "signature_invalid"),
        ("wrong iss", token(|c| c["iss"] = json!("https://evil.example")), "iss_mismatch"),
        ("wrong aud", token(|c| c["aud"] = json!("someone-else")), "aud_mismatch"),
        ("wrong azp", token(|c| c["azp"] = json!("someone-else")), "azp_mismatch"),
        ("expired", token(|c| c["exp"] = json!(now() - 3600)), "token_expired"),
        ("issued in the future", token(|c| c["iat"] = json!(now() + 3600)), "iat_in_future"),
        ("wrong nonce", token(|c| c["nonce"] = json!("other")), "nonce_mismatch"),
        ("missing nonce", token(|c| { c.as_object_mut().unwrap().remove("nonce"); }), "nonce_mismatch"),
        ("missing sub", token(|c| { c.as_object_mut().unwrap().remove("sub"); }), "claim_missing (sub)"),
        ("email unverified", token(|c| c["email_verified"] = json!(false)), "email_unverified"),
        ("email_verified missing", token(|c| { c.as_object_mut().unwrap().remove("email_verified"); }), "email_unverified"),
        ("email_verified the string \"true\"", token(|c| c["email_verified"] = json!("true")), "email_unverified"),
        ("missing email", token(|c| { c.as_object_mut().unwrap().remove("email"); }), "claim_missing (email)"),
        ("missing given name", token(|c| { c.as_object_mut().unwrap().remove("given_name"); }), "claim_missing (given_name)"),
        ("missing family name", token(|c| { c.as_object_mut().unwrap().remove("family_name"); }), "claim_missing (family_name)"),
        // Without an account claim, access needs a grant (or the controller's e-mail): none here.
        ("missing account claim", token(|c| {
            c.as_object_mut().unwrap().remove(CLAIM);
            c["email"] = json!("mallory@shop.example");
        }), "account_not_granted"),
        ("claim under another domain", token(|c| {
            let account = c[CLAIM].clone();
            c.as_object_mut().unwrap().remove(CLAIM);
            c["https://other.example/wepay_account_id"] = account;
            c["email"] = json!("mallory@shop.example");
        }), "account_not_granted"),
        ("unknown account", token(|c| c[CLAIM] = json!(uuid::Uuid::new_v4().to_string())), "account_unknown"),
        ("token endpoint 500", Answer::Status(500, "{}"), "token_endpoint_failed"),
        ("token endpoint garbage", Answer::Status(200, "<html>oops</html>"), "token_endpoint_failed"),
        ("code refused", Answer::Status(400, r#"{"error": "invalid_grant"}"#), "code_rejected"),
        ("no id_token", Answer::Status(200, r#"{"access_token": "x", "token_type": "Bearer"}"#), "id_token_missing"),
        ("token endpoint hangs", Answer::Hang, "token_endpoint_failed"),
    ];
    for (name, answer, code) in cases {
        assert_eq!(attempt(&app, &op, answer).await, code, "{name}");
    }
    assert_eq!(app.store.count_merchant_sessions(app.partner.app_id.parse().unwrap()).await.unwrap(), 0);
    // The fake works: a good answer signs in.
    assert_eq!(attempt(&app, &op, token(|_| {})).await, "");
    assert_eq!(app.store.count_merchant_sessions(app.partner.app_id.parse().unwrap()).await.unwrap(), 1);
    let events: Value = app.get("/partner/sso_events?limit=200", &app.partner).await.json().await.unwrap();
    let failures = events["events"].as_array().unwrap().iter().filter(|e| e["outcome"] == "failed").count();
    assert_eq!(failures, 25, "every failure is in the partner's log");
    let text = events.to_string();
    assert!(!text.contains("eyJ"), "no token in the partner's log");

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        r#"causeway_sso_logins_total{error_code="alg_not_allowed",outcome="failed"} 2"#,
        r#"causeway_sso_logins_total{error_code="token_endpoint_failed",outcome="failed"} 3"#,
        r#"causeway_sso_logins_total{error_code="",outcome="succeeded"} 1"#,
        "causeway_sso_logins_started_total 26",
        "causeway_sso_callback_seconds_count 26",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
    // One fetch at the first login, one forced refetch for the forged signature.
    assert!(metrics.lines().any(|l| l == "causeway_jwks_fetches_total 2"), "{metrics}");
}

/// A provider that honours a code twice (RFC 6749 §4.1.2 forbids it) cannot turn one login
/// into two sessions: both callbacks racing with one state reach it (it answers neither
/// before both asked), and the sign-in's own write, which records the state used, lets one
/// through.
#[tokio::test]
async fn two_callbacks_racing_with_one_state_sign_in_once() {
    let (app, op, _) = setup().await;
    op.set(|b| b.reuses_codes_for = Some(2));
    let cta = app.client.get(app.cta()).send().await.unwrap();
    let cookie = cta.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let authorize = cta.headers()["location"].to_str().unwrap().to_owned();
    let back = app.client.get(&authorize).send().await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    let call = || async { app.client.get(&callback).header("cookie", &cookie).send().await.unwrap() };
    let (first, second) = tokio::join!(call(), call());
    assert_eq!(op.hits().token.load(std::sync::atomic::Ordering::SeqCst), 2, "both were past the used-state check");
    let mut ends = Vec::new();
    for resp in [first, second] {
        let status = resp.status();
        ends.push((status, failure(&resp.text().await.unwrap()).unwrap_or_default()));
    }
    ends.sort();
    assert_eq!(ends, [(StatusCode::FOUND, String::new()), (StatusCode::BAD_REQUEST, "state_replayed".to_owned())]);
    assert_eq!(app.store.count_merchant_sessions(app.partner.app_id.parse().unwrap()).await.unwrap(), 1);
}

#[tokio::test]
async fn a_login_sets_a_host_only_session_cookie_and_reuses_the_warm_connector() {
    let (app, op, _) = setup().await;
    answer_with(&op, token(|_| {}));
    let cta = app.url(&format!("/sso/oidc/{}", app.partner.app_id));
    let callback = app.url(&format!("/sso/oidc/{}/callback", app.partner.app_id));
    let mut ids = Vec::new();
    for _ in 0..2 {
        let mut browser = FormBrowser::new();
        let back = browser.run_until(&cta, &callback, &[]).await;
        let binding = browser.cookie("__Host-causeway_sso").unwrap();
        let resp = app.client.get(back.as_str()).header("Cookie", format!("__Host-causeway_sso={binding}")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::FOUND);
        assert_eq!(resp.headers()["location"], "/merchant-center");
        let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
        for attribute in ["__Host-causeway_mc=", "Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
            assert!(cookie.contains(attribute), "{attribute} in {cookie}");
        }
        assert!(!cookie.contains("Domain"), "{cookie}");
        ids.push(cookie.split(';').next().unwrap().to_owned());
    }
    assert_ne!(ids[0], ids[1], "a new session id at every login");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l == "causeway_jwks_fetches_total 1"), "a warm cache fetches nothing:\n{metrics}");
    assert_eq!(op.hits().discovery.load(std::sync::atomic::Ordering::SeqCst), 1, "discovery is read once per configuration version");
}

#[tokio::test]
async fn authorization_response_problems() {
    let (app, op, _) = setup().await;
    op.set(|b| b.iss_param = IssParam::Value("https://evil.example".into()));
    assert_eq!(attempt(&app, &op, token(|_| {})).await, "iss_param_mismatch");
    op.set(|b| b.iss_param = IssParam::Issuer);
    assert_eq!(attempt(&app, &op, token(|_| {})).await, "", "the right iss is accepted");
    op.set(|b| b.authorize_error = Some("access_denied"));
    assert_eq!(attempt(&app, &op, token(|_| {})).await, "idm_error");
    op.set(|b| b.authorize_error = None);

    // A partner that sets no leeway: a token 30 s past its expiry is refused.
    let mut strict = op.config(json!({"clock_leeway_seconds": 0}));
    assert_eq!(app.api(Method::PUT, "/partner/idm", &app.partner).json(&strict).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(attempt(&app, &op, token(|c| c["exp"] = json!(now() - 30))).await, "token_expired");
    strict["clock_leeway_seconds"] = json!(60);
    assert_eq!(app.api(Method::PUT, "/partner/idm", &app.partner).json(&strict).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(attempt(&app, &op, token(|c| c["exp"] = json!(now() - 30))).await, "", "within the default leeway");
}

/// A login's expiry travels sealed in its state: a callback eleven minutes after its CTA is
/// refused whatever the IdM answers, opens nothing, and the state stays spent.
#[tokio::test]
async fn a_flow_older_than_ten_minutes_is_refused() {
    let app = spawn_app_for_sso_with_pinned_clock(&[]).await;
    app.account(&app.partner, "alice@shop.example", "Shop").await;
    let op = FakeOp::start().await;
    app.configure_idm(&op.config(json!({}))).await;
    let mut browser = FormBrowser::new();
    let callback = app.url(&format!("/sso/oidc/{}/callback", app.partner.app_id));
    let back = browser.run_until(&app.url(&format!("/sso/oidc/{}", app.partner.app_id)), &callback, &[]).await;
    app.clock.advance(660);
    op.set(|b| b.time_shift = 660);
    let (status, _, page) = browser.get(back.as_str()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("<code>state_expired</code>"), "{page}");
    assert_eq!(app.store.count_merchant_sessions(app.partner.app_id.parse().unwrap()).await.unwrap(), 0);
    assert_eq!(op.hits().token.load(std::sync::atomic::Ordering::SeqCst), 0, "the IdM was not asked");
    let (_, _, page) = browser.get(back.as_str()).await;
    assert!(page.contains("<code>state_replayed</code>"), "{page}");
}
