//! The audit trail: every partner-side change and operator action appends to the app's
//! hash chain; `causeway audit verify` finds an altered or removed entry; concurrent
//! appends keep one chain.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

use crate::cli::{causeway, causeway_json};
use crate::helpers::*;

async fn trail(app: &TestApp, who: &Credentials) -> Vec<Value> {
    let body: Value = app.get("/partner/audit_events?limit=200", who).await.json().await.unwrap();
    body["events"].as_array().unwrap().clone()
}

fn actions(events: &[Value]) -> Vec<&str> {
    events.iter().rev().map(|e| e["action"].as_str().unwrap()).collect()
}

async fn sql(app: &TestApp, statement: String) {
    let mut conn = sqlx::AnyConnection::connect(&app.db.url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut conn).await.unwrap();
}

#[tokio::test]
async fn every_partner_change_appends_to_one_chain_of_its_app() {
    let app = spawn_app_for_sso(&[]).await;
    let op = crate::support::fake_op::FakeOp::start().await;
    app.configure_idm(&op.config(json!({}))).await;
    let resp = app.api(Method::POST, "/partner/idm/history/1/restore", &app.partner).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app.api(Method::PUT, "/partner/branding", &app.partner).json(&json!({"display_name": "Acme Pay", "brand_color": "#0a7cff"})).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let account = app.account(&app.partner, "owner@shop.example", "Shop").await;
    let users = format!("/accounts/{account}/users");
    let grant: Value = app.post_json(&users, &app.partner, &json!({"email": "staff@shop.example", "role": "moderator"})).await.json().await.unwrap();
    let resp = app.post_json(&users, &app.partner, &json!({"email": "staff@shop.example", "role": "financial_admin"})).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let grant_id = grant["id"].as_str().unwrap();
    let resp = app.api(Method::DELETE, &format!("{users}/{grant_id}"), &app.partner).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = app.post_json("/partner/sessions/revoke", &app.partner, &json!({"email": "staff@shop.example"})).await;
    assert_eq!(resp.status(), StatusCode::OK);

    let events = trail(&app, &app.partner).await;
    assert_eq!(
        actions(&events),
        ["idm_config.set", "idm_config.restore", "branding.set", "grant.create", "grant.update", "grant.remove", "sessions.revoke"]
    );
    // Newest first, numbered from 1, each carrying the hash of the one before.
    let mut prev = "0".repeat(64);
    for (i, e) in events.iter().rev().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1);
        assert_eq!(e["prev_hash"], prev.as_str());
        assert_eq!(e["actor"], "Partner API");
        prev = e["hash"].as_str().unwrap().to_owned();
    }
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(op.config(json!({}))["client_secret"].as_str().unwrap()), "no secret in the trail: {text}");
    assert!(text.contains("email staff@shop.example") && text.contains("0 session(s) ended"), "{text}");
    // Another partner's trail is its own.
    let other = app.another_partner("Other").await;
    assert!(trail(&app, &other).await.is_empty());
    let resp = app.get("/partner/audit_events?limit=0", &app.partner).await;
    expect_error(resp, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
}

#[tokio::test]
async fn operator_actions_are_recorded_and_verify_finds_tampering() {
    let app = spawn_app().await;
    let created = causeway_json(&app.db.url, &["app", "create", "--name", "Audited Platform", "--json"]);
    let id = created["app_id"].as_str().unwrap();
    for args in [vec!["app", "rotate-token", id, "--json"], vec!["app", "suspend", id], vec!["app", "activate", id]] {
        assert!(causeway(&app.db.url, &args).status.success(), "{args:?}");
    }
    let resp = app.get("/partner/audit_events", &app.partner).await;
    let body: Value = resp.json().await.unwrap();
    assert!(body["events"].as_array().unwrap().is_empty(), "the operator acted on another app");
    let verified = causeway_json(&app.db.url, &["audit", "verify", "--json"]);
    assert_eq!(verified["intact"], true, "{verified}");
    assert_eq!(verified["entries"], 4);

    // An entry altered in the database: verify exits 1 and names it.
    sql(&app, format!("UPDATE audit_events SET detail = 'nothing happened' WHERE chain = '{id}' AND seq = 2")).await;
    let out = causeway(&app.db.url, &["audit", "verify", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    assert_eq!(report["breaks"], json!([{"chain": id, "seq": 2, "problem": "hash does not match the entry (it was altered)"}]));

    // Removed instead: the gap is named.
    sql(&app, format!("DELETE FROM audit_events WHERE chain = '{id}' AND seq = 2")).await;
    let out = causeway(&app.db.url, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("Chain {id}: entry 2: missing")), "{text}");
}

/// Twenty changes at once through the API: one chain, numbered 1 to 20, that verifies.
#[tokio::test]
async fn concurrent_changes_keep_one_chain() {
    let app = spawn_app().await;
    let changes = (0..20).map(|i| {
        let body = json!({"display_name": format!("Acme {i}"), "brand_color": "#0a7cff"});
        let request = app.api(Method::PUT, "/partner/branding", &app.partner).json(&body);
        async move { request.send().await.unwrap().status() }
    });
    for status in futures_util::future::join_all(changes).await {
        assert_eq!(status, StatusCode::OK);
    }
    let events = trail(&app, &app.partner).await;
    let seqs: Vec<i64> = events.iter().rev().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    let verified = causeway_json(&app.db.url, &["audit", "verify", "--json"]);
    assert_eq!((verified["intact"].as_bool(), verified["entries"].as_i64()), (Some(true), Some(20)), "{verified}");
}
