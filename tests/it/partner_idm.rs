//! Partner API: IdM configuration, its validation, history and isolation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

pub fn idm_body(secret: Option<&str>) -> Value {
    let mut body = json!({
        "issuer": "https://idm.partner.example/",
        "client_id": "causeway-client",
        "token_endpoint_auth_method": "client_secret_basic",
        "domain": "partner.example",
        "logout_url": "https://partner.example/after-logout"
    });
    if let Some(secret) = secret {
        body["client_secret"] = json!(secret);
    }
    body
}

pub async fn put_idm(app: &TestApp, who: &Credentials, body: &Value) -> reqwest::Response {
    app.api(Method::PUT, "/partner/idm", who).json(body).send().await.unwrap()
}

async fn history(app: &TestApp, who: &Credentials) -> Vec<Value> {
    let resp = app.get("/partner/idm/history", who).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json::<Value>().await.unwrap()["versions"].as_array().unwrap().clone()
}

#[tokio::test]
async fn before_configuring_a_partner_sees_what_to_register() {
    let app = spawn_app().await;
    let view: Value = app.get("/partner/idm", &app.partner).await.json().await.unwrap();
    assert_eq!(view["configured"], false);
    assert_eq!(view["client_secret_set"], false);
    let id = &app.partner.app_id;
    assert_eq!(view["redirect_uri"], format!("http://127.0.0.1:8080/sso/oidc/{id}/callback"));
    assert_eq!(view["cta_url"], format!("http://127.0.0.1:8080/sso/oidc/{id}"));
    assert!(view.get("config").is_none());
}

#[tokio::test]
async fn the_secret_is_write_only_and_kept_across_edits() {
    let app = spawn_app().await;
    let secret = "never-show-me-0123456789";
    let resp = put_idm(&app, &app.partner, &idm_body(Some(secret))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(!text.contains(secret) && !text.contains("\"client_secret\""), "{text}");
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((view["configured"].clone(), view["client_secret_set"].clone(), view["version"].clone()), (json!(true), json!(true), json!(1)));
    assert_eq!(view["config"]["account_claim"], "https://partner.example/wepay_account_id");
    assert_eq!(view["config"]["scopes"], json!(["openid", "email", "profile"]));
    assert_eq!(view["config"]["clock_leeway_seconds"], 60, "the default leeway");

    // An edit without the secret keeps it.
    let mut edit = idm_body(None);
    edit["token_endpoint_auth_method"] = json!("client_secret_post");
    let view: Value = put_idm(&app, &app.partner, &edit).await.json().await.unwrap();
    assert_eq!(view["client_secret_set"], true);
    assert_eq!(view["version"], 2);
    assert_eq!(view["config"]["token_endpoint_auth_method"], "client_secret_post");

    for path in ["/partner/idm", "/partner/idm/history"] {
        let text = app.get(path, &app.partner).await.text().await.unwrap();
        assert!(!text.contains(secret), "{path} leaks the secret");
    }
}

#[tokio::test]
async fn the_first_configuration_needs_a_secret() {
    let app = spawn_app().await;
    let err = expect_error(put_idm(&app, &app.partner, &idm_body(None)).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    assert_eq!(details(&err), vec![(vec!["client_secret".to_string()], "MISSING_FIELD".to_string())]);
    assert!(history(&app, &app.partner).await.is_empty());
}

#[tokio::test]
async fn every_validation_rule_names_its_field_and_stores_nothing() {
    let app = spawn_app().await;
    let set = |field: &str, value: Value| {
        let mut body = idm_body(Some("s3cret"));
        body[field] = value;
        body
    };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("http issuer", set("issuer", json!("http://idm.partner.example/")), "issuer", "INSECURE_URL"),
        ("issuer with query", set("issuer", json!("https://idm.partner.example/?tenant=a")), "issuer", "INVALID_URL"),
        ("issuer with fragment", set("issuer", json!("https://idm.partner.example/#x")), "issuer", "INVALID_URL"),
        ("issuer not a URL", set("issuer", json!("idm.partner.example")), "issuer", "INVALID_URL"),
        ("issuer with credentials", set("issuer", json!("https://u:p@idm.partner.example/")), "issuer", "INVALID_URL"),
        ("empty client id", set("client_id", json!("")), "client_id", "INVALID_LENGTH"),
        ("empty secret", set("client_secret", json!("")), "client_secret", "INVALID_LENGTH"),
        ("unknown auth method", set("token_endpoint_auth_method", json!("private_key_jwt")), "token_endpoint_auth_method", "INVALID_VALUE"),
        ("domain with scheme", set("domain", json!("https://partner.example")), "domain", "INVALID_DOMAIN"),
        ("domain with path", set("domain", json!("partner.example/x")), "domain", "INVALID_DOMAIN"),
        ("single-label domain", set("domain", json!("partner")), "domain", "INVALID_DOMAIN"),
        ("http logout url", set("logout_url", json!("http://partner.example/bye")), "logout_url", "INSECURE_URL"),
        ("javascript logout url", set("logout_url", json!("javascript:alert(1)")), "logout_url", "INSECURE_URL"),
        ("http jwks", set("jwks_uri", json!("http://idm.partner.example/jwks")), "jwks_uri", "INSECURE_URL"),
        ("scopes without openid", set("scopes", json!(["email"])), "scopes", "INVALID_SCOPE"),
        ("scope with a space", set("scopes", json!(["openid", "a b"])), "scopes", "INVALID_SCOPE"),
        ("unknown field", set("client_name", json!("x")), "client_name", "UNKNOWN_FIELD"),
        ("leeway over 5 minutes", set("clock_leeway_seconds", json!(301)), "clock_leeway_seconds", "INVALID_VALUE"),
        ("negative leeway", set("clock_leeway_seconds", json!(-1)), "clock_leeway_seconds", "INVALID_VALUE"),
        ("missing domain", { let mut b = idm_body(Some("s")); b.as_object_mut().unwrap().remove("domain"); b }, "domain", "MISSING_FIELD"),
    ];
    for (name, body, field, reason) in cases {
        let err = expect_error(put_idm(&app, &app.partner, &body).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
        assert_eq!(details(&err), vec![(vec![field.to_string()], reason.to_string())], "{name}: {err}");
    }
    assert!(history(&app, &app.partner).await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn internal_addresses_are_refused_without_the_insecure_flag() {
    let app = spawn_app().await;
    let hosts = [
        "127.0.0.1", "10.1.2.3", "172.16.5.4", "172.31.0.9", "192.168.0.1", "169.254.169.254", "100.64.0.7", "[::1]", "[fc00::1]",
        "[fd00:ec2::254]", "[::ffff:127.0.0.1]", "0.0.0.0",
    ];
    for field in ["issuer", "token_endpoint", "jwks_uri", "userinfo_endpoint"] {
        for host in hosts {
            let mut body = idm_body(Some("s3cret"));
            body[field] = json!(format!("https://{host}/"));
            let err = expect_error(put_idm(&app, &app.partner, &body).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
            assert_eq!(details(&err), vec![(vec![field.to_string()], "FORBIDDEN_ADDRESS".to_string())], "{field} {host}");
        }
    }
    // A host name that resolves to loopback is refused too.
    let mut body = idm_body(Some("s3cret"));
    body["issuer"] = json!("https://localhost/");
    let err = expect_error(put_idm(&app, &app.partner, &body).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    assert_eq!(details(&err), vec![(vec!["issuer".to_string()], "FORBIDDEN_ADDRESS".to_string())]);
    // The message names the host, not what it resolves to (that would map the network).
    let message = err["details"][0]["message"].as_str().unwrap();
    assert!(message.contains("localhost") && !message.contains("127.0.0.1") && !message.contains("::1"), "{message}");
    assert!(history(&app, &app.partner).await.is_empty());
}

#[tokio::test]
async fn the_insecure_flag_allows_local_development_urls() {
    let app = spawn_app_with(&[("CAUSEWAY_ALLOW_INSECURE_IDM", "true")]).await;
    let mut body = idm_body(Some("s3cret"));
    body["issuer"] = json!("http://127.0.0.1:9000/");
    body["jwks_uri"] = json!("http://localhost:9000/jwks");
    assert_eq!(put_idm(&app, &app.partner, &body).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn history_records_each_change_and_restores_an_old_version() {
    let app = spawn_app().await;
    put_idm(&app, &app.partner, &idm_body(Some("first-secret"))).await;
    let mut second = idm_body(None);
    second["client_id"] = json!("renamed-client");
    put_idm(&app, &app.partner, &second).await;
    let mut third = idm_body(Some("second-secret"));
    third["domain"] = json!("broken.example");
    put_idm(&app, &app.partner, &third).await;

    let versions = history(&app, &app.partner).await;
    let summary: Vec<(i64, bool)> = versions.iter().map(|v| (v["version"].as_i64().unwrap(), v["secret_changed"].as_bool().unwrap())).collect();
    assert_eq!(summary, vec![(3, true), (2, false), (1, true)]);
    assert_eq!(versions[0]["config"]["domain"], "broken.example");
    assert_eq!(versions[0]["changed_by"], "Partner API");

    let resp = app.api(Method::POST, "/partner/idm/history/2/restore", &app.partner).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let view: Value = resp.json().await.unwrap();
    assert_eq!(view["version"], 4);
    assert_eq!(view["config"]["client_id"], "renamed-client");
    assert_eq!(view["config"]["domain"], "partner.example");
    let versions = history(&app, &app.partner).await;
    assert!(versions[0]["changed_by"].as_str().unwrap().contains("restored version 2"));
    assert_eq!(versions[0]["secret_changed"], true, "version 2 had the first secret, version 3 the second");

    let resp = app.api(Method::POST, "/partner/idm/history/99/restore", &app.partner).send().await.unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // A version that is no number is named as the parameter at fault, like a query's.
    for bad in ["two", "0", "-1", "1.5"] {
        let resp = app.api(Method::POST, &format!("/partner/idm/history/{bad}/restore"), &app.partner).send().await.unwrap();
        let err = expect_error(resp, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
        assert_eq!(details(&err), vec![(vec!["version".to_string()], "INVALID_PARAMETER".to_string())], "{bad}");
    }
    let resp = app.client.get(app.url("/partner/idm/history?limit=0")).header("App-Id", &app.partner.app_id)
        .header("App-Token", &app.partner.app_token).header("Api-Version", "3.0").send().await.unwrap();
    let err = expect_error(resp, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    assert_eq!(details(&err), vec![(vec!["limit".to_string()], "INVALID_PARAMETER".to_string())]);
}

#[tokio::test]
async fn partners_only_see_and_restore_their_own_configuration() {
    let app = spawn_app().await;
    let other = app.another_partner("Other Platform").await;
    put_idm(&app, &app.partner, &idm_body(Some("a-secret"))).await;
    let view: Value = app.get("/partner/idm", &other).await.json().await.unwrap();
    assert_eq!(view["configured"], false);
    assert!(history(&app, &other).await.is_empty());
    let resp = app.api(Method::POST, "/partner/idm/history/1/restore", &other).send().await.unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    let resp = app.api(Method::POST, "/partner/idm/test", &other).send().await.unwrap();
    expect_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    // Partner API calls need credentials like every API call.
    let resp = app.client.get(app.url("/partner/idm")).header("Api-Version", "3.0").send().await.unwrap();
    expect_error(resp, StatusCode::UNAUTHORIZED, "NOT_AUTHORIZED").await;
}

#[tokio::test]
async fn the_contracts_own_example_body_with_null_overrides_is_accepted() {
    let app = spawn_app().await;
    // As a client that serialises every unset field as null sends it (the contract's example).
    let body = json!({"issuer": "https://idm.partner.example/", "client_id": "causeway", "client_secret": "from-the-idm",
        "token_endpoint_auth_method": "client_secret_basic", "authorization_endpoint": null, "token_endpoint": null, "jwks_uri": null,
        "userinfo_endpoint": null, "end_session_endpoint": null, "domain": "partner.example",
        "logout_url": "https://partner.example/after-logout", "scopes": ["openid", "email", "profile"],
        "kind": null, "userinfo": null, "claims": {"email": null, "account": null}, "required_claims": null, "email_verified": null,
        "clock_leeway_seconds": null});
    let resp = put_idm(&app, &app.partner, &body).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let view: Value = resp.json().await.unwrap();
    let config = &view["config"];
    assert!(config.get("token_endpoint").is_none(), "null is not set: {config}");
    assert_eq!((config["kind"].as_str(), config["userinfo"].as_str(), config["email_verified"].as_str()), (Some("oidc"), Some("when_needed"), Some("required")));
    assert_eq!(config["required_claims"], json!(["email", "given_name", "family_name"]));
    assert_eq!(config["claims"]["account"], "https://partner.example/wepay_account_id");
}

#[tokio::test]
async fn the_identity_policy_is_validated_and_stored() {
    let app = spawn_app().await;
    let with = |extra: Value| {
        let mut body = idm_body(Some("s3cret"));
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let bad = with(json!({"kind": "saml", "userinfo": "sometimes", "required_claims": ["email", "sub"], "email_verified": "maybe",
        "claims": {"email": "", "account": "x\u{1}y"}}));
    let err = expect_error(put_idm(&app, &app.partner, &bad).await, StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    let found = details(&err);
    for (target, reason) in [
        (vec!["kind"], "INVALID_VALUE"),
        (vec!["userinfo"], "INVALID_VALUE"),
        (vec!["email_verified"], "INVALID_VALUE"),
        (vec!["claims", "email"], "INVALID_LENGTH"),
        (vec!["claims", "account"], "INVALID_CHARACTERS"),
        (vec!["required_claims", "1"], "INVALID_VALUE"),
    ] {
        let target: Vec<String> = target.into_iter().map(String::from).collect();
        assert!(found.contains(&(target.clone(), reason.to_string())), "{target:?} {reason} in {found:?}");
    }
    assert!(history(&app, &app.partner).await.is_empty(), "nothing stored");

    let good = with(json!({"userinfo": "always", "required_claims": ["phone_number"], "email_verified": "trusted_idm",
        "claims": {"phone_number": "msisdn", "account": "https://partner.example/merchant"}}));
    let view: Value = put_idm(&app, &app.partner, &good).await.json().await.unwrap();
    let config = &view["config"];
    assert_eq!(config["required_claims"], json!(["phone_number"]));
    assert_eq!((config["claims"]["phone_number"].as_str(), config["claims"]["email"].as_str()), (Some("msisdn"), Some("email")));
    assert_eq!((config["account_claim"].as_str(), config["claims"]["account"].as_str()), (Some("https://partner.example/merchant"), Some("https://partner.example/merchant")));
    assert_eq!((config["userinfo"].as_str(), config["email_verified"].as_str()), (Some("always"), Some("trusted_idm")));
    // An empty list is a choice too: nothing required.
    let none = with(json!({"required_claims": []}));
    let view: Value = put_idm(&app, &app.partner, &none).await.json().await.unwrap();
    assert_eq!(view["config"]["required_claims"], json!([]));
}
