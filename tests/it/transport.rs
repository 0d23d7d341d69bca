//! Malformed requests: 4xx in the contract's shape, nothing written.

use reqwest::{Method, StatusCode};

use crate::helpers::*;

async fn raw(app: &TestApp, content_type: Option<&str>, api_version: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/legal_entities"))
        .header("App-Id", &app.partner.app_id)
        .header("App-Token", &app.partner.app_token)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    if let Some(v) = api_version {
        req = req.header("Api-Version", v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn malformed_requests_are_refused_and_write_nothing() {
    let app = spawn_app().await;
    let good = legal_entity_body().to_string().into_bytes();
    let json = Some("application/json");
    let v3 = Some("3.0");

    let err = expect_error(raw(&app, json, v3, b"{\"country\": ".to_vec()).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    assert_eq!(details(&err), vec![(vec![], "INVALID_JSON".to_string())]);
    let err = expect_error(raw(&app, json, v3, vec![]).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    assert_eq!(details(&err), vec![(vec![], "INVALID_JSON".to_string())]);

    let err = expect_error(raw(&app, Some("text/plain"), v3, good.clone()).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "INVALID_PARAMS").await;
    assert_eq!(details(&err), vec![(vec!["Content-Type".to_string()], "UNSUPPORTED_CONTENT_TYPE".to_string())]);
    expect_error(raw(&app, Some("application/x-www-form-urlencoded"), v3, good.clone()).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "INVALID_PARAMS").await;
    expect_error(raw(&app, None, v3, good.clone()).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "INVALID_PARAMS").await;

    for version in [Some("2.0"), Some("3"), Some(""), None] {
        let err = expect_error(raw(&app, json, version, good.clone()).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
        assert_eq!(details(&err), vec![(vec!["Api-Version".to_string()], "INVALID_API_VERSION".to_string())], "{version:?}");
    }

    // Just over 1 MiB of valid JSON: refused for its size, not its content.
    let padding = "x".repeat(1024 * 1024);
    let big = format!(r#"{{"country": "US", "controller": {{"email": "a@b.example"}}, "pad": "{padding}"}}"#);
    let err = expect_error(raw(&app, json, v3, big.into_bytes()).await, StatusCode::PAYLOAD_TOO_LARGE, "INVALID_PARAMS").await;
    assert_eq!(details(&err), vec![(vec![], "BODY_TOO_LARGE".to_string())]);

    assert_eq!(app.count_legal_entities(&app.partner).await, 0);
    // A charset parameter is fine.
    assert_eq!(raw(&app, Some("application/json; charset=utf-8"), v3, good).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn reads_need_the_api_version_too() {
    let app = spawn_app().await;
    let le = app.legal_entity(&app.partner).await;
    let resp = app
        .client
        .request(Method::GET, app.url(&format!("/legal_entities/{le}")))
        .header("App-Id", &app.partner.app_id)
        .header("App-Token", &app.partner.app_token)
        .send()
        .await
        .unwrap();
    expect_error(resp, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
}
