use crate::helpers::*;

#[tokio::test]
async fn liveness_and_readiness_answer() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let resp = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert!(resp.headers().contains_key("x-correlation-id"));
    }
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.store.close().await;
    let resp = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    // Liveness does not depend on the database.
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_error_shape() {
    let app = spawn_app().await;
    let resp = app.get("/no/such/path", &app.partner).await;
    expect_error(resp, reqwest::StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app.api(reqwest::Method::DELETE, "/accounts", &app.partner).send().await.unwrap();
    expect_error(resp, reqwest::StatusCode::METHOD_NOT_ALLOWED, "INVALID_PARAMS").await;
}

/// A database that cannot be reached (here: its pools closed, as during a restart) is not an
/// unexpected error: clients get 503 with Retry-After and know to try again.
#[tokio::test]
async fn an_unreachable_database_answers_503_with_retry_after() {
    let app = spawn_app().await;
    app.store.close().await;
    let resp = app
        .api(reqwest::Method::POST, "/legal_entities", &app.partner)
        .header("Unique-Key", "retry-me")
        .json(&legal_entity_body())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()).as_deref(), Some("2"));
    let body = expect_error(resp, reqwest::StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE").await;
    assert!(body["error_message"].as_str().unwrap().contains("retry"), "{body}");
}
