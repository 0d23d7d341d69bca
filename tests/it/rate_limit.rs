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
