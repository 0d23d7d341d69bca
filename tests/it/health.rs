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
