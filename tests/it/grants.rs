//! Access without an account claim: the grants API (validation, tenancy, idempotency, the
//! one financial admin), who has access and why, the account chooser, and removals and
//! revocations ending live sessions at once.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::fake_op::FakeOp;
use crate::form_browser::{csrf, FormBrowser};
use crate::helpers::*;

/// An app whose fake IdM sends standard claims only (no account claim).
async fn setup() -> (TestApp, FakeOp) {
    let app = spawn_app_for_sso(&[]).await;
    let op = FakeOp::start().await;
    app.configure_idm(&op.config(json!({}))).await;
    (app, op)
}

fn signs_in_as(op: &FakeOp, sub: &str, email: &str) {
    let (sub, email) = (sub.to_owned(), email.to_owned());
    op.set(|b| {
        b.subject = sub;
        b.id_token_claims = json!({"email": email, "email_verified": true, "given_name": "Casey", "family_name": "Clerk"});
    });
}

async fn grant(app: &TestApp, who: &Credentials, account: &str, body: Value) -> reqwest::Response {
    app.post_json(&format!("/accounts/{account}/users"), who, &body).await
}

#[tokio::test]
async fn every_grant_rule() {
    let app = spawn_app().await;
    let account = app.account(&app.partner, "owner@shop.example", "Shop").await;
    let cases = [
        (json!({}), vec![(vec![], "MISSING_FIELD")]),
        (json!({"email": "a@shop.example", "phone_number": "+4799999999"}), vec![(vec!["phone_number"], "INVALID_VALUE")]),
        (json!({"email": "not-an-address"}), vec![(vec!["email"], "INVALID_EMAIL")]),
        (json!({"phone_number": "99999999"}), vec![(vec!["phone_number"], "INVALID_PHONE")]),
        (json!({"idm_subject": ""}), vec![(vec!["idm_subject"], "INVALID_LENGTH")]),
        (json!({"idm_subject": "x\u{0}y"}), vec![(vec!["idm_subject"], "INVALID_CHARACTERS")]),
        (json!({"email": "a@shop.example", "role": "owner"}), vec![(vec!["role"], "INVALID_VALUE")]),
        (json!({"email": "a@shop.example", "extra": 1}), vec![(vec!["extra"], "UNKNOWN_FIELD")]),
        (json!({"email": 7}), vec![(vec!["email"], "INVALID_TYPE")]),
    ];
    for (body, expected) in cases {
        let err = expect_error(grant(&app, &app.partner, &account, body.clone()).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
        let expected: Vec<(Vec<String>, String)> = expected.into_iter().map(|(t, r)| (t.into_iter().map(String::from).collect(), r.to_owned())).collect();
        assert_eq!(details(&err), expected, "{body}");
    }
    let listed: Value = app.get(&format!("/accounts/{account}/users"), &app.partner).await.json().await.unwrap();
    assert_eq!(listed["users"], json!([]), "nothing was granted");
    // null is "not set": the default role.
    let resp = grant(&app, &app.partner, &account, json!({"email": "Clerk@Shop.example", "phone_number": null, "role": null})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let made: Value = resp.json().await.unwrap();
    assert_eq!((made["resource"].as_str(), made["role"].as_str(), made["email"].as_str()), (Some("account_users"), Some("moderator"), Some("Clerk@Shop.example")));
    assert_eq!(made["account_id"], account);
    assert!(made.get("phone_number").is_none());
}

#[tokio::test]
async fn grants_belong_to_their_partner() {
    let app = spawn_app().await;
    let rival = app.another_partner("Rival").await;
    let mine = app.account(&app.partner, "owner@shop.example", "Shop").await;
    let theirs = app.account(&rival, "owner@rival.example", "Rival Shop").await;
    expect_error(grant(&app, &app.partner, &theirs, json!({"email": "a@shop.example"})).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    expect_error(app.get(&format!("/accounts/{theirs}/users"), &app.partner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    expect_error(grant(&app, &app.partner, "not-a-uuid", json!({"email": "a@shop.example"})).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let made: Value = grant(&app, &app.partner, &mine, json!({"email": "a@shop.example"})).await.json().await.unwrap();
    let id = made["id"].as_str().unwrap();
    let delete = |who: &Credentials, account: &str| app.api(Method::DELETE, &format!("/accounts/{account}/users/{id}"), who).send();
    expect_error(delete(&rival, &mine).await.unwrap(), StatusCode::NOT_FOUND, "NOT_FOUND").await;
    expect_error(delete(&rival, &theirs).await.unwrap(), StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let revoke = app.post_json("/partner/sessions/revoke", &app.partner, &json!({"account_id": theirs})).await;
    expect_error(revoke, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // A user id that is no id at all (a NUL, which PostgreSQL text cannot hold) names nothing.
    let junk = app.api(Method::DELETE, &format!("/accounts/{mine}/users/x%00y"), &app.partner).send().await.unwrap();
    expect_error(junk, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(delete(&app.partner, &mine).await.unwrap().status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_same_matcher_updates_and_one_financial_admin_per_legal_entity() {
    let app = spawn_app().await;
    let le = app.legal_entity(&app.partner).await;
    let account = |name: &'static str| {
        let le = le.clone();
        let app = &app;
        async move {
            let resp = app.post_json("/accounts", &app.partner, &json!({"legal_entity_id": le, "name": name})).await;
            resp.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
        }
    };
    let (first, second) = (account("First").await, account("Second").await);
    let made = grant(&app, &app.partner, &first, json!({"phone_number": "+4799999999"})).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.unwrap();
    let again = grant(&app, &app.partner, &first, json!({"phone_number": "+47 999 99 999", "role": "financial_admin"})).await;
    assert_eq!(again.status(), StatusCode::OK, "the same person on the same account");
    let again: Value = again.json().await.unwrap();
    assert_eq!((again["id"].clone(), again["role"].as_str()), (made["id"].clone(), Some("financial_admin")));
    let err = expect_error(grant(&app, &app.partner, &second, json!({"email": "cfo@shop.example", "role": "financial_admin"})).await, StatusCode::CONFLICT, "ALREADY_EXISTS").await;
    assert_eq!(details(&err), vec![(vec!["role".to_string()], "ALREADY_EXISTS".to_string())]);
    // A moderator grant on the other account is fine.
    assert_eq!(grant(&app, &app.partner, &second, json!({"email": "cfo@shop.example"})).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_unique_key_replays_the_first_answer() {
    let app = spawn_app().await;
    let account = app.account(&app.partner, "owner@shop.example", "Shop").await;
    let path = format!("/accounts/{account}/users");
    let send = |body: Value, key: &'static str| app.api(Method::POST, &path, &app.partner).header("Unique-Key", key).json(&body).send();
    let first = send(json!({"idm_subject": "pairwise-1"}), "k-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let replay = send(json!({"idm_subject": "pairwise-1"}), "k-1").await.unwrap();
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.unwrap()["id"], first["id"]);
    expect_error(send(json!({"idm_subject": "pairwise-2"}), "k-1").await.unwrap(), StatusCode::CONFLICT, "IDEMPOTENCY_CONFLICT").await;
    // An update's replay is an update's answer.
    let update = send(json!({"idm_subject": "pairwise-1", "role": "financial_admin"}), "k-2").await.unwrap();
    assert_eq!(update.status(), StatusCode::OK);
    assert_eq!(send(json!({"idm_subject": "pairwise-1", "role": "financial_admin"}), "k-2").await.unwrap().status(), StatusCode::OK);
    let listed: Value = app.get(&path, &app.partner).await.json().await.unwrap();
    assert_eq!(listed["users"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_granted_person_signs_in_and_the_list_says_why() {
    let (app, op) = setup().await;
    let account = app.account(&app.partner, "owner@shop.example", "Corner Shop").await;
    signs_in_as(&op, "clerk-sub", "clerk@shop.example");
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Err("account_not_granted".into()));
    let made: Value = grant(&app, &app.partner, &account, json!({"email": "CLERK@shop.example"})).await.json().await.unwrap();
    let mut clerk = FormBrowser::new();
    assert_eq!(app.sign_in(&mut clerk, &[]).await, Ok("/merchant-center".into()));
    let (_, _, page) = clerk.get(&app.url("/merchant-center")).await;
    assert!(page.contains("Corner Shop") && page.contains("Moderator"), "{page}");
    // The controller needs no grant.
    signs_in_as(&op, "owner-sub", "owner@shop.example");
    let mut owner = FormBrowser::new();
    assert_eq!(app.sign_in(&mut owner, &[]).await, Ok("/merchant-center".into()));
    let (_, _, page) = owner.get(&app.url("/merchant-center")).await;
    assert!(page.contains("Financial admin"));
    let (_, _, team) = owner.get(&app.url("/merchant-center/users")).await;
    assert!(team.contains("Granted by your platform") && team.contains("controller"), "{team}");

    let listed: Value = app.get(&format!("/accounts/{account}/users"), &app.partner).await.json().await.unwrap();
    let users = listed["users"].as_array().unwrap();
    assert_eq!(users.len(), 2, "{listed}");
    assert_eq!((users[0]["id"].clone(), users[0]["source"].as_str(), users[0]["name"].as_str()), (made["id"].clone(), Some("grant"), Some("Casey Clerk")));
    assert!(users[0]["last_sign_in_time"].is_i64());
    assert_eq!((users[1]["source"].as_str(), users[1]["role"].as_str(), users[1]["email"].as_str()), (Some("controller"), Some("financial_admin"), Some("owner@shop.example")));

    // Removing the grant ends the clerk's session at once; the owner's stays.
    let removed = app.api(Method::DELETE, &format!("/accounts/{account}/users/{}", made["id"].as_str().unwrap()), &app.partner).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(clerk.get(&app.url("/merchant-center")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(owner.get(&app.url("/merchant-center")).await.0, StatusCode::OK);
    signs_in_as(&op, "clerk-sub", "clerk@shop.example");
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Err("account_not_granted".into()));
}

#[tokio::test]
async fn a_person_with_several_accounts_chooses_and_switches() {
    let (app, op) = setup().await;
    let bakery = app.account(&app.partner, "owner@bakery.example", "Bakery").await;
    let atelier = app.account(&app.partner, "owner@atelier.example", "Atelier").await;
    let other = app.account(&app.partner, "owner@other.example", "Not yours").await;
    grant(&app, &app.partner, &bakery, json!({"idm_subject": "multi"})).await;
    grant(&app, &app.partner, &atelier, json!({"email": "multi@shop.example", "role": "financial_admin"})).await;
    signs_in_as(&op, "multi", "multi@shop.example");
    let mut browser = FormBrowser::new();
    assert_eq!(app.sign_in(&mut browser, &[]).await, Ok("/merchant-center/accounts".into()));
    // Until a choice, the Merchant Center sends the person to the chooser.
    let (status, location, _) = browser.get(&app.url("/merchant-center")).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/merchant-center/accounts")));
    let (status, _, page) = browser.get(&app.url("/merchant-center/accounts")).await;
    assert_eq!(status, StatusCode::OK);
    let (atelier_at, bakery_at) = (page.find("Atelier").unwrap(), page.find("Bakery").unwrap());
    assert!(atelier_at < bakery_at, "by name");
    assert!(!page.contains("Not yours"));
    let token = csrf(&page);
    // Another account of the partner that this person does not reach is refused.
    let (status, _, refused) = browser.post(&app.url("/merchant-center/accounts"), &[("csrf_token", &token), ("account_id", &other)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(refused.contains("no longer have access"));
    // A forged choice without the CSRF token changes nothing.
    assert_eq!(browser.post(&app.url("/merchant-center/accounts"), &[("account_id", &atelier)]).await.0, StatusCode::FORBIDDEN);
    let (status, location, _) = browser.post(&app.url("/merchant-center/accounts"), &[("csrf_token", &token), ("account_id", &atelier)]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/merchant-center")));
    let (_, _, page) = browser.get(&app.url("/merchant-center")).await;
    assert!(page.contains("Atelier") && page.contains("Financial admin") && page.contains("Switch account"), "{page}");
    // Switch without another IdM round trip.
    let tokens_before = op.hits().token.load(std::sync::atomic::Ordering::SeqCst);
    browser.post(&app.url("/merchant-center/accounts"), &[("csrf_token", &token), ("account_id", &bakery)]).await;
    let (_, _, page) = browser.get(&app.url("/merchant-center")).await;
    assert!(page.contains("Bakery") && page.contains("Moderator"), "{page}");
    assert_eq!(op.hits().token.load(std::sync::atomic::Ordering::SeqCst), tokens_before);
    // The payout page follows the role of the account now open.
    assert_eq!(browser.get(&app.url("/merchant-center/payout")).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn revocation_ends_matching_sessions_at_once() {
    let (app, op) = setup().await;
    let account = app.account(&app.partner, "owner@shop.example", "Shop").await;
    grant(&app, &app.partner, &account, json!({"idm_subject": "clerk-sub"})).await;
    signs_in_as(&op, "clerk-sub", "Clerk@Shop.example");
    let mut clerk = FormBrowser::new();
    app.sign_in(&mut clerk, &[]).await.unwrap();
    signs_in_as(&op, "owner-sub", "owner@shop.example");
    let mut owner = FormBrowser::new();
    app.sign_in(&mut owner, &[]).await.unwrap();

    let revoke = |body: Value| app.api(Method::POST, "/partner/sessions/revoke", &app.partner).json(&body).send();
    expect_error(revoke(json!({})).await.unwrap(), StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    expect_error(revoke(json!({"email": "nope"})).await.unwrap(), StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    // A subject no IdM sends (PostgreSQL text cannot even hold NUL): refused, naming the field.
    let err = expect_error(revoke(json!({"idm_subject": "pairwise\u{0}-1"})).await.unwrap(), StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    assert_eq!(details(&err), vec![(vec!["idm_subject".to_string()], "INVALID_CHARACTERS".to_string())]);
    let answer: Value = revoke(json!({"email": "nobody@shop.example"})).await.unwrap().json().await.unwrap();
    assert_eq!(answer, json!({"revoked": 0}));
    let answer: Value = revoke(json!({"email": "clerk@shop.example", "account_id": account})).await.unwrap().json().await.unwrap();
    assert_eq!(answer, json!({"revoked": 1}));
    assert_eq!(clerk.get(&app.url("/merchant-center")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(owner.get(&app.url("/merchant-center")).await.0, StatusCode::OK);
    let answer: Value = revoke(json!({"account_id": account})).await.unwrap().json().await.unwrap();
    assert_eq!(answer, json!({"revoked": 1}));
    assert_eq!(owner.get(&app.url("/merchant-center")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count_merchant_sessions().await, 0);
}

#[tokio::test]
async fn a_login_started_before_a_config_change_finishes_with_its_own_version() {
    let (app, op) = setup().await;
    // Alice reaches the account as its controller.
    app.account(&app.partner, "alice@shop.example", "Shop").await;
    signs_in_as(&op, "u-1", "alice@shop.example");
    let mut browser = FormBrowser::new();
    let callback = app.url(&format!("/sso/oidc/{}/callback", app.partner.app_id));
    let back = browser.run_until(&app.cta(), &callback, &[]).await;
    // Meanwhile the partner renames the e-mail claim to one this IdM does not send: a login
    // finished under the new version would lack it.
    app.configure_idm(&op.config(json!({"claims": {"email": "mail"}}))).await;
    let (status, location, _) = browser.get(back.as_str()).await;
    assert_eq!((status, location.as_deref()), (StatusCode::FOUND, Some("/merchant-center")), "the flow's own version");
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Err("claim_missing (mail)".into()), "the next login uses the new one");
}

/// A returning person's profile is what their IdM sends this time (an unchanged one is
/// not rewritten, a changed one is).
#[tokio::test]
async fn a_returning_persons_new_name_replaces_the_old_one() {
    let (app, op) = setup().await;
    app.account(&app.partner, "owner@shop.example", "Shop").await;
    signs_in_as(&op, "u-owner", "owner@shop.example");
    for _ in 0..2 {
        let mut browser = FormBrowser::new();
        assert_eq!(app.sign_in(&mut browser, &[]).await, Ok("/merchant-center".into()));
        assert!(browser.get(&app.url("/merchant-center")).await.2.contains("Casey Clerk"));
    }
    op.set(|b| b.id_token_claims["given_name"] = json!("Robin"));
    let mut browser = FormBrowser::new();
    assert_eq!(app.sign_in(&mut browser, &[]).await, Ok("/merchant-center".into()));
    let page = browser.get(&app.url("/merchant-center")).await.2;
    assert!(page.contains("Robin Clerk") && !page.contains("Casey"), "{page}");
}
