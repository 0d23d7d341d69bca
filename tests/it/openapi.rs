//! The committed spec (`openapi/causeway.json`) is the served one. Run with
//! CAUSEWAY_UPDATE_OPENAPI=1 to rewrite the committed file after an API change.

use serde_json::Value;

use crate::helpers::*;

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/causeway.json")
}

#[tokio::test]
async fn committed_spec_matches_the_served_one() {
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    let served = resp.text().await.unwrap();
    // Byte for byte: clients generated from either copy are the same, field order included.
    if std::env::var("CAUSEWAY_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(committed_path(), &served).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap();
    assert!(
        committed == served,
        "openapi/causeway.json differs from /openapi.json; rerun this test with CAUSEWAY_UPDATE_OPENAPI=1 and commit the file"
    );
    let served_json: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(served_json["servers"][0]["url"], app.state.settings.public_url, "names the Causeway serving it");
    for path in ["/legal_entities", "/legal_entities/{id}", "/accounts", "/accounts/{id}"] {
        assert!(served_json["paths"][path].is_object(), "{path} is documented");
    }
}

#[tokio::test]
async fn swagger_ui_is_served_without_external_assets() {
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("swagger"), "looks like Swagger UI");
    assert!(html.contains("\"openapi\": \"3.1.0\""), "shows the served document");
    for external in ["src=\"http", "href=\"http", "src='http", "href='http"] {
        assert!(!html.contains(external), "no asset from another origin ({external})");
    }
}
