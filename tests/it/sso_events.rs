use causeway::services::sso_events::{self, Outcome};
use causeway::store::sso_events::PruneScope;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn partners_read_their_own_recent_events_newest_first() {
    let app = spawn_app_with_pinned_clock().await;
    let me = app.partner.app_id.parse().unwrap();
    let other = app.another_partner("Other").await;
    sso_events::record(&app.state, me, Outcome::Succeeded, None, "signed in", "c-1").await.unwrap();
    app.clock.advance(5);
    sso_events::record(&app.state, me, Outcome::Failed, Some("nonce_mismatch"), "the ID token's nonce is not this flow's", "c-2").await.unwrap();
    sso_events::record(&app.state, other.app_id.parse().unwrap(), Outcome::Succeeded, None, "theirs", "c-3").await.unwrap();

    let body: Value = app.get("/partner/sso_events?limit=10", &app.partner).await.json().await.unwrap();
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["error_code"], "nonce_mismatch");
    assert_eq!(events[0]["outcome"], "failed");
    assert_eq!(events[0]["correlation_id"], "c-2");
    assert_eq!(events[1]["outcome"], "succeeded");
    assert!(events[1].get("error_code").is_none());

    let body: Value = app.get("/partner/sso_events?limit=1", &app.partner).await.json().await.unwrap();
    assert_eq!(body["events"].as_array().unwrap().len(), 1);
    for bad in ["0", "201", "x"] {
        let resp = app.get(&format!("/partner/sso_events?limit={bad}"), &app.partner).await;
        let err = expect_error(resp, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
        assert_eq!(details(&err), vec![(vec!["limit".to_string()], "INVALID_PARAMETER".to_string())], "{bad}");
    }
}

#[tokio::test]
async fn retention_keeps_the_newest_events_of_each_app() {
    let app = spawn_app_with_pinned_clock().await;
    let me = app.partner.app_id.parse().unwrap();
    for i in 0..5 {
        sso_events::record(&app.state, me, Outcome::Failed, Some("state_expired"), &format!("event {i}"), "c").await.unwrap();
        app.clock.advance(1);
    }
    // What this process logged is found without a walk of the whole log.
    let pruned = app.store.prune_sso_events(3, PruneScope::LoggedHere).await.unwrap();
    assert_eq!(pruned, 2);
    let left = sso_events::recent(&app.state, me, 50).await.unwrap();
    let details: Vec<&str> = left.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(details, ["event 4", "event 3", "event 2"]);
}

/// A sign-in that fails at the CTA is in the partner's log too, under the correlation id
/// the merchant's page shows.
#[tokio::test]
async fn failures_at_the_cta_are_logged() {
    let app = spawn_app_with(&[("CAUSEWAY_ALLOW_INSECURE_IDM", "true")]).await;
    let me = app.partner.app_id.parse().unwrap();
    let start = || async {
        let resp = app.client.get(app.cta()).send().await.unwrap();
        let correlation = resp.headers()["x-correlation-id"].to_str().unwrap().to_owned();
        (correlation, error_code(&resp.text().await.unwrap()).unwrap())
    };
    let newest = || async {
        let body: Value = app.get("/partner/sso_events?limit=1", &app.partner).await.json().await.unwrap();
        body["events"][0].clone()
    };
    let (correlation, code) = start().await;
    assert_eq!(code, "idm_not_configured");
    let event = newest().await;
    assert_eq!((event["outcome"].as_str(), event["error_code"].as_str()), (Some("failed"), Some("idm_not_configured")));
    assert_eq!(event["correlation_id"], correlation);

    // Discovery at an address where nothing listens.
    app.use_idm("http://127.0.0.1:9/", "https://partner.example/out").await;
    assert_eq!(start().await.1, "idm_unavailable");
    assert_eq!(newest().await["error_code"], "idm_unavailable");

    causeway::services::apps::set_status(&app.store, me, causeway::domain::app::AppStatus::Suspended).await.unwrap();
    assert_eq!(start().await.1, "app_suspended");
    let events = sso_events::recent(&app.state, me, 10).await.unwrap();
    let codes: Vec<_> = events.iter().map(|e| e.error_code.as_deref().unwrap()).collect();
    assert_eq!(codes, ["app_suspended", "idm_unavailable", "idm_not_configured"]);
}

/// Anyone can send a browser (or a script) to the callback with a made-up state: a flood of
/// them must not push the partner's real events out of its log, and the IdM's `error=` is
/// only worth recording once the answer is known to come back to the browser that started.
#[tokio::test]
async fn made_up_callbacks_do_not_flood_the_log_and_outsider_text_waits_for_the_binding() {
    let app = spawn_app_for_sso(&[]).await;
    let me = app.partner.app_id.parse().unwrap();
    let op = crate::support::fake_op::FakeOp::start().await;
    app.configure_idm(&op.config(serde_json::json!({}))).await;
    let callback = app.url(&format!("/sso/oidc/{}/callback", app.partner.app_id));
    for i in 0..30 {
        let page = app.client.get(format!("{callback}?state=junk-{i}&error=made_up")).send().await.unwrap().text().await.unwrap();
        assert_eq!(error_code(&page).as_deref(), Some("state_unknown"));
    }
    let logged = sso_events::recent(&app.state, me, 100).await.unwrap();
    assert_eq!(logged.len(), 10, "ten a minute reach the log");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"causeway_sso_logins_total{error_code="state_unknown",outcome="failed"} 30"#), "{metrics}");

    // A real flow, answered by an outsider's browser with an error text of its choosing.
    let browser_cookie = std::cell::RefCell::new(None::<String>);
    let start = || async {
        let mut request = app.client.get(app.cta());
        if let Some(cookie) = browser_cookie.borrow().clone() {
            request = request.header("cookie", cookie);
        }
        let resp = request.send().await.unwrap();
        if let Some(set) = resp.headers().get("set-cookie") {
            *browser_cookie.borrow_mut() = Some(set.to_str().unwrap().split(';').next().unwrap().to_owned());
        }
        let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
        location.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned()
    };
    let state = start().await;
    let outsider = format!("{callback}?state={state}&error=evil%E2%80%AEtxt.exe");
    let page = app.client.get(outsider).send().await.unwrap().text().await.unwrap();
    assert_eq!(error_code(&page).as_deref(), Some("flow_other_browser"));
    let newest = &sso_events::recent(&app.state, me, 1).await.unwrap()[0];
    assert_eq!(newest.error_code.as_deref(), Some("flow_other_browser"));
    assert!(!newest.detail.contains("evil"), "{}", newest.detail);

    // The starting browser's own answer: recorded, without the bidi override.
    let state = start().await;
    let cookie = browser_cookie.borrow().clone().unwrap();
    let page = app.client.get(format!("{callback}?state={state}&error=access_denied%E2%80%AE%00x")).header("cookie", cookie).send().await.unwrap().text().await.unwrap();
    assert_eq!(error_code(&page).as_deref(), Some("idm_error"));
    let newest = &sso_events::recent(&app.state, me, 1).await.unwrap()[0];
    assert!(newest.detail.contains("error=access_denied"), "{}", newest.detail);
    assert!(!newest.detail.contains('\u{202E}') && !newest.detail.contains('\0'), "{:?}", newest.detail);
}

/// While an IdM is down, merchants clicking at once cause one discovery request, and a
/// few seconds of clicks after it none; once it is back, the next click works (no restart).
#[tokio::test]
async fn an_idm_that_is_down_is_asked_once_not_by_every_click() {
    use std::sync::atomic::Ordering;
    let app = spawn_app_for_sso(&[]).await;
    let op = crate::support::fake_op::FakeOp::start().await;
    op.set(|b| b.discovery_down = true);
    app.configure_idm(&op.config(serde_json::json!({}))).await;
    let clicks = (0..8).map(|_| async { app.client.get(app.cta()).send().await.unwrap().text().await.unwrap() });
    for page in futures_util::future::join_all(clicks).await {
        assert_eq!(error_code(&page).as_deref(), Some("idm_unavailable"));
    }
    let page = app.client.get(app.cta()).send().await.unwrap().text().await.unwrap();
    assert_eq!(error_code(&page).as_deref(), Some("idm_unavailable"));
    assert_eq!(op.hits().discovery.load(Ordering::SeqCst), 1, "one request for nine clicks");

    op.set(|b| b.discovery_down = false);
    tokio::time::sleep(causeway::federation::cache::FAILURE_KEPT).await;
    let resp = app.client.get(app.cta()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND, "{}", resp.text().await.unwrap());
    assert_eq!(op.hits().discovery.load(Ordering::SeqCst), 2);
}
