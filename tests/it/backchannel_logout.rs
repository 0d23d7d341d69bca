//! OpenID Connect Back-Channel Logout 1.0 at `/sso/oidc/{app}/backchannel_logout`: valid
//! tokens end exactly the sessions they name (by `sid`, by `sub`), on every replica; each
//! of the certification's refusals answers 400 and leaves the session alive.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::form_browser::FormBrowser;
use crate::helpers::*;
use crate::support::fake_op::{FakeOp, CLIENT_ID, CLIENT_SECRET};

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// An app whose fake IdM names its session in ID tokens; `owner@shop.example` controls an
/// account, so signing in as them needs no grant.
async fn setup() -> (TestApp, FakeOp) {
    let app = spawn_app_for_sso(&[]).await;
    let op = FakeOp::start().await;
    app.configure_idm(&op.config(json!({}))).await;
    app.account(&app.partner, "owner@shop.example", "Shop").await;
    (app, op)
}

/// Signs in as `sub` in a new browser, the IdM's session being `sid`.
async fn signed_in(app: &TestApp, op: &FakeOp, sub: &str, sid: &str) -> FormBrowser {
    let (sub, sid) = (sub.to_owned(), sid.to_owned());
    op.set(|b| {
        b.subject = sub;
        b.id_token_claims = json!({"email": "owner@shop.example", "email_verified": true, "given_name": "Olive", "family_name": "Owner", "sid": sid});
    });
    let mut browser = FormBrowser::new();
    assert_eq!(app.sign_in(&mut browser, &[]).await, Ok("/merchant-center".into()));
    browser
}

async fn alive(app: &TestApp, browser: &mut FormBrowser) -> bool {
    match browser.get(&app.url("/merchant-center")).await.0 {
        StatusCode::OK => true,
        StatusCode::UNAUTHORIZED => false,
        other => panic!("the Merchant Center answered {other}"),
    }
}

fn claims(op: &FakeOp, edit: impl FnOnce(&mut Value)) -> Value {
    let mut claims = json!({"iss": op.issuer, "aud": CLIENT_ID, "iat": now(), "exp": now() + 120, "jti": uuid::Uuid::new_v4().to_string(),
        "sid": "op-session-1", "events": {EVENT: {}}});
    edit(&mut claims);
    claims
}

async fn deliver(app: &TestApp, token: &str) -> (StatusCode, Option<String>, Value) {
    let resp = app
        .client
        .post(app.url(&format!("/sso/oidc/{}/backchannel_logout", app.partner.app_id)))
        .form(&[("logout_token", token)])
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let cache = resp.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned());
    let text = resp.text().await.unwrap();
    (status, cache, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

fn unsigned(header: Value, claims: &Value, key: Option<&[u8]>) -> String {
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = key.map(|k| ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, k), input.as_bytes()).as_ref().to_vec()).unwrap_or_default();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[tokio::test]
async fn a_logout_by_sid_ends_that_idm_session_only_and_by_sub_every_session_of_the_user() {
    let (app, op) = setup().await;
    let mut first = signed_in(&app, &op, "owner-sub", "op-session-1").await;
    let mut second = signed_in(&app, &op, "owner-sub", "op-session-2").await;
    let mut other = signed_in(&app, &op, "other-sub", "op-session-3").await;

    let (status, cache, body) = deliver(&app, &op.sign(&claims(&op, |_| {}))).await;
    assert_eq!((status, cache.as_deref(), body), (StatusCode::OK, Some("no-store"), Value::Null));
    assert!(!alive(&app, &mut first).await, "the IdM session's Merchant Center session ended");
    assert!(alive(&app, &mut second).await && alive(&app, &mut other).await, "no other session did");

    // A session the IdM no longer has (or never had) here: still a success (§2.7).
    let (status, _, _) = deliver(&app, &op.sign(&claims(&op, |c| c["sid"] = json!("op-session-unknown")))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(alive(&app, &mut second).await);

    // sub alone: every session of that user, not another user's.
    let by_sub = claims(&op, |c| {
        c.as_object_mut().unwrap().remove("sid");
        c["sub"] = json!("owner-sub");
    });
    assert_eq!(deliver(&app, &op.sign(&by_sub)).await.0, StatusCode::OK);
    assert!(!alive(&app, &mut second).await);
    assert!(alive(&app, &mut other).await);
    // Both: that user's session in that IdM session.
    let both = claims(&op, |c| {
        c["sid"] = json!("op-session-3");
        c["sub"] = json!("someone-else");
    });
    assert_eq!(deliver(&app, &op.sign(&both)).await.0, StatusCode::OK);
    assert!(alive(&app, &mut other).await, "sid and sub must both match");
    let audit: Value = app.get("/partner/audit_events", &app.partner).await.json().await.unwrap();
    let idm_actions: Vec<&Value> = audit["events"].as_array().unwrap().iter().filter(|e| e["actor"] == "IdM").collect();
    assert_eq!(idm_actions.len(), 2, "each logout that ended sessions is in the audit trail: {audit:#}");
    assert!(idm_actions.iter().all(|e| e["action"] == "sessions.idm_logout"));
}

#[tokio::test]
async fn each_rule_of_section_2_6_refuses_with_400_and_the_session_lives() {
    let (app, op) = setup().await;
    let mut browser = signed_in(&app, &op, "owner-sub", "op-session-1").await;
    let replayed = op.sign(&claims(&op, |c| c["sid"] = json!("another-idm-session")));
    assert_eq!(deliver(&app, &replayed).await.0, StatusCode::OK, "the first delivery is acted on");
    let cases: Vec<(&str, String)> = vec![
        ("alg none", unsigned(json!({"alg": "none", "typ": "logout+jwt"}), &claims(&op, |_| {}), None)),
        ("HS256 with the client secret", unsigned(json!({"alg": "HS256", "typ": "logout+jwt"}), &claims(&op, |_| {}), Some(CLIENT_SECRET.as_bytes()))),
        ("no events", op.sign(&claims(&op, |c| drop(c.as_object_mut().unwrap().remove("events"))))),
        ("another event", op.sign(&claims(&op, |c| c["events"] = json!({"http://schemas.openid.net/event/other": {}})))),
        ("a nonce", op.sign(&claims(&op, |c| c["nonce"] = json!("n-1")))),
        ("another audience", op.sign(&claims(&op, |c| c["aud"] = json!("someone-else")))),
        ("another issuer", op.sign(&claims(&op, |c| c["iss"] = json!("https://evil.example")))),
        ("a replayed jti", replayed),
        ("a stale iat", op.sign(&claims(&op, |c| c["iat"] = json!(now() - 3600)))),
        ("iat in the future", op.sign(&claims(&op, |c| c["iat"] = json!(now() + 3600)))),
        ("expired", op.sign(&claims(&op, |c| c["exp"] = json!(now() - 3600)))),
        ("no jti", op.sign(&claims(&op, |c| drop(c.as_object_mut().unwrap().remove("jti"))))),
        ("neither sid nor sub", op.sign(&claims(&op, |c| drop(c.as_object_mut().unwrap().remove("sid"))))),
        ("a forged signature", {
            let token = op.sign(&claims(&op, |_| {}));
            let (signed, _) = token.rsplit_once('.').unwrap();
            format!("{signed}.{}", URL_SAFE_NO_PAD.encode([7u8; 64]))
        }),
        ("not a JWT", "logout".to_owned()),
    ];
    for (case, token) in cases {
        let (status, cache, body) = deliver(&app, &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(cache.as_deref(), Some("no-store"), "{case}");
        assert_eq!(body["error"], "invalid_request", "{case}");
        assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{case}");
        assert!(alive(&app, &mut browser).await, "{case}: the session must still be alive");
    }
    // No token at all, and a body that is not a form.
    let url = app.url(&format!("/sso/oidc/{}/backchannel_logout", app.partner.app_id));
    let empty = app.client.post(&url).form(&[("other", "x")]).send().await.unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let json_body = app.client.post(&url).json(&json!({"logout_token": "x"})).send().await.unwrap();
    assert_eq!(json_body.status(), StatusCode::BAD_REQUEST);
    let unknown_app = app.client.post(app.url("/sso/oidc/not-an-app/backchannel_logout")).form(&[("logout_token", "x")]).send().await.unwrap();
    assert_eq!(unknown_app.status(), StatusCode::BAD_REQUEST);
    // Another app's IdM cannot sign this app's users out: its tokens are not this IdM's.
    assert!(alive(&app, &mut browser).await);
}

#[tokio::test]
async fn a_logout_delivered_to_one_replica_ends_a_session_opened_on_another() {
    let (app, op) = setup().await;
    let mut browser = signed_in(&app, &op, "owner-sub", "op-session-1").await;
    // A second replica on the same database, reachable at its own address.
    let replica = spawn_app_on(app.db.same_database(), &[("CAUSEWAY_ALLOW_INSECURE_IDM", "true")]).await;
    let token = op.sign(&claims(&op, |_| {}));
    let resp = replica
        .client
        .post(replica.url(&format!("/sso/oidc/{}/backchannel_logout", app.partner.app_id)))
        .form(&[("logout_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(!alive(&app, &mut browser).await, "the session opened on the first replica ended");
    // The jti is used on every replica.
    assert_eq!(deliver(&app, &token).await.0, StatusCode::BAD_REQUEST);
}

/// `oidc-provider` with back-channel logout on: the merchant signs out at the IdM itself,
/// which posts a real logout token (with its `sid`) to Causeway.
#[tokio::test]
async fn a_real_idm_signing_the_user_out_ends_their_merchant_center_session() {
    use crate::idp::{causeway_client, person, OidcProvider};
    let app = spawn_app_for_sso(&[]).await;
    let account = app.account(&app.partner, "alice@shop.example", "Shop").await;
    let logout_url = "https://partner.example/bye";
    let mut client = causeway_client(&app, logout_url, "RS256");
    client["backchannel_logout_uri"] = json!(app.url(&format!("/sso/oidc/{}/backchannel_logout", app.partner.app_id)));
    client["backchannel_logout_session_required"] = json!(true);
    let idp = OidcProvider::start(json!({"backchannel_logout": true, "clients": [client], "accounts": [person("alice", "alice@shop.example", "Alice", &account)]})).await;
    app.use_idm(&idp.issuer, logout_url).await;
    let check: Value = app.post_json("/partner/idm/test", &app.partner, &json!({})).await.json().await.unwrap();
    let step = check["steps"].as_array().unwrap().iter().find(|s| s["name"] == "backchannel_logout").cloned().unwrap();
    assert_eq!(step["status"], "passed", "the live check sees it advertised: {step}");

    let mut browser = FormBrowser::new();
    assert_eq!(app.sign_in(&mut browser, &[("login", "alice"), ("password", "any")]).await, Ok("/merchant-center".into()));
    let mut other = FormBrowser::new();
    assert_eq!(app.sign_in(&mut other, &[("login", "alice"), ("password", "any")]).await, Ok("/merchant-center".into()));
    assert!(alive(&app, &mut browser).await);
    // Sign-out at the IdM, confirmed on its own page: the provider posts the logout token
    // before it answers.
    let end = format!("{}/session/end", idp.issuer);
    browser.run_until(&end, &format!("{}/session/end/success", idp.issuer), &[]).await;
    assert!(!alive(&app, &mut browser).await, "the IdM's logout ended the Merchant Center session");
    assert!(alive(&app, &mut other).await, "the same person's session in another IdM session lives on");
}
