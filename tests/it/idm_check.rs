//! `POST /partner/idm/test` against a real OpenID provider and against hostile fakes.

use std::time::{Duration, Instant};

use poem::{Route, get, handler};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::idp::{OidcProvider, discovery};
use crate::support::server::TestServer;
use crate::partner_idm::put_idm;

async fn insecure_app(extra: &[(&str, &str)]) -> TestApp {
    let mut overrides = vec![("CAUSEWAY_ALLOW_INSECURE_IDM", "true")];
    overrides.extend_from_slice(extra);
    spawn_app_with(&overrides).await
}

async fn configure(app: &TestApp, issuer: &str, method: &str) {
    let body = json!({
        "issuer": issuer,
        "client_id": "causeway",
        "client_secret": "s3cret",
        "token_endpoint_auth_method": method,
        "domain": "partner.example",
        "logout_url": "https://partner.example/bye"
    });
    let resp = put_idm(app, &app.partner, &body).await;
    assert_eq!(resp.status(), StatusCode::OK, "{}", resp.text().await.unwrap());
}

async fn run_test(app: &TestApp) -> Value {
    let resp = app.api(Method::POST, "/partner/idm/test", &app.partner).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

fn step<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["steps"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap_or_else(|| panic!("no step {name}: {report}"))
}

fn provider_config(extra: Value) -> Value {
    let mut config = json!({
        "clients": [{
            "client_id": "causeway",
            "client_secret": "s3cret",
            "redirect_uris": ["http://127.0.0.1:9/callback"],
            "token_endpoint_auth_method": "client_secret_post",
            "id_token_signed_response_alg": "ES256"
        }],
        "algorithms": ["ES256", "RS256"]
    });
    if let (Some(target), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        target.extend(extra.clone());
    }
    config
}

#[tokio::test]
async fn a_real_provider_passes_every_step() {
    let idp = OidcProvider::start(provider_config(json!({}))).await;
    let app = insecure_app(&[]).await;
    // oidc-provider's issuer has no trailing slash; Causeway compares exactly.
    configure(&app, &idp.issuer, "client_secret_post").await;
    let report = run_test(&app).await;
    assert_eq!(report["ok"], true, "{report:#}");
    for name in ["discovery", "issuer", "endpoints", "capabilities", "userinfo", "jwks"] {
        assert_eq!(step(&report, name)["status"], "passed", "{name}: {report:#}");
    }
    assert!(step(&report, "jwks")["detail"].as_str().unwrap().contains("2 usable"));
}

#[tokio::test]
async fn a_wrong_issuer_is_named_exactly() {
    let idp = OidcProvider::start(provider_config(json!({}))).await;
    let app = insecure_app(&[]).await;
    // A trailing slash the IdM does not use is the classic mistake.
    configure(&app, &format!("{}/", idp.issuer), "client_secret_post").await;
    let report = run_test(&app).await;
    assert_eq!(report["ok"], false);
    let issuer = step(&report, "issuer");
    assert_eq!(issuer["status"], "failed");
    assert!(issuer["detail"].as_str().unwrap().contains("must match exactly"), "{issuer}");
}

#[tokio::test]
async fn a_provider_advertising_another_issuer_fails_the_issuer_step() {
    let idp = OidcProvider::start(provider_config(json!({"issuer_override": "https://elsewhere.example"}))).await;
    let app = insecure_app(&[]).await;
    configure(&app, &idp.issuer, "client_secret_post").await;
    let report = run_test(&app).await;
    assert_eq!(step(&report, "issuer")["status"], "failed");
    assert!(step(&report, "issuer")["detail"].as_str().unwrap().contains("elsewhere.example"));
}

#[tokio::test]
async fn an_unreachable_host_fails_with_a_sentence_to_act_on() {
    // A port bound but not listening: connections are refused, and nobody else can take it.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let closed = socket.local_addr().unwrap();
    let app = insecure_app(&[]).await;
    configure(&app, &format!("http://{closed}/"), "client_secret_basic").await;
    let report = run_test(&app).await;
    assert_eq!(report["ok"], false);
    let discovery = step(&report, "discovery");
    assert_eq!(discovery["status"], "failed");
    let detail = discovery["detail"].as_str().unwrap();
    assert!(detail.contains("Could not fetch the discovery document") && detail.contains("configure authorization_endpoint"), "{detail}");
}

#[handler]
fn not_json() -> &'static str {
    "<html>this is not a key set</html>"
}

#[handler]
fn huge() -> String {
    format!("{{\"keys\": [], \"pad\": \"{}\"}}", "x".repeat(300 * 1024))
}

#[handler]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "{}"
}

#[handler]
fn symmetric_only() -> &'static str {
    r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}]}"#
}

async fn fake_with_jwks(jwks: Route) -> TestServer {
    TestServer::start(|base| {
        let doc = discovery(base, "/jwks");
        jwks.at("/.well-known/openid-configuration", get(poem::endpoint::make_sync(move |_| poem::web::Json(doc.clone()))))
    })
    .await
}

#[tokio::test]
async fn broken_key_sets_each_fail_the_jwks_step() {
    let cases: Vec<(&str, Route, &str)> = vec![
        ("not JSON", Route::new().at("/jwks", get(not_json)), "not valid JSON"),
        ("over the size cap", Route::new().at("/jwks", get(huge)), "larger than 262144 bytes"),
        ("only a symmetric key", Route::new().at("/jwks", get(symmetric_only)), "none Causeway can verify"),
        ("missing", Route::new(), "HTTP 404"),
    ];
    for (name, routes, expected) in cases {
        let fake = fake_with_jwks(routes).await;
        let app = insecure_app(&[]).await;
        configure(&app, &format!("{}/", fake.base), "client_secret_basic").await;
        let report = run_test(&app).await;
        assert_eq!(step(&report, "discovery")["status"], "passed", "{name}");
        let jwks = step(&report, "jwks");
        assert_eq!(jwks["status"], "failed", "{name}: {report:#}");
        assert!(jwks["detail"].as_str().unwrap().contains(expected), "{name}: {jwks}");
        assert_eq!(report["ok"], false);
    }
}

#[tokio::test]
async fn a_hanging_idm_fails_within_the_configured_timeout() {
    let fake = fake_with_jwks(Route::new().at("/jwks", get(slow))).await;
    let app = insecure_app(&[("CAUSEWAY_IDM_TIMEOUT_MS", "500")]).await;
    configure(&app, &format!("{}/", fake.base), "client_secret_basic").await;
    let started = Instant::now();
    let report = run_test(&app).await;
    let elapsed = started.elapsed();
    let jwks = step(&report, "jwks");
    assert_eq!(jwks["status"], "failed");
    assert!(jwks["detail"].as_str().unwrap().contains("no answer within"), "{jwks}");
    // The worker is released at the timeout, not when the IdM finally answers (30 s).
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[tokio::test]
async fn the_connect_time_guard_refuses_names_that_resolve_inside() {
    use causeway::domain::urls::UrlPolicy;
    use causeway::federation::http::{FetchError, OutboundClient};
    let fake = fake_with_jwks(Route::new()).await;
    let client = OutboundClient::new(UrlPolicy::Strict, Duration::from_secs(2)).unwrap();
    // The fake listens on loopback; reached through a name, the resolver refuses it.
    let port = fake.base.rsplit(':').next().unwrap();
    for url in [format!("https://localhost:{port}/.well-known/openid-configuration"), format!("https://127.0.0.1:{port}/")] {
        let err = client.get_json(&url::Url::parse(&url).unwrap(), 1024).await.unwrap_err();
        assert!(matches!(err, FetchError::ForbiddenAddress { .. }), "{url}: {err}");
        // What the partner reads does not say what the name resolves to.
        assert!(!err.to_string().contains("127.0.0.1)") && !err.to_string().contains("::1"), "{err}");
    }
    // Redirects are not followed.
    let insecure = OutboundClient::new(UrlPolicy::AllowInsecure, Duration::from_secs(2)).unwrap();
    let redirecting = TestServer::start(|_| {
        Route::new().at("/", get(poem::endpoint::make_sync(|_| poem::web::Redirect::temporary("http://169.254.169.254/latest"))))
    })
    .await;
    let err = insecure.get_json(&url::Url::parse(&format!("{}/", redirecting.base)).unwrap(), 1024).await.unwrap_err();
    assert!(matches!(err, FetchError::Redirect(307)), "{err}");
}

#[tokio::test]
async fn the_check_names_userinfo_and_secret_encoding_problems() {
    // A provider without userinfo in its discovery document.
    let idm = TestServer::start(|base| {
        let mut doc = discovery(base, "/jwks");
        doc["issuer"] = json!(base);
        Route::new()
            .at("/.well-known/openid-configuration", get(poem::endpoint::make_sync(move |_| poem::web::Json(doc.clone()))))
            .at("/jwks", get(poem::endpoint::make_sync(|_| poem::web::Json(json!({"keys": [causeway::federation::oidc::signer::Signer::es256("k").unwrap().jwk]})))))
    })
    .await;
    let app = insecure_app(&[]).await;
    let body = json!({"issuer": idm.base, "client_id": "causeway", "client_secret": "with+plus/and=equals", "token_endpoint_auth_method": "client_secret_basic",
        "domain": "partner.example", "logout_url": "https://partner.example/bye", "userinfo": "always"});
    assert_eq!(put_idm(&app, &app.partner, &body).await.status(), StatusCode::OK);
    let report = run_test(&app).await;
    assert_eq!(step(&report, "userinfo")["status"], "failed", "{report:#}");
    assert_eq!(report["ok"], false);
    let capabilities = step(&report, "capabilities");
    assert_eq!(capabilities["status"], "warning", "{report:#}");
    assert!(capabilities["detail"].as_str().unwrap().contains("client_secret_post"), "{capabilities}");
    // "when needed" without an endpoint is a warning: the ID token must carry everything.
    let mut when_needed = body.clone();
    when_needed["userinfo"] = json!("when_needed");
    when_needed.as_object_mut().unwrap().remove("client_secret");
    assert_eq!(put_idm(&app, &app.partner, &when_needed).await.status(), StatusCode::OK);
    assert_eq!(step(&run_test(&app).await, "userinfo")["status"], "warning");
}
