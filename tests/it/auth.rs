//! Credentials: every failure is the same 401, never a hint of which part was wrong
//! (seed 000 §9.1–9.2).

use causeway::domain::app::AppStatus;
use causeway::services::apps;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

async fn rejected(app: &TestApp, headers: &[(&str, &str)]) -> Value {
    let mut req = app.client.post(app.url("/legal_entities")).header("Api-Version", "3.0").json(&legal_entity_body());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    expect_error(req.send().await.unwrap(), StatusCode::UNAUTHORIZED, "NOT_AUTHORIZED").await
}

#[tokio::test]
async fn every_bad_credential_gets_the_same_401() {
    let app = spawn_app().await;
    let other = app.another_partner("Other").await;
    let p = &app.partner;
    let unknown_id = uuid::Uuid::new_v4().to_string();
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("no credentials", vec![]),
        ("no token", vec![("App-Id", &p.app_id)]),
        ("no app id", vec![("App-Token", &p.app_token)]),
        ("wrong token", vec![("App-Id", &p.app_id), ("App-Token", "WRONG_VALUE")]),
        ("empty token", vec![("App-Id", &p.app_id), ("App-Token", "")]),
        ("another app's token", vec![("App-Id", &p.app_id), ("App-Token", &other.app_token)]),
        ("unknown app id", vec![("App-Id", &unknown_id), ("App-Token", &p.app_token)]),
        ("malformed app id", vec![("App-Id", "acme"), ("App-Token", &p.app_token)]),
    ];
    let mut bodies = Vec::new();
    for (name, headers) in cases {
        let body = rejected(&app, &headers).await;
        assert_eq!(body["details"], serde_json::json!([]), "{name}");
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "all 401 bodies are identical: {bodies:?}");
    assert_eq!(app.count_legal_entities(p).await, 0);
}

#[tokio::test]
async fn rotation_invalidates_the_old_token_at_once() {
    let app = spawn_app().await;
    assert_eq!(app.post_json("/legal_entities", &app.partner, &legal_entity_body()).await.status(), StatusCode::CREATED);
    let issued = apps::rotate_token(&app.store, &app.clock, app.partner.app_id.parse().unwrap()).await.unwrap();
    let old = app.partner.clone();
    let new = Credentials { app_id: old.app_id.clone(), app_token: secrecy::ExposeSecret::expose_secret(&issued.app_token).to_owned() };
    assert_ne!(old.app_token, new.app_token);
    expect_error(app.post_json("/legal_entities", &old, &legal_entity_body()).await, StatusCode::UNAUTHORIZED, "NOT_AUTHORIZED").await;
    assert_eq!(app.post_json("/legal_entities", &new, &legal_entity_body()).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_suspended_app_is_refused_until_activated() {
    let app = spawn_app().await;
    let id = app.partner.app_id.parse().unwrap();
    let le = app.legal_entity(&app.partner).await;
    apps::set_status(&app.store, id, AppStatus::Suspended).await.unwrap();
    let body = expect_error(app.get(&format!("/legal_entities/{le}"), &app.partner).await, StatusCode::UNAUTHORIZED, "NOT_AUTHORIZED").await;
    let wrong = rejected(&app, &[("App-Id", &app.partner.app_id), ("App-Token", "nope")]).await;
    assert_eq!(body, wrong, "suspension is indistinguishable from a wrong token");
    apps::set_status(&app.store, id, AppStatus::Active).await.unwrap();
    assert_eq!(app.get(&format!("/legal_entities/{le}"), &app.partner).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn token_use_is_recorded_without_storing_the_token() {
    let app = spawn_app().await;
    let id = app.partner.app_id.parse().unwrap();
    let before = app.store.find_app(id).await.unwrap();
    assert!(before.token_last_used_at.is_none());
    app.legal_entity(&app.partner).await;
    let after = app.store.find_app(id).await.unwrap();
    assert!(after.token_last_used_at.is_some());
    assert!(app.partner.app_token.starts_with(&after.token_prefix));
    assert!(after.token_prefix.len() < 16, "only a short prefix is visible");
    assert_ne!(after.token_hash, app.partner.app_token);
    assert!(!after.token_hash.contains(&app.partner.app_token[after.token_prefix.len()..]));
}

/// The onboarding creates take a caller on a recent check and check the credential in
/// their insert instead of a read (issue 11): a rotation or suspension made elsewhere (the
/// CLI, another replica) still refuses the very next create, on every replica, and writes
/// nothing.
#[tokio::test]
async fn recently_checked_callers_are_still_refused_at_once_on_every_replica() {
    let app = spawn_app().await;
    let replica = spawn_app_on(app.db.same_database(), &[]).await;
    let id = app.partner.app_id.parse().unwrap();
    let le = app.legal_entity(&app.partner).await;
    let account_body = serde_json::json!({"legal_entity_id": le, "name": "Shop"});
    // Both replicas have checked this credential just now.
    for server in [&app, &replica] {
        assert_eq!(server.post_json("/legal_entities", &app.partner, &legal_entity_body()).await.status(), StatusCode::CREATED);
        assert_eq!(server.post_json("/accounts", &app.partner, &account_body).await.status(), StatusCode::CREATED);
    }
    let entities = app.count_legal_entities(&app.partner).await;
    let accounts = app.count_accounts(&app.partner).await;

    apps::set_status(&app.store, id, AppStatus::Suspended).await.unwrap();
    for server in [&app, &replica] {
        expect_error(server.post_json("/legal_entities", &app.partner, &legal_entity_body()).await, StatusCode::UNAUTHORIZED, "NOT_AUTHORIZED").await;
        expect_error(server.post_json("/accounts", &app.partner, &account_body).await, StatusCode::UNAUTHORIZED, "NOT_AUTHORIZED").await;
    }
    apps::set_status(&app.store, id, AppStatus::Active).await.unwrap();
    for server in [&app, &replica] {
        assert_eq!(server.post_json("/accounts", &app.partner, &account_body).await.status(), StatusCode::CREATED);
    }

    let issued = apps::rotate_token(&app.store, &app.clock, id).await.unwrap();
    let new = Credentials { app_id: app.partner.app_id.clone(), app_token: secrecy::ExposeSecret::expose_secret(&issued.app_token).to_owned() };
    for server in [&app, &replica] {
        expect_error(server.post_json("/legal_entities", &app.partner, &legal_entity_body()).await, StatusCode::UNAUTHORIZED, "NOT_AUTHORIZED").await;
        expect_error(server.post_json("/accounts", &app.partner, &account_body).await, StatusCode::UNAUTHORIZED, "NOT_AUTHORIZED").await;
        assert_eq!(server.post_json("/legal_entities", &new, &legal_entity_body()).await.status(), StatusCode::CREATED);
    }
    assert_eq!(app.count_legal_entities(&new).await, entities + 2, "no refused create was written");
    assert_eq!(app.count_accounts(&new).await, accounts + 2);
    // An unknown legal entity is still a 404 on the rechecked path, not a 401.
    let missing = serde_json::json!({"legal_entity_id": uuid::Uuid::new_v4().to_string(), "name": "Shop"});
    expect_error(replica.post_json("/accounts", &new, &missing).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}
