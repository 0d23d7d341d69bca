//! Step-up before money changes and deep links (contract: "Step-up before money changes",
//! "Deep links"), with the fake IdM: what it sends as `auth_time`, whether it honours
//! `prompt=login`, and a clock that meets the app's pinned one.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::form_browser::{csrf, FormBrowser};
use crate::helpers::*;
use crate::merchant_center::{ACCOUNT_NUMBER, ROUTING};
use crate::support::fake_op::FakeOp;

/// An app on a pinned clock whose fake IdM signs in Alice, controller of account "Shop".
async fn setup(extra: &[(&str, &str)]) -> (TestApp, FakeOp, String) {
    let app = spawn_app_for_sso_with_pinned_clock(extra).await;
    let op = FakeOp::start().await;
    app.configure_idm(&op.config(json!({}))).await;
    let account = app.account(&app.partner, "alice@shop.example", "Shop").await;
    (app, op, account)
}

fn payout_form(csrf_token: &str, holder: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf_token", csrf_token.to_owned()),
        ("account_holder", holder.into()),
        ("routing_number", ROUTING.into()),
        ("account_number", ACCOUNT_NUMBER.into()),
        ("account_number_confirmation", ACCOUNT_NUMBER.into()),
    ]
}

/// Saves a bank account held by `holder` (the CSRF token from the overview's sign-out form).
async fn post_payout_as(app: &TestApp, browser: &mut FormBrowser, holder: &str) -> (StatusCode, Option<String>, String) {
    let page = browser.get(&app.url("/merchant-center")).await.2;
    let form = payout_form(&csrf(&page), holder);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post(&app.url("/merchant-center/payout"), &fields).await
}

async fn post_payout(app: &TestApp, browser: &mut FormBrowser) -> (StatusCode, Option<String>, String) {
    post_payout_as(app, browser, "Olive Owner").await
}

/// Whether a bank account held by `holder` is stored.
async fn saved_for(app: &TestApp, holder: &str) -> bool {
    app.database_text(&["payout_methods"]).await.contains(holder)
}

#[tokio::test]
async fn a_stale_session_goes_round_the_idm_before_saving_and_a_fresh_one_saves_directly() {
    let (app, op, _) = setup(&[]).await;
    let mut browser = FormBrowser::new();
    assert_eq!(app.sign_in(&mut browser, &[]).await, Ok("/merchant-center".into()));
    // Fresh (the IdM sends no auth_time: the login itself counts): saved at once.
    let (status, location, _) = post_payout(&app, &mut browser).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/merchant-center/payout?saved=1")));
    assert!(saved_for(&app, "Olive Owner").await);
    let prompts_before = op.hits().prompts.lock().unwrap().len();

    // Eleven minutes on (idle timeout is thirty): the form says why it is locked.
    app.clock.advance(660);
    op.set(|b| b.time_shift = 660);
    let page = browser.get(&app.url("/merchant-center/payout")).await.2;
    assert!(page.contains("id=\"step-up-needed\"") && page.contains("<fieldset disabled>"), "{page}");
    // A post anyway saves nothing and goes through the IdM with prompt=login and max_age.
    let (status, location, _) = post_payout_as(&app, &mut browser, "Stale Attempt").await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/sso/step-up?page=payout")));
    assert!(!saved_for(&app, "Stale Attempt").await, "nothing saved before the step-up");
    let stale_cookie = browser.cookie(causeway::services::merchant_sessions::COOKIE).unwrap();
    let landed = app.sign_in_from(&mut browser, &app.url("/sso/step-up?page=payout"), &[]).await;
    assert_eq!(landed.as_deref(), Ok("/merchant-center/payout?signed_in_again=1"));
    assert_ne!(browser.cookie(causeway::services::merchant_sessions::COOKIE).unwrap(), stale_cookie, "a new session id");
    let old = app.client.get(app.url("/merchant-center")).header("Cookie", format!("{}={stale_cookie}", causeway::services::merchant_sessions::COOKIE)).send().await.unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED, "the replaced session no longer works");
    let prompts = op.hits().prompts.lock().unwrap()[prompts_before..].to_vec();
    assert_eq!(prompts, vec![("login".to_owned(), "600".to_owned())]);
    let page = browser.get(&app.url(&landed.unwrap())).await.2;
    assert!(page.contains("id=\"signed-in-again\"") && !page.contains("<fieldset disabled>"), "{page}");
    let (status, location, _) = post_payout_as(&app, &mut browser, "Fresh Attempt").await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/merchant-center/payout?saved=1")));
    assert!(saved_for(&app, "Fresh Attempt").await);
}

#[tokio::test]
async fn auth_time_decides_freshness_and_an_idm_that_ignores_prompt_login_is_refused() {
    let (app, op, _) = setup(&[("CAUSEWAY_STEP_UP_SECONDS", "300")]).await;
    // The IdM's own session is an hour old: the Merchant Center session is stale at once.
    let hour_ago = now() - 3600;
    op.set(|b| b.authenticated_at = Some(hour_ago));
    let mut browser = FormBrowser::new();
    app.sign_in(&mut browser, &[]).await.unwrap();
    let (_, location, _) = post_payout(&app, &mut browser).await;
    assert_eq!(location.as_deref(), Some("/sso/step-up?page=payout"));
    // The same answer again (prompt=login ignored): step_up_required, nothing saved.
    op.set(|b| b.ignores_prompt_login = true);
    assert_eq!(app.sign_in_from(&mut browser, &app.url("/sso/step-up?page=payout"), &[]).await, Err("step_up_required".into()));
    assert!(!saved_for(&app, "Olive Owner").await);
    // glewlwyd's auth_time 0 is the time of that login: fresh.
    op.set(|b| b.authenticated_at = Some(0));
    assert_eq!(app.sign_in_from(&mut browser, &app.url("/sso/step-up?page=kyc"), &[]).await.as_deref(), Ok("/merchant-center/kyc?signed_in_again=1"));
    let (_, location, _) = post_payout(&app, &mut browser).await;
    assert_eq!(location.as_deref(), Some("/merchant-center/payout?saved=1"));
}

#[tokio::test]
async fn moderators_never_save_and_see_no_step_up() {
    let (app, op, account) = setup(&[]).await;
    app.post_json(&format!("/accounts/{account}/users"), &app.partner, &json!({"idm_subject": "clerk"})).await;
    op.set(|b| {
        b.subject = "clerk".into();
        b.id_token_claims = json!({"email": "clerk@shop.example", "email_verified": true, "given_name": "Casey", "family_name": "Clerk"});
        b.authenticated_at = Some(now() - 3600);
    });
    let mut browser = FormBrowser::new();
    app.sign_in(&mut browser, &[]).await.unwrap();
    let page = browser.get(&app.url("/merchant-center/kyc")).await.2;
    assert!(!page.contains("step-up-needed"), "{page}");
    assert_eq!(post_payout(&app, &mut browser).await.0, StatusCode::FORBIDDEN);
}

async fn link(app: &TestApp, who: &Credentials, account: &str, target: &str) -> reqwest::Response {
    app.post_json(&format!("/accounts/{account}/links"), who, &json!({"target": target})).await
}

#[tokio::test]
async fn a_deep_link_signs_in_and_lands_once() {
    let (app, _op, account) = setup(&[]).await;
    let resp = link(&app, &app.partner, &account, "kyc").await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let made: Value = resp.json().await.unwrap();
    assert_eq!(made["expires_at"].as_i64(), Some(app.clock.now() + 300));
    let url = made["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&app.url(&format!("/sso/oidc/{}/links/", app.partner.app_id))), "{url}");
    let token = url.rsplit('/').next().unwrap();
    assert!(!app.database_text(&["account_links"]).await.contains(token), "only the link's hash is stored");

    let mut browser = FormBrowser::new();
    assert_eq!(app.sign_in_from(&mut browser, &url, &[]).await.as_deref(), Ok("/merchant-center/kyc"));
    assert_eq!(browser.get(&app.url("/merchant-center/kyc")).await.0, StatusCode::OK, "signed in");
    // Used: a branded page that says so and offers the CTA.
    let (status, _, page) = FormBrowser::new().get(&url).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(error_code(&page).as_deref(), Some("link_expired"));
    assert!(page.contains(&format!("href=\"/sso/oidc/{}\"", app.partner.app_id)), "{page}");

    // A browser signed in to that account already goes straight there.
    let again: Value = link(&app, &app.partner, &account, "payout").await.json().await.unwrap();
    let (status, location, _) = browser.get(again["url"].as_str().unwrap()).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/merchant-center/payout")));

    // Expired after five minutes, unused.
    let late: Value = link(&app, &app.partner, &account, "users").await.json().await.unwrap();
    app.clock.advance(301);
    let (status, _, page) = FormBrowser::new().get(late["url"].as_str().unwrap()).await;
    assert_eq!((status, error_code(&page).as_deref()), (StatusCode::GONE, Some("link_expired")));
}

#[tokio::test]
async fn deep_links_keep_to_their_partner_and_to_people_with_access() {
    let (app, op, account) = setup(&[]).await;
    let rival = app.another_partner("Rival").await;
    let theirs = app.account(&rival, "owner@rival.example", "Rival Shop").await;
    expect_error(link(&app, &app.partner, &theirs, "kyc").await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    expect_error(link(&app, &app.partner, "not-an-id", "kyc").await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let err = expect_error(link(&app, &app.partner, &account, "admin").await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    assert_eq!(details(&err), vec![(vec!["target".to_string()], "INVALID_VALUE".to_string())]);
    let err = expect_error(app.post_json(&format!("/accounts/{account}/links"), &app.partner, &json!({})).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    assert_eq!(details(&err), vec![(vec!["target".to_string()], "MISSING_FIELD".to_string())]);
    // Another app's link path cannot use this app's link.
    let made: Value = link(&app, &app.partner, &account, "kyc").await.json().await.unwrap();
    let url = made["url"].as_str().unwrap();
    let elsewhere = url.replace(&app.partner.app_id, &rival.app_id);
    assert_eq!(FormBrowser::new().get(&elsewhere).await.0, StatusCode::GONE);

    // Someone the IdM vouches for, but without access to the account: the usual error.
    op.set(|b| {
        b.subject = "stranger".into();
        b.id_token_claims = json!({"email": "stranger@else.example", "email_verified": true, "given_name": "S", "family_name": "T"});
    });
    assert_eq!(app.sign_in_from(&mut FormBrowser::new(), url, &[]).await, Err("account_not_granted".into()));
    assert_eq!(app.count_merchant_sessions().await, 0);
}

/// `oidc-provider`: the step-up's `prompt=login` makes the real IdM ask for the login again
/// although its session is live, and its fresh `auth_time` lets the save through. Real
/// time passes here (the IdM's clock cannot be pinned): CAUSEWAY_STEP_UP_SECONDS is 2.
#[tokio::test]
async fn a_real_idm_authenticates_again_for_a_step_up() {
    use crate::idp::{causeway_client, person, OidcProvider};
    let app = spawn_app_for_sso(&[("CAUSEWAY_STEP_UP_SECONDS", "2")]).await;
    let account = app.account(&app.partner, "alice@shop.example", "Shop").await;
    let logout_url = "https://partner.example/bye";
    let idp = OidcProvider::start(json!({"clients": [causeway_client(&app, logout_url, "ES256")], "accounts": [person("alice", "alice@shop.example", "Alice", &account)]})).await;
    app.use_idm(&idp.issuer, logout_url).await;
    let mut browser = FormBrowser::new();
    let login = [("login", "alice"), ("password", "any")];
    assert_eq!(app.sign_in(&mut browser, &login).await, Ok("/merchant-center".into()));
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let (_, location, _) = post_payout_as(&app, &mut browser, "Too Late").await;
    assert_eq!(location.as_deref(), Some("/sso/step-up?page=payout"));
    // The IdM's session is live, yet it asks for the login again: left empty, it refuses.
    assert_eq!(app.sign_in_from(&mut browser, &app.url("/sso/step-up?page=payout"), &[]).await, Err("idm_error".into()));
    let landed = app.sign_in_from(&mut browser, &app.url("/sso/step-up?page=payout"), &login).await;
    assert_eq!(landed.as_deref(), Ok("/merchant-center/payout?signed_in_again=1"));
    let (_, location, _) = post_payout_as(&app, &mut browser, "Right After").await;
    assert_eq!(location.as_deref(), Some("/merchant-center/payout?saved=1"));
    assert!(saved_for(&app, "Right After").await && !saved_for(&app, "Too Late").await);
}

/// A refused form keeps what was typed, except the numbers that must be typed again, and
/// says so; each message speaks of the control it is under.
#[tokio::test]
async fn a_refused_form_keeps_what_was_typed_and_says_what_to_retype() {
    let (app, _op, _) = setup(&[]).await;
    let mut browser = FormBrowser::new();
    app.sign_in(&mut browser, &[]).await.unwrap();
    let token = csrf(&browser.get(&app.url("/merchant-center")).await.2);
    let (status, _, page) = browser
        .post(&app.url("/merchant-center/payout"), &[
            ("csrf_token", token.as_str()),
            ("account_holder", "Alice Merchant"),
            ("routing_number", ROUTING),
            ("account_number", ACCOUNT_NUMBER),
            ("account_number_confirmation", "000987654320"),
        ])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("value=\"Alice Merchant\"") && page.contains(&format!("value=\"{ROUTING}\"")), "holder and routing kept: {page}");
    assert!(!page.contains(ACCOUNT_NUMBER) && page.contains("id=\"retype-account\""), "the account number is asked again, not echoed");

    let (status, _, page) = browser
        .post(&app.url("/merchant-center/kyc"), &[
            ("csrf_token", token.as_str()),
            ("legal_name", "Corner Shop LLC"),
            ("business_type", "llc"),
            ("tax_id", "45-6012345"),
            ("address_line1", "1 Main St"),
            ("address_line2", ""),
            ("city", "Springfield"),
            ("region", "IL"),
            ("postal_code", "62701"),
            ("representative_dob", "31/10/1980"),
        ])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("value=\"Corner Shop LLC\"") && page.contains("value=\"Springfield\"") && page.contains("value=\"62701\""), "{page}");
    assert!(!page.contains("45-6012345") && page.contains("enter it once more"), "the tax id is asked again");
    assert!(page.contains("full date: day, month and year") && !page.contains("YYYY-MM-DD"), "the date message matches the date box");
}
