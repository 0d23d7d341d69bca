//! `Unique-Key`: the same key and body replays the first response; another body is 409;
//! concurrent duplicates create exactly one object.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn post_keyed(app: &TestApp, path: &str, who: &Credentials, key: &str, body: &str) -> reqwest::Response {
    app.api(Method::POST, path, who)
        .header("Unique-Key", key)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn replay_returns_the_first_response_and_creates_nothing_new() {
    let app = spawn_app().await;
    let body = legal_entity_body().to_string();
    let first = post_keyed(&app, "/legal_entities", &app.partner, "le-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none(), "the first answer is no replay");
    let first: Value = first.json().await.unwrap();
    let again = post_keyed(&app, "/legal_entities", &app.partner, "le-1", &body).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.count_legal_entities(&app.partner).await, 1);

    // The same body with keys in another order is the same request.
    let v: Value = serde_json::from_str(&body).unwrap();
    let reordered = format!(
        r#"{{"terms_of_service": {}, "controller": {}, "country": "US"}}"#,
        v["terms_of_service"], v["controller"]
    );
    let third = post_keyed(&app, "/legal_entities", &app.partner, "le-1", &reordered).await;
    assert_eq!(third.json::<Value>().await.unwrap()["id"], first["id"]);
}

#[tokio::test]
async fn the_same_key_with_another_body_or_path_conflicts() {
    let app = spawn_app().await;
    let le = app.legal_entity(&app.partner).await;
    let body = json!({"legal_entity_id": le, "name": "Shop"}).to_string();
    assert_eq!(post_keyed(&app, "/accounts", &app.partner, "k", &body).await.status(), StatusCode::CREATED);
    let other = json!({"legal_entity_id": le, "name": "Other shop"}).to_string();
    let err = expect_error(post_keyed(&app, "/accounts", &app.partner, "k", &other).await, StatusCode::CONFLICT, "IDEMPOTENCY_CONFLICT").await;
    assert_eq!(details(&err), vec![(vec!["Unique-Key".to_string()], "KEY_REUSED".to_string())]);
    let le_body = legal_entity_body().to_string();
    expect_error(post_keyed(&app, "/legal_entities", &app.partner, "k", &le_body).await, StatusCode::CONFLICT, "IDEMPOTENCY_CONFLICT").await;
    assert_eq!(app.count_accounts(&app.partner).await, 1);
    assert_eq!(app.count_legal_entities(&app.partner).await, 1);
}

#[tokio::test]
async fn keys_belong_to_one_partner() {
    let app = spawn_app().await;
    let other = app.another_partner("Other").await;
    let body = legal_entity_body().to_string();
    let a: Value = post_keyed(&app, "/legal_entities", &app.partner, "shared", &body).await.json().await.unwrap();
    let b = post_keyed(&app, "/legal_entities", &other, "shared", &body).await;
    assert_eq!(b.status(), StatusCode::CREATED);
    assert_ne!(b.json::<Value>().await.unwrap()["id"], a["id"], "another partner's key does not replay mine");
}

#[tokio::test]
async fn a_failed_request_does_not_consume_the_key() {
    let app = spawn_app().await;
    let missing = json!({"legal_entity_id": uuid::Uuid::new_v4().to_string(), "name": "Shop"}).to_string();
    expect_error(post_keyed(&app, "/accounts", &app.partner, "retry-me", &missing).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let le = app.legal_entity(&app.partner).await;
    let good = json!({"legal_entity_id": le, "name": "Shop"}).to_string();
    assert_eq!(post_keyed(&app, "/accounts", &app.partner, "retry-me", &good).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn an_expired_key_may_be_used_again() {
    let app = spawn_app_with(&[("CAUSEWAY_IDEMPOTENCY_TTL_SECONDS", "1")]).await;
    let body = legal_entity_body().to_string();
    let first: Value = post_keyed(&app, "/legal_entities", &app.partner, "old", &body).await.json().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let second: Value = post_keyed(&app, "/legal_entities", &app.partner, "old", &body).await.json().await.unwrap();
    assert_ne!(first["id"], second["id"]);
    assert_eq!(app.count_legal_entities(&app.partner).await, 2);
}

#[tokio::test]
async fn twenty_concurrent_duplicates_create_exactly_one_object() {
    let app = spawn_app().await;
    let le = app.legal_entity(&app.partner).await;
    for (path, key, body) in [
        ("/legal_entities", "race-le", legal_entity_body().to_string()),
        ("/accounts", "race-account", json!({"legal_entity_id": le, "name": "Race"}).to_string()),
    ] {
        let requests = (0..20).map(|_| post_keyed(&app, path, &app.partner, key, &body));
        let responses = futures_util::future::join_all(requests).await;
        let mut ids = Vec::new();
        for resp in responses {
            assert_eq!(resp.status(), StatusCode::CREATED, "{path}");
            ids.push(resp.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{path}: every duplicate got the same object");
    }
    assert_eq!(app.count_legal_entities(&app.partner).await, 2, "the seed entity and one raced entity");
    assert_eq!(app.count_accounts(&app.partner).await, 1);
}

#[tokio::test]
async fn malformed_keys_are_refused() {
    let app = spawn_app().await;
    let body = legal_entity_body().to_string();
    for key in ["x".repeat(256), "has space".to_owned()] {
        let err = expect_error(post_keyed(&app, "/legal_entities", &app.partner, &key, &body).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
        assert_eq!(details(&err), vec![(vec!["Unique-Key".to_string()], "INVALID_HEADER".to_string())]);
    }
    // Bytes beyond ASCII (a key written in UTF-8): refused too, not taken for no key.
    let key = reqwest::header::HeaderValue::from_bytes("café-1".as_bytes()).unwrap();
    let resp = app.api(reqwest::Method::POST, "/legal_entities", &app.partner).header("Unique-Key", key).header("Content-Type", "application/json").body(body.clone()).send().await.unwrap();
    let err = expect_error(resp, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    assert_eq!(details(&err), vec![(vec!["Unique-Key".to_string()], "INVALID_HEADER".to_string())]);
    assert_eq!(app.count_legal_entities(&app.partner).await, 0);
}
