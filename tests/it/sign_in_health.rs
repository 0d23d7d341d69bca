//! Sign-in health: counted in memory on the sign-in path, added to the database by every
//! replica, and summed over 24 hours or 7 days; the figures agree with the event log.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::form_browser::FormBrowser;
use crate::helpers::*;
use crate::support::fake_op::FakeOp;

const CLAIM: &str = "https://partner.example/wepay_account_id";

#[tokio::test]
async fn health_figures_agree_with_the_event_log() {
    let app = spawn_app_for_sso(&[]).await;
    let account = app.account(&app.partner, "alice@shop.example", "Shop").await;
    let op = FakeOp::start().await;
    op.set(|b| b.id_token_claims = json!({"email": "alice@shop.example", "email_verified": true, "given_name": "Alice", "family_name": "Merchant", CLAIM: account}));
    app.configure_idm(&op.config(json!({}))).await;
    for _ in 0..2 {
        assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Ok("/merchant-center".into()));
    }
    op.set(|b| b.authorize_error = Some("access_denied"));
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Err("idm_error".into()));

    let health: Value = app.get("/partner/health", &app.partner).await.json().await.unwrap();
    assert_eq!((health["window"].as_str(), health["started"].as_i64(), health["succeeded"].as_i64(), health["failed"].as_i64()), (Some("24h"), Some(3), Some(2), Some(1)), "{health:#}");
    assert_eq!(health["failed_by_code"], json!([{"error_code": "idm_error", "count": 1}]));
    assert!((health["success_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert!(health["callback_p50_ms"].as_u64().is_some() && health["token_endpoint_p95_ms"].as_u64().is_some(), "{health}");
    assert_eq!(health["clock_offsets"].as_array().unwrap().iter().map(|o| o["count"].as_i64().unwrap()).sum::<i64>(), 2, "one iat per completed token");
    assert_eq!((health["jwks_fetches"].as_i64(), health["jwks_fetch_failures"].as_i64()), (Some(1), Some(0)), "one fetch, then the cache");
    let hourly = health["hourly"].as_array().unwrap();
    assert_eq!(hourly.len(), 24);
    assert_eq!(hourly[23]["succeeded"], 2);
    // The event log tells the same story.
    let events: Value = app.get("/partner/sso_events", &app.partner).await.json().await.unwrap();
    let outcomes: Vec<&str> = events["events"].as_array().unwrap().iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!((outcomes.iter().filter(|o| **o == "succeeded").count(), outcomes.iter().filter(|o| **o == "failed").count()), (2, 1));

    let week: Value = app.get("/partner/health?window=7d", &app.partner).await.json().await.unwrap();
    assert_eq!((week["hourly"].as_array().unwrap().len(), week["succeeded"].as_i64()), (168, Some(2)));
    let err = expect_error(app.get("/partner/health?window=30d", &app.partner).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    assert_eq!(details(&err), vec![(vec!["window".to_string()], "INVALID_PARAMETER".to_string())]);
    let other = app.another_partner("Other").await;
    let theirs: Value = app.get("/partner/health", &other).await.json().await.unwrap();
    assert_eq!((theirs["started"].as_i64(), theirs.get("success_rate")), (Some(0), None));

    // The Partner Center draws the same figures, as SVG and as text.
    let pc = crate::pc_client::PcClient::new(&app);
    pc.sign_in(&app.partner).await;
    let page = pc.get("/partner-center/health").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg class=\"health-chart\"") && page.body.contains("66.7 %") && page.body.contains("<code>idm_error</code>"), "{}", page.body);
    assert!(page.body.contains("2 succeeded, 1 failed, 3 started"), "the numbers as text too");
}
