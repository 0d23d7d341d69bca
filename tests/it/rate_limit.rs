use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn a_partner_over_its_quota_gets_429_with_retry_after() {
    let app = spawn_app_with(&[("CAUSEWAY_API_RATE_PER_SECOND", "1"), ("CAUSEWAY_API_RATE_BURST", "3")]).await;
    let path = format!("/legal_entities/{}", uuid::Uuid::new_v4());
    for _ in 0..3 {
        assert_eq!(app.get(&path, &app.partner).await.status(), StatusCode::NOT_FOUND);
    }
    let resp = app.get(&path, &app.partner).await;
    let retry_after: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    expect_error(resp, StatusCode::TOO_MANY_REQUESTS, "THROTTLE_EXCEEDED").await;

    // Another partner's budget is its own.
    let other = app.another_partner("Quiet").await;
    assert_eq!(app.get(&path, &other).await.status(), StatusCode::NOT_FOUND);
}

/// Wrong credentials cost a database read each: an address that keeps sending them is
/// told to wait, before any lookup, whatever App-Id it names.
#[tokio::test]
async fn an_address_sending_wrong_tokens_is_throttled_before_any_lookup() {
    let app = spawn_app_with(&[("CAUSEWAY_API_FAILED_AUTH_PER_MINUTE", "3")]).await;
    let path = format!("/legal_entities/{}", uuid::Uuid::new_v4());
    let wrong = Credentials { app_id: app.partner.app_id.clone(), app_token: "cwt_guess".into() };
    for _ in 0..3 {
        expect_error(app.get(&path, &wrong).await, StatusCode::UNAUTHORIZED, "NOT_AUTHORIZED").await;
    }
    let resp = app.get(&path, &wrong).await;
    let retry_after: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "until the minute ends: {retry_after}");
    expect_error(resp, StatusCode::TOO_MANY_REQUESTS, "THROTTLE_EXCEEDED").await;
    // Refused before the lookup: even a right token from this address waits now.
    expect_error(app.get(&path, &app.partner).await, StatusCode::TOO_MANY_REQUESTS, "THROTTLE_EXCEEDED").await;
    // Successful calls never count against the budget.
    let fresh = spawn_app_with(&[("CAUSEWAY_API_FAILED_AUTH_PER_MINUTE", "3")]).await;
    for _ in 0..10 {
        assert_eq!(fresh.get(&path, &fresh.partner).await.status(), StatusCode::NOT_FOUND);
    }
}
