//! Partners whose IdM is not OpenID Connect: the hosted-login connector against an IdM
//! written from seed 000, end to end — the full login for the controller and for granted
//! staff, the seed's §9 negative tests seen from Causeway's side, key rotation, inactive
//! users, slow and broken exchanges, the live check, and the service key kept secret.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fake_hosted_idm::{user, Exchange, HostedIdm, Site};
use crate::form_browser::FormBrowser;
use crate::helpers::*;

const SITE: &str = "causeway";
const KEY: &str = "wesb-site-key-0123456789abcdef";
const LOGOUT_URL: &str = "https://weststar.example/signed-out";

struct Setup {
    app: TestApp,
    idm: HostedIdm,
    account: String,
}

fn callback_of(app: &TestApp) -> String {
    format!("{}/sso/oidc/{}/callback", app.url(""), app.partner.app_id)
}

fn config(idm: &HostedIdm, key: Option<&str>) -> Value {
    let mut config = json!({"kind": "hosted_login", "base_url": idm.base, "site_key": SITE, "user_id_field": "wesb_user_id", "logout_url": LOGOUT_URL});
    if let Some(key) = key {
        config["service_key"] = json!(key);
    }
    config
}

async fn setup() -> Setup {
    let app = spawn_app_for_sso(&[("CAUSEWAY_IDM_TIMEOUT_MS", "1000")]).await;
    let account = app.account(&app.partner, "controller@weststar.example", "Weststar Ops").await;
    let sites = vec![
        Site { site_key: SITE.into(), callbacks: vec![callback_of(&app)], service_key: KEY.into() },
        Site { site_key: "atp".into(), callbacks: vec!["https://atp.weststar.example/auth/callback".into()], service_key: "atp-key".into() },
    ];
    let users = vec![
        user(101, "controller@weststar.example", "Casey"),
        user(102, "staff@weststar.example", "Sam"),
        user(103, "retired@weststar.example", "Rita"),
        user(104, "clerk@weststar.example", "Cleo"),
    ];
    let idm = HostedIdm::start(sites, users).await;
    app.configure_idm(&config(&idm, Some(KEY))).await;
    Setup { app, idm, account }
}

fn as_user(email: &str) -> [(&str, &str); 2] {
    [("login", email), ("password", "any")]
}

async fn overview(browser: &mut FormBrowser, app: &TestApp) -> String {
    let (status, _, page) = browser.get(&app.url("/merchant-center")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

#[tokio::test]
async fn the_controller_and_granted_staff_sign_in() {
    let s = setup().await;
    // The CTA goes to the hosted login page with the site key, the callback and a state.
    let cta = s.app.client.get(s.app.cta()).send().await.unwrap();
    assert_eq!(cta.status(), StatusCode::FOUND);
    let location = url::Url::parse(cta.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.as_str().split('?').next().unwrap(), format!("{}/connect/login", s.idm.base));
    let q: std::collections::HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!((q["site_key"].as_str(), q["redirect_uri"].clone()), (SITE, callback_of(&s.app)));
    assert!(q["state"].len() >= 32);
    assert!(!location.as_str().contains(KEY), "the service key never reaches a browser");

    let mut casey = FormBrowser::new();
    assert_eq!(s.app.sign_in(&mut casey, &as_user("controller@weststar.example")).await, Ok("/merchant-center".into()));
    let page = overview(&mut casey, &s.app).await;
    assert!(page.contains("Weststar Ops") && page.contains("Financial admin") && page.contains("Casey Staff"), "{page}");

    // Staff without a grant: refused, with both ways to grant access named.
    assert_eq!(s.app.sign_in(&mut FormBrowser::new(), &as_user("staff@weststar.example")).await, Err("account_not_granted".into()));
    let by_id = s.app.post_json(&format!("/accounts/{}/users", s.account), &s.app.partner, &json!({"idm_subject": "102"})).await;
    assert_eq!(by_id.status(), StatusCode::CREATED);
    let by_email = s.app.post_json(&format!("/accounts/{}/users", s.account), &s.app.partner, &json!({"email": "Clerk@Weststar.example"})).await;
    assert_eq!(by_email.status(), StatusCode::CREATED);
    for email in ["staff@weststar.example", "clerk@weststar.example"] {
        let mut browser = FormBrowser::new();
        assert_eq!(s.app.sign_in(&mut browser, &as_user(email)).await, Ok("/merchant-center".into()), "{email}");
        assert!(overview(&mut browser, &s.app).await.contains("Moderator"), "{email}");
    }
    let users: Value = s.app.get(&format!("/accounts/{}/users", s.account), &s.app.partner).await.json().await.unwrap();
    let sources: Vec<&str> = users["users"].as_array().unwrap().iter().map(|u| u["source"].as_str().unwrap()).collect();
    assert_eq!(sources, vec!["grant", "grant", "controller"], "{users}");

    // Sign-out goes to the partner's logout URL (no end-session endpoint in this protocol).
    let token = crate::form_browser::csrf(&overview(&mut casey, &s.app).await);
    let (status, location, _) = casey.post(&s.app.url("/sso/logout"), &[("csrf_token", &token)]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some(LOGOUT_URL)));
    assert_eq!(casey.get(&s.app.url("/merchant-center")).await.0, StatusCode::UNAUTHORIZED);
}

/// A sign-in started at the CTA whose callback carries `code` instead of the IdM's.
async fn callback_with(s: &Setup, code: &str) -> Result<String, String> {
    let mut browser = FormBrowser::new();
    let (_, location, _) = browser.get(&s.app.cta()).await;
    let location = url::Url::parse(&location.unwrap()).unwrap();
    let state = location.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let mut callback = url::Url::parse(&callback_of(&s.app)).unwrap();
    callback.query_pairs_mut().append_pair("code", code).append_pair("state", &state);
    let (status, location, page) = browser.get(callback.as_str()).await;
    match (status, location) {
        (StatusCode::FOUND, Some(location)) => Ok(location),
        _ => Err(error_code(&page).unwrap_or_else(|| panic!("{status}: {page}"))),
    }
}

#[tokio::test]
async fn the_seeds_negative_tests_from_causeways_side() {
    let s = setup().await;
    // §9.4: a code exchanged once is refused the second time.
    let code = s.idm.issue_code(SITE, "controller@weststar.example");
    assert_eq!(callback_with(&s, &code).await, Ok("/merchant-center".into()));
    assert_eq!(callback_with(&s, &code).await, Err("code_rejected".into()));
    // §9.5: another site's code is refused with this site's key.
    let foreign = s.idm.issue_code("atp", "controller@weststar.example");
    assert_eq!(callback_with(&s, &foreign).await, Err("code_rejected".into()));
    assert_eq!(callback_with(&s, "made-up").await, Err("code_rejected".into()));
    // §9.2: a wrong key is 401, which names the key as the cause.
    s.app.configure_idm(&config(&s.idm, Some("not-the-key"))).await;
    assert_eq!(s.app.sign_in(&mut FormBrowser::new(), &as_user("controller@weststar.example")).await, Err("idm_credentials_rejected".into()));
    let events: Value = s.app.get("/partner/sso_events", &s.app.partner).await.json().await.unwrap();
    assert!(events["events"][0]["detail"].as_str().unwrap().contains("rotated"), "{events}");
    // §9.3: a callback the IdM has not approved: its login page refuses, and the live check says why.
    let unapproved = json!({"kind": "hosted_login", "base_url": s.idm.base, "site_key": "atp", "service_key": "atp-key",
        "user_id_field": "wesb_user_id", "logout_url": LOGOUT_URL});
    s.app.configure_idm(&unapproved).await;
    let report: Value = s.app.api(Method::POST, "/partner/idm/test", &s.app.partner).send().await.unwrap().json().await.unwrap();
    assert_eq!(report["steps"][0]["name"], "login");
    assert_eq!(report["steps"][0]["status"], "failed", "{report}");
    assert!(report["steps"][0]["detail"].as_str().unwrap().contains(&callback_of(&s.app)), "names the callback to approve: {report}");
    assert_eq!(s.app.count_merchant_sessions().await, 1, "only the one good sign-in");
}

#[tokio::test]
async fn a_key_rotated_at_the_idm_is_replaced_in_the_partner_center() {
    let s = setup().await;
    assert!(s.app.sign_in(&mut FormBrowser::new(), &as_user("controller@weststar.example")).await.is_ok());
    let new_key = s.idm.rotate_key(SITE);
    assert_eq!(s.app.sign_in(&mut FormBrowser::new(), &as_user("controller@weststar.example")).await, Err("idm_credentials_rejected".into()));
    // The partner pastes the new key in the Partner Center's form.
    let browser = crate::pc_client::PcClient::new(&s.app);
    let csrf = browser.sign_in(&s.app.partner).await;
    let form = browser.get("/partner-center/idm").await;
    assert!(form.body.contains("id=\"hosted-form\"") && form.body.contains("value=\"causeway\""), "the hosted-login form, filled");
    assert!(!form.body.contains(KEY), "the key is never shown");
    let base = s.idm.base.clone();
    let saved = browser
        .post("/partner-center/idm", &[("kind", "hosted_login"), ("base_url", &base), ("site_key", SITE), ("service_key", &new_key),
            ("user_id_field", "wesb_user_id"), ("logout_url", LOGOUT_URL), ("csrf_token", &csrf)])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert!(s.app.sign_in(&mut FormBrowser::new(), &as_user("controller@weststar.example")).await.is_ok());
    let view: Value = s.app.get("/partner/idm", &s.app.partner).await.json().await.unwrap();
    assert_eq!((view["kind"].as_str(), view["service_key_set"].as_bool(), view["client_secret_set"].as_bool()), (Some("hosted_login"), Some(true), Some(false)));
    assert!(!view.to_string().contains(&new_key));
}

#[tokio::test]
async fn inactive_users_and_broken_exchanges() {
    let s = setup().await;
    s.idm.set_status("controller@weststar.example", "suspended");
    assert_eq!(s.app.sign_in(&mut FormBrowser::new(), &as_user("controller@weststar.example")).await, Err("user_inactive".into()));
    s.idm.set_status("controller@weststar.example", "active");
    for (mode, name) in [(Exchange::Status(503), "5xx"), (Exchange::NotJson, "not JSON"), (Exchange::Hang, "no answer in time")] {
        s.idm.set_exchange(mode);
        let started = std::time::Instant::now();
        assert_eq!(s.app.sign_in(&mut FormBrowser::new(), &as_user("controller@weststar.example")).await, Err("idm_unavailable".into()), "{name}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{name} within the timeout");
    }
    s.idm.set_exchange(Exchange::Normal);
    assert!(s.app.sign_in(&mut FormBrowser::new(), &as_user("controller@weststar.example")).await.is_ok(), "back without a restart");
    assert_eq!(s.app.count_merchant_sessions().await, 1);
}

#[tokio::test]
async fn the_live_check_and_the_secret() {
    let s = setup().await;
    let run = || async { s.app.api(Method::POST, "/partner/idm/test", &s.app.partner).send().await.unwrap().json::<Value>().await.unwrap() };
    let report = run().await;
    assert_eq!(report["ok"], true, "{report}");
    let names: Vec<&str> = report["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["login", "exchange"]);
    let exchanges_before = s.idm.exchanges();
    s.idm.rotate_key(SITE);
    let report = run().await;
    assert_eq!(report["steps"][1]["status"], "failed");
    assert!(report["steps"][1]["detail"].as_str().unwrap().contains("401"), "{report}");
    assert!(s.idm.exchanges() > exchanges_before);

    // The key: sealed with its own context, never in the API, the database, logs or metrics.
    let app_id = s.app.partner.app_id.parse().unwrap();
    let row = s.app.store.current_idm_version(app_id).await.unwrap().unwrap();
    let sealed_key = row.client_secret_sealed.unwrap();
    use causeway::domain::idm_config::Kind;
    use causeway::services::idm::secret_context;
    use secrecy::ExposeSecret;
    let opened = causeway::crypto::sealed::open(&s.app.state.keyring, &secret_context(app_id, Kind::HostedLogin), &sealed_key).unwrap();
    assert_eq!(opened.expose_secret(), KEY);
    assert!(causeway::crypto::sealed::open(&s.app.state.keyring, &secret_context(app_id, Kind::Oidc), &sealed_key).is_err(), "not a client secret");
    assert!(!s.app.database_text(&["idm_config_versions"]).await.contains(KEY));
    for path in ["/partner/idm", "/partner/idm/history", "/metrics"] {
        let text = s.app.api(Method::GET, path, &s.app.partner).send().await.unwrap().text().await.unwrap();
        assert!(!text.contains(KEY), "{path}");
    }
    // Master-key rotation reseals it under the new key, with its own context still.
    let keyring = causeway::startup::load_keyring(&s.app.state.settings).unwrap();
    causeway::services::master_key::rotate(&s.app.store, keyring).await.unwrap();
    let rotated = causeway::startup::load_keyring(&s.app.state.settings).unwrap();
    let row = s.app.store.current_idm_version(app_id).await.unwrap().unwrap();
    let resealed = row.client_secret_sealed.unwrap();
    assert_eq!(causeway::crypto::sealed::key_id(&resealed), Some(rotated.current().id.as_str()));
    assert_eq!(causeway::crypto::sealed::open(&rotated, &secret_context(app_id, Kind::HostedLogin), &resealed).unwrap().expose_secret(), KEY);
}

#[tokio::test]
async fn switching_kinds_keeps_the_history() {
    let s = setup().await;
    let oidc = json!({"issuer": "http://127.0.0.1:9/", "client_id": "c", "client_secret": "s", "domain": "partner.example", "logout_url": LOGOUT_URL});
    s.app.configure_idm(&oidc).await;
    // A switch back needs the kind's own secret: the OIDC secret is no service key.
    let err = expect_error(
        s.app.api(Method::PUT, "/partner/idm", &s.app.partner).json(&config(&s.idm, None)).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "INVALID_PARAMS",
    )
    .await;
    assert_eq!(details(&err), vec![(vec!["service_key".to_string()], "MISSING_FIELD".to_string())]);
    // Fields of the other kind are refused, not ignored.
    let mut mixed = config(&s.idm, Some(KEY));
    mixed["issuer"] = json!("https://idm.partner.example/");
    mixed["client_secret"] = json!("nope");
    let err = expect_error(s.app.api(Method::PUT, "/partner/idm", &s.app.partner).json(&mixed).send().await.unwrap(), StatusCode::BAD_REQUEST, "INVALID_PARAMS").await;
    let found = details(&err);
    assert!(found.contains(&(vec!["issuer".to_string()], "UNKNOWN_FIELD".to_string())) && found.contains(&(vec!["client_secret".to_string()], "UNKNOWN_FIELD".to_string())), "{found:?}");
    // Restoring the hosted-login version brings its sealed key back with it.
    let restored = s.app.api(Method::POST, "/partner/idm/history/1/restore", &s.app.partner).send().await.unwrap();
    assert_eq!(restored.status(), StatusCode::OK);
    assert!(s.app.sign_in(&mut FormBrowser::new(), &as_user("controller@weststar.example")).await.is_ok());
    let history: Value = s.app.get("/partner/idm/history", &s.app.partner).await.json().await.unwrap();
    let kinds: Vec<&str> = history["versions"].as_array().unwrap().iter().map(|v| v["config"]["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["hosted_login", "oidc", "hosted_login"]);
}
