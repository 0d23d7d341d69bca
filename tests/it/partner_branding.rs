use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn branding_defaults_to_the_app_name_and_can_be_set() {
    let app = spawn_app().await;
    let default: Value = app.get("/partner/branding", &app.partner).await.json().await.unwrap();
    assert_eq!(default["display_name"], "Acme Platform");
    assert_eq!(default["brand_color"], "#1A56DB");

    let body = json!({"display_name": "Acme Pay", "logo_url": "https://acme.example/logo.svg", "brand_color": "#0a7cff", "support_label": "Help: support@acme.example"});
    let resp = app.api(Method::PUT, "/partner/branding", &app.partner).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let read: Value = app.get("/partner/branding", &app.partner).await.json().await.unwrap();
    assert_eq!(read, json!({"display_name": "Acme Pay", "logo_url": "https://acme.example/logo.svg", "brand_color": "#0A7CFF", "support_label": "Help: support@acme.example"}));

    // Another partner's branding is its own.
    let other = app.another_partner("Other Platform").await;
    let theirs: Value = app.get("/partner/branding", &other).await.json().await.unwrap();
    assert_eq!(theirs["display_name"], "Other Platform");
}

#[tokio::test]
async fn branding_rules() {
    let app = spawn_app().await;
    let ok = json!({"display_name": "Acme", "brand_color": "#112233"});
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("empty name", { let mut b = ok.clone(); b["display_name"] = json!(""); b }, "display_name", "INVALID_LENGTH"),
        ("long name", { let mut b = ok.clone(); b["display_name"] = json!("x".repeat(81)); b }, "display_name", "INVALID_LENGTH"),
        ("colour name", { let mut b = ok.clone(); b["brand_color"] = json!("blue"); b }, "brand_color", "INVALID_COLOR"),
        ("short colour", { let mut b = ok.clone(); b["brand_color"] = json!("#123"); b }, "brand_color", "INVALID_COLOR"),
        ("http logo", { let mut b = ok.clone(); b["logo_url"] = json!("http://acme.example/logo.png"); b }, "logo_url", "INSECURE_URL"),
        ("script logo", { let mut b = ok.clone(); b["logo_url"] = json!("javascript:alert(1)"); b }, "logo_url", "INSECURE_URL"),
        ("long label", { let mut b = ok.clone(); b["support_label"] = json!("x".repeat(121)); b }, "support_label", "INVALID_LENGTH"),
        ("unknown field", { let mut b = ok.clone(); b["font"] = json!("Comic Sans"); b }, "font", "UNKNOWN_FIELD"),
    ];
    for (name, body, field, reason) in cases {
        let resp = app.api(Method::PUT, "/partner/branding", &app.partner).json(&body).send().await.unwrap();
        let err = expect_error(resp, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
        assert_eq!(details(&err), vec![(vec![field.to_string()], reason.to_string())], "{name}: {err}");
    }
    let read: Value = app.get("/partner/branding", &app.partner).await.json().await.unwrap();
    assert_eq!(read["display_name"], "Acme Platform", "nothing stored");
}
