//! The operator CLI against the same database the server uses.

use std::process::Output;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

pub fn causeway(db_url: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_causeway"))
        .args(args)
        .env("CAUSEWAY_DATABASE_URL", db_url)
        .env("CAUSEWAY_LOG", "warn")
        .output()
        .unwrap()
}

/// Runs a `--json` command and parses the one JSON object it must print.
pub fn causeway_json(db_url: &str, args: &[&str]) -> Value {
    let out = causeway(db_url, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.trim().lines().count(), 1, "exactly one JSON object: {stdout}");
    serde_json::from_str(stdout.trim()).unwrap()
}

fn credentials(json: &Value) -> Credentials {
    Credentials { app_id: json["app_id"].as_str().unwrap().to_owned(), app_token: json["app_token"].as_str().unwrap().to_owned() }
}

#[tokio::test]
async fn operator_manages_an_app_from_the_command_line() {
    let db = TestDatabase::new().await;
    let url = db.url.clone();
    let created = causeway_json(&url, &["app", "create", "--name", "Shopfront Inc", "--json"]);
    let first = credentials(&created);
    assert!(first.app_token.len() >= 43, "at least 256 bits of token");
    let app = spawn_app_on(db, &[]).await;
    assert_eq!(app.post_json("/legal_entities", &first, &legal_entity_body()).await.status(), StatusCode::CREATED);

    let rotated = credentials(&causeway_json(&url, &["app", "rotate-token", &first.app_id, "--json"]));
    assert_eq!(rotated.app_id, first.app_id);
    expect_error(app.post_json("/legal_entities", &first, &legal_entity_body()).await, StatusCode::UNAUTHORIZED, "NOT_AUTHORIZED").await;
    assert_eq!(app.post_json("/legal_entities", &rotated, &legal_entity_body()).await.status(), StatusCode::CREATED);

    let listed = causeway_json(&url, &["app", "list", "--json"]);
    let entry = listed["apps"].as_array().unwrap().iter().find(|a| a["app_id"] == first.app_id.as_str()).unwrap().clone();
    assert_eq!(entry["name"], "Shopfront Inc");
    assert_eq!(entry["status"], "active");
    assert!(rotated.app_token.starts_with(entry["token_prefix"].as_str().unwrap()));
    assert!(entry["token_last_used_at"].is_i64());
    assert!(!listed.to_string().contains(&rotated.app_token), "list never shows a token");

    assert!(causeway(&url, &["app", "suspend", &first.app_id]).status.success());
    expect_error(app.post_json("/legal_entities", &rotated, &legal_entity_body()).await, StatusCode::UNAUTHORIZED, "NOT_AUTHORIZED").await;
    let listed = causeway_json(&url, &["app", "list", "--json"]);
    assert!(listed["apps"].as_array().unwrap().iter().any(|a| a["app_id"] == first.app_id.as_str() && a["status"] == "suspended"));
    assert!(causeway(&url, &["app", "activate", &first.app_id]).status.success());
    assert_eq!(app.post_json("/legal_entities", &rotated, &legal_entity_body()).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn operator_mistakes_fail_clearly() {
    let db = TestDatabase::new().await;
    let missing = uuid::Uuid::new_v4().to_string();
    let out = causeway(&db.url, &["app", "rotate-token", &missing]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no app has this id"));
    let out = causeway(&db.url, &["app", "create", "--name", "   "]);
    assert!(!out.status.success());
    let out = causeway(&db.url, &["app", "suspend", "not-a-uuid"]);
    assert!(!out.status.success());
    let listed = causeway_json(&db.url, &["app", "list", "--json"]);
    assert_eq!(listed["apps"], serde_json::json!([]), "nothing was created");
}

#[tokio::test]
async fn migrate_prepares_an_empty_database() {
    let db = TestDatabase::new().await;
    let out = causeway(&db.url, &["migrate"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Idempotent.
    assert!(causeway(&db.url, &["migrate"]).status.success());
}
