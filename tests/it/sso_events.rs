use causeway::services::sso_events::{self, Outcome};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn partners_read_their_own_recent_events_newest_first() {
    let app = spawn_app_with_pinned_clock().await;
    let me = app.partner.app_id.parse().unwrap();
    let other = app.another_partner("Other").await;
    sso_events::record(&app.state, me, Outcome::Started, None, "login started", "c-1").await.unwrap();
    app.clock.advance(5);
    sso_events::record(&app.state, me, Outcome::Failed, Some("nonce_mismatch"), "the ID token's nonce is not this flow's", "c-2").await.unwrap();
    sso_events::record(&app.state, other.app_id.parse().unwrap(), Outcome::Succeeded, None, "theirs", "c-3").await.unwrap();

    let body: Value = app.get("/partner/sso_events?limit=10", &app.partner).await.json().await.unwrap();
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["error_code"], "nonce_mismatch");
    assert_eq!(events[0]["outcome"], "failed");
    assert_eq!(events[0]["correlation_id"], "c-2");
    assert_eq!(events[1]["outcome"], "started");
    assert!(events[1].get("error_code").is_none());

    let body: Value = app.get("/partner/sso_events?limit=1", &app.partner).await.json().await.unwrap();
    assert_eq!(body["events"].as_array().unwrap().len(), 1);
    for bad in ["0", "201", "x"] {
        let resp = app.get(&format!("/partner/sso_events?limit={bad}"), &app.partner).await;
        expect_error(resp, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    }
}

#[tokio::test]
async fn retention_keeps_the_newest_events_of_each_app() {
    let app = spawn_app_with_pinned_clock().await;
    let me = app.partner.app_id.parse().unwrap();
    for i in 0..5 {
        sso_events::record(&app.state, me, Outcome::Started, None, &format!("event {i}"), "c").await.unwrap();
        app.clock.advance(1);
    }
    let pruned = app.store.prune_sso_events(3).await.unwrap();
    assert_eq!(pruned, 2);
    let left = sso_events::recent(&app.state, me, 50).await.unwrap();
    let details: Vec<&str> = left.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(details, ["event 4", "event 3", "event 2"]);
}
