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

/// Text on the brand colour is black or white by WCAG contrast in the Merchant Center too,
/// and a colour too light to read as text on white is named in the Partner Center, with the
/// change in the app's audit trail as the Partner Center's.
#[tokio::test]
async fn text_on_the_brand_colour_stays_readable_and_a_light_colour_is_named() {
    let app = spawn_app().await;
    let stylesheet = |color: &'static str| {
        let app = &app;
        async move {
            let body = json!({"display_name": "Acme", "brand_color": color});
            assert_eq!(app.api(Method::PUT, "/partner/branding", &app.partner).json(&body).send().await.unwrap().status(), StatusCode::OK);
            app.client.get(app.url(&format!("/brand/{}.css", app.partner.app_id))).send().await.unwrap().text().await.unwrap()
        }
    };
    assert!(stylesheet("#FACC15").await.contains("--brand-ink: #000000"), "black on yellow");
    assert!(stylesheet("#1A56DB").await.contains("--brand-ink: #FFFFFF"), "white on blue");

    let pc = crate::pc_client::PcClient::new(&app);
    pc.sign_in(&app.partner).await;
    assert!(!pc.get("/partner-center/branding").await.body.contains("contrast-warning"), "#1A56DB reads well on white");
    let form = pc.get("/partner-center/branding").await;
    let saved = pc
        .post("/partner-center/branding", &[("display_name", "Acme"), ("logo_url", ""), ("brand_color", "#FACC15"), ("support_label", ""), ("csrf_token", &form.csrf())])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = pc.get("/partner-center/branding").await.body;
    assert!(page.contains(r#"id="contrast-warning""#) && page.contains("reaches 1.5:1"), "{page}");
    assert!(!page.contains("Powered by Causeway"), "the preview shows what merchants get");

    let trail: Value = app.get("/partner/audit_events", &app.partner).await.json().await.unwrap();
    assert_eq!(trail["events"][0]["actor"], "Partner Center");
    assert_eq!(trail["events"][0]["action"], "branding.set");
}
