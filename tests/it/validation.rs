//! Every validation rule of the contract: the reason code, the target, and nothing written.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    *body.pointer_mut(pointer).unwrap() = value;
    body
}

fn without(mut body: Value, parent: &str, field: &str) -> Value {
    body.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(field);
    body
}

fn target(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn legal_entity_rules() {
    let app = spawn_app().await;
    let ok = legal_entity_body();
    let cases: Vec<(&str, Value, Vec<String>, &str)> = vec![
        ("lower-case country", with(ok.clone(), "/country", json!("us")), target(&["country"]), "INVALID_COUNTRY"),
        ("unknown country", with(ok.clone(), "/country", json!("XX")), target(&["country"]), "INVALID_COUNTRY"),
        ("alpha-3 country", with(ok.clone(), "/country", json!("USA")), target(&["country"]), "INVALID_COUNTRY"),
        ("numeric country", with(ok.clone(), "/country", json!(840)), target(&["country"]), "INVALID_TYPE"),
        ("missing country", without(ok.clone(), "", "country"), target(&["country"]), "MISSING_FIELD"),
        ("bad email", with(ok.clone(), "/controller/email", json!("owner-at-example")), target(&["controller", "email"]), "INVALID_EMAIL"),
        ("email without domain dot", with(ok.clone(), "/controller/email", json!("owner@localhost")), target(&["controller", "email"]), "INVALID_EMAIL"),
        ("missing email", without(ok.clone(), "/controller", "email"), target(&["controller", "email"]), "MISSING_FIELD"),
        ("missing controller", without(ok.clone(), "", "controller"), target(&["controller"]), "MISSING_FIELD"),
        ("verified as string", with(ok.clone(), "/controller/email_is_verified", json!("true")), target(&["controller", "email_is_verified"]), "INVALID_TYPE"),
        ("verified as number", with(ok.clone(), "/controller/email_is_verified", json!(1)), target(&["controller", "email_is_verified"]), "INVALID_TYPE"),
        ("acceptance in the future", with(ok.clone(), "/terms_of_service/acceptance_time", json!(now() + 3600)), target(&["terms_of_service", "acceptance_time"]), "TIME_IN_FUTURE"),
        ("acceptance not positive", with(ok.clone(), "/terms_of_service/acceptance_time", json!(0)), target(&["terms_of_service", "acceptance_time"]), "INVALID_TIME"),
        ("acceptance as text", with(ok.clone(), "/terms_of_service/acceptance_time", json!("1700000000")), target(&["terms_of_service", "acceptance_time"]), "INVALID_TYPE"),
        ("acceptance fractional", with(ok.clone(), "/terms_of_service/acceptance_time", json!(1700000000.5)), target(&["terms_of_service", "acceptance_time"]), "INVALID_TYPE"),
        ("bad ip", with(ok.clone(), "/terms_of_service/original_ip", json!("203.0.113")), target(&["terms_of_service", "original_ip"]), "INVALID_IP_ADDRESS"),
        ("host name as ip", with(ok.clone(), "/terms_of_service/original_ip", json!("example.com")), target(&["terms_of_service", "original_ip"]), "INVALID_IP_ADDRESS"),
        ("missing ip", without(ok.clone(), "/terms_of_service", "original_ip"), target(&["terms_of_service", "original_ip"]), "MISSING_FIELD"),
        ("unknown top-level field", { let mut o = ok.clone(); o["extra"] = json!(1); o }, target(&["extra"]), "UNKNOWN_FIELD"),
        ("unknown nested field", { let mut o = ok.clone(); o["controller"]["phone"] = json!("555"); o }, target(&["controller", "phone"]), "UNKNOWN_FIELD"),
        ("body is an array", json!([ok.clone()]), vec![], "INVALID_TYPE"),
        ("null for a required field", { let mut o = ok.clone(); o["country"] = json!(null); o }, target(&["country"]), "MISSING_FIELD"),
        ("null inside a list is no value", { let mut o = ok.clone(); o["controller"] = json!([null]); o }, target(&["controller", "0"]), "INVALID_TYPE"),
    ];
    for (name, body, expected_target, reason) in cases {
        let resp = app.post_json("/legal_entities", &app.partner, &body).await;
        let err = expect_error(resp, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
        assert_eq!(details(&err), vec![(expected_target, reason.to_string())], "case {name}: {err}");
    }
    assert_eq!(app.count_legal_entities(&app.partner).await, 0, "nothing is written");
}

#[tokio::test]
async fn null_for_an_optional_field_means_not_set() {
    let app = spawn_app().await;
    let body = json!({"country": "US", "controller": {"email": "owner@shop.example", "email_is_verified": null}, "terms_of_service": null});
    let resp = app.post_json("/legal_entities", &app.partner, &body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let le: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(le["controller"]["email_is_verified"], false, "the default");
    assert!(le.get("terms_of_service").is_none(), "{le}");
    let account = json!({"legal_entity_id": le["id"], "name": "Shop", "description": null});
    let resp = app.post_json("/accounts", &app.partner, &account).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(resp.json::<serde_json::Value>().await.unwrap().get("description").is_none());
}

#[tokio::test]
async fn ipv6_and_utf8_inputs_are_accepted() {
    let app = spawn_app().await;
    let body = with(legal_entity_body(), "/terms_of_service/original_ip", json!("2001:db8::7"));
    assert_eq!(app.post_json("/legal_entities", &app.partner, &body).await.status(), StatusCode::CREATED);
    let le = app.legal_entity(&app.partner).await;
    let name = "é".repeat(255);
    let resp = app.post_json("/accounts", &app.partner, &json!({"legal_entity_id": le, "name": name})).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "255 characters, 510 bytes");
}

#[tokio::test]
async fn all_semantic_problems_are_listed_together() {
    let app = spawn_app().await;
    let body = json!({
        "country": "ZZ",
        "controller": {"email": "nope", "email_is_verified": false},
        "terms_of_service": {"acceptance_time": now() + 86400, "original_ip": "::g"}
    });
    let err = expect_error(app.post_json("/legal_entities", &app.partner, &body).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    let reasons: Vec<String> = details(&err).into_iter().map(|(_, r)| r).collect();
    assert_eq!(reasons, ["INVALID_COUNTRY", "INVALID_EMAIL", "TIME_IN_FUTURE", "INVALID_IP_ADDRESS"]);
}

#[tokio::test]
async fn account_rules() {
    let app = spawn_app().await;
    let le = app.legal_entity(&app.partner).await;
    let ok = json!({"legal_entity_id": le, "name": "Shop", "description": "Things"});
    let cases: Vec<(&str, Value, Vec<String>, &str)> = vec![
        ("empty name", with(ok.clone(), "/name", json!("")), target(&["name"]), "INVALID_LENGTH"),
        ("blank name", with(ok.clone(), "/name", json!("   ")), target(&["name"]), "INVALID_LENGTH"),
        ("long name", with(ok.clone(), "/name", json!("x".repeat(256))), target(&["name"]), "INVALID_LENGTH"),
        ("numeric name", with(ok.clone(), "/name", json!(7)), target(&["name"]), "INVALID_TYPE"),
        ("missing name", without(ok.clone(), "", "name"), target(&["name"]), "MISSING_FIELD"),
        ("NUL in name", with(ok.clone(), "/name", json!("Sh\u{0}op")), target(&["name"]), "INVALID_CHARACTERS"),
        ("line break in name", with(ok.clone(), "/name", json!("Sh\nop")), target(&["name"]), "INVALID_CHARACTERS"),
        ("NUL in description", with(ok.clone(), "/description", json!("a\u{0}b")), target(&["description"]), "INVALID_CHARACTERS"),
        ("long description", with(ok.clone(), "/description", json!("x".repeat(2001))), target(&["description"]), "INVALID_LENGTH"),
        ("malformed legal entity id", with(ok.clone(), "/legal_entity_id", json!("le-1")), target(&["legal_entity_id"]), "INVALID_ID"),
        ("missing legal entity id", without(ok.clone(), "", "legal_entity_id"), target(&["legal_entity_id"]), "MISSING_FIELD"),
        ("unknown field", { let mut o = ok.clone(); o["owner"] = json!("x"); o }, target(&["owner"]), "UNKNOWN_FIELD"),
    ];
    for (name, body, expected_target, reason) in cases {
        let resp = app.post_json("/accounts", &app.partner, &body).await;
        let err = expect_error(resp, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
        assert_eq!(details(&err), vec![(expected_target, reason.to_string())], "case {name}: {err}");
    }
    assert_eq!(app.count_accounts(&app.partner).await, 0, "nothing is written");
}
