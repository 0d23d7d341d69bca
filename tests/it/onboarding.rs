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

/// Apps are suspended, never deleted, and the database refuses the delete on both backends
/// (migration 0017): on PostgreSQL the onboarding tables name their app without a foreign
/// key, so no legal entity or account can be left naming none.
#[tokio::test]
async fn an_app_is_never_deleted_and_a_legal_entity_needs_an_existing_app() {
    use sqlx::Connection;
    let app = spawn_app().await;
    let with_rows = &app.partner;
    app.legal_entity(with_rows).await;
    let without_rows = app.another_partner("Nothing Yet").await;
    let mut conn = sqlx::AnyConnection::connect(&app.db.url).await.unwrap();
    for partner in [with_rows, &without_rows] {
        let refused = sqlx::query("DELETE FROM apps WHERE id = $1").bind(&partner.app_id).execute(&mut conn).await;
        let error = refused.expect_err("an app is never deleted").to_string();
        assert!(error.contains("never deleted"), "{error}");
    }
    let apps: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM apps").fetch_one(&mut conn).await.unwrap();
    assert_eq!(apps, 2, "both apps are still there");

    let missing = causeway::domain::ids::AppId::new();
    let row = causeway::store::legal_entities::LegalEntityRow {
        id: causeway::domain::ids::LegalEntityId::new(),
        app_id: missing,
        country: "US".into(),
        controller_email: "owner@merchant.example".into(),
        controller_email_verified: true,
        tos_acceptance_time: None,
        tos_original_ip: None,
        created_at: now(),
    };
    let created = app.store.create_legal_entity(&row, None, None).await;
    assert!(matches!(created, Err(causeway::store::StoreError::CredentialRefused)), "{created:?}");
    let written: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM legal_entities WHERE app_id = $1")
        .bind(missing.to_string())
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(written, 0);
}
