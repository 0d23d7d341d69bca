//! A partner sees only its own objects: another partner's id is a 404, never a 403.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn another_partner_cannot_read_or_attach_to_my_objects() {
    let app = spawn_app().await;
    let a = app.partner.clone();
    let b = app.another_partner("Rival Platform").await;
    let le = app.legal_entity(&a).await;
    let resp = app.post_json("/accounts", &a, &json!({"legal_entity_id": le, "name": "A's shop"})).await;
    let account = resp.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

    let not_found_le = app.get(&format!("/legal_entities/{le}"), &b).await;
    let missing = app.get(&format!("/legal_entities/{}", uuid::Uuid::new_v4()), &b).await;
    let (x, y) = (
        expect_error(not_found_le, StatusCode::NOT_FOUND, "NOT_FOUND").await,
        expect_error(missing, StatusCode::NOT_FOUND, "NOT_FOUND").await,
    );
    assert_eq!(x, y, "another partner's object looks exactly like a missing one");
    expect_error(app.get(&format!("/accounts/{account}"), &b).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;

    let resp = app.post_json("/accounts", &b, &json!({"legal_entity_id": le, "name": "Hijack"})).await;
    expect_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    assert_eq!(app.count_accounts(&b).await, 0);
    assert_eq!(app.count_accounts(&a).await, 1);

    // A's own view is untouched.
    assert_eq!(app.get(&format!("/accounts/{account}"), &a).await.status(), StatusCode::OK);
}
