//! Addresses off the merchant's path are pages with a way on: the front page, an unknown
//! address, a refused form, the signed-out page, and Back onto a used callback.

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::form_browser::FormBrowser;
use crate::helpers::*;
use crate::support::fake_op::FakeOp;

const CLAIM: &str = "https://partner.example/wepay_account_id";

async fn page(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let resp = app.client.get(app.url(path)).header("accept", "text/html,application/xhtml+xml").send().await.unwrap();
    let status = resp.status();
    let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, content_type, resp.text().await.unwrap())
}

#[tokio::test]
async fn the_front_page_and_unknown_addresses_are_pages_for_browsers_and_json_for_clients() {
    let app = spawn_app().await;
    let (status, content_type, html) = page(&app, "/").await;
    assert_eq!((status, content_type.starts_with("text/html")), (StatusCode::OK, true), "{html}");
    assert!(html.contains(r#"href="/partner-center""#) && html.contains(r#"href="/docs""#), "{html}");

    for path in ["/no/such/page", "/merchant-center/no-such-page", "/sso/no-such-page"] {
        let (status, content_type, html) = page(&app, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(content_type.starts_with("text/html") && html.contains("Page not found"), "{path}: {content_type} {html}");
    }
    // An API client (its App-Id, or no wish for HTML) keeps the contract's JSON.
    expect_error(app.get("/no/such/page", &app.partner).await, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app.client.get(app.url("/no/such/page")).send().await.unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
}

#[tokio::test]
async fn a_sign_out_that_is_not_a_form_gets_a_page_not_framework_text() {
    let app = spawn_app().await;
    let resp = app.client.post(app.url("/sso/logout")).header("content-type", "text/plain").body("x").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(resp.headers().contains_key("content-security-policy"));
    let html = resp.text().await.unwrap();
    assert!(html.contains("could not read what your browser sent"), "{html}");
}

#[tokio::test]
async fn an_http_1_1_request_without_host_is_refused() {
    let app = spawn_app().await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    // With a Host, the same request is served.
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: causeway\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// After a sign-in: Back onto the used callback goes on to the Merchant Center; after
/// sign-out the page wears the partner's look and signs in again through its CTA; a failed
/// sign-in offers to start again.
#[tokio::test]
async fn back_and_sign_out_lead_somewhere() {
    let app = spawn_app_for_sso(&[]).await;
    let account = app.account(&app.partner, "alice@shop.example", "Shop").await;
    let op = FakeOp::start().await;
    op.set(|b| b.id_token_claims = json!({"email": "alice@shop.example", "email_verified": true, "given_name": "Alice", "family_name": "Merchant", CLAIM: account}));
    app.configure_idm(&op.config(json!({}))).await;
    let resp = app.api(reqwest::Method::PUT, "/partner/branding", &app.partner).json(&json!({"display_name": "Acme Pay", "brand_color": "#0a7cff"})).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let mut browser = FormBrowser::new();
    let cta = app.url(&format!("/sso/oidc/{}", app.partner.app_id));
    let callback = app.url(&format!("/sso/oidc/{}/callback", app.partner.app_id));
    let back = browser.run_until(&cta, &callback, &[]).await;
    let (status, location, _) = browser.get(back.as_str()).await;
    assert_eq!((status, location.as_deref()), (StatusCode::FOUND, Some("/merchant-center")));
    let (status, location, _) = browser.get(back.as_str()).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/merchant-center")), "Back while signed in");

    let (_, _, overview) = browser.get(&app.url("/merchant-center")).await;
    let csrf = crate::form_browser::csrf(&overview);
    let (status, _, _) = browser.post(&app.url("/sso/logout"), &[("csrf_token", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, signed_out) = browser.get(&app.url("/merchant-center")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(signed_out.contains("Acme Pay"), "the partner's look: {signed_out}");
    assert!(signed_out.contains(&format!(r#"href="/sso/oidc/{}""#, app.partner.app_id)), "a way to sign in again: {signed_out}");

    // Signed out, Back onto the used callback: the error page offers to start again.
    let (status, _, failed) = browser.get(back.as_str()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&failed).as_deref(), Some("state_replayed"));
    assert!(failed.contains(&format!(r#"href="/sso/oidc/{}""#, app.partner.app_id)), "{failed}");
}
