use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_partner_creates_and_reads_a_legal_entity() {
    let app = spawn_app().await;
    let body = legal_entity_body();
    let resp = app.post_json("/legal_entities", &app.partner, &body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["resource"], "legal_entities");
    assert_eq!(created["country"], "US");
    assert_eq!(created["controller"], json!({"email": "owner@merchant.example", "email_is_verified": true}));
    assert_eq!(created["terms_of_service"], body["terms_of_service"]);
    let id = created["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    let create_time = created["create_time"].as_i64().unwrap();
    assert!((create_time - now()).abs() < 60);

    let resp = app.get(&format!("/legal_entities/{id}"), &app.partner).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap(), created);
}

#[tokio::test]
async fn optional_fields_may_be_left_out() {
    let app = spawn_app().await;
    let resp = app.post_json("/legal_entities", &app.partner, &json!({"country": "DE", "controller": {"email": "a@b.example"}})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["controller"]["email_is_verified"], false);
    assert!(created.get("terms_of_service").is_none(), "absent, not null: {created}");
}

#[tokio::test]
async fn a_partner_creates_and_reads_an_account() {
    let app = spawn_app().await;
    let le = app.legal_entity(&app.partner).await;
    let resp = app
        .post_json("/accounts", &app.partner, &json!({"legal_entity_id": le, "name": "  Corner Shop ", "description": "Coffee and cake"}))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["resource"], "accounts");
    assert_eq!(created["legal_entity_id"], le.as_str());
    assert_eq!(created["name"], "Corner Shop", "names are stored trimmed");
    assert_eq!(created["description"], "Coffee and cake");
    let id = created["id"].as_str().unwrap();

    let resp = app.get(&format!("/accounts/{id}"), &app.partner).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap(), created);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_not_found() {
    let app = spawn_app().await;
    for path in [
        format!("/legal_entities/{}", uuid::Uuid::new_v4()),
        "/legal_entities/not-a-uuid".to_owned(),
        format!("/accounts/{}", uuid::Uuid::new_v4()),
        "/accounts/42".to_owned(),
    ] {
        expect_error(app.get(&path, &app.partner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
}

#[tokio::test]
async fn an_account_needs_an_existing_legal_entity() {
    let app = spawn_app().await;
    let resp = app.post_json("/accounts", &app.partner, &json!({"legal_entity_id": uuid::Uuid::new_v4().to_string(), "name": "Shop"})).await;
    let body = expect_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(details(&body), vec![(vec!["legal_entity_id".to_string()], "NOT_FOUND".to_string())]);
    assert_eq!(app.count_accounts(&app.partner).await, 0);
}
