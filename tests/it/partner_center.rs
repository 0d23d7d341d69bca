//! Partner Center over plain HTTP: sign-in, sessions, CSRF, security headers.
//! (Forms and what they store: `partner_center_forms.rs`; real browser: `browser.rs`.)

use causeway::domain::app::AppStatus;
use causeway::services::apps;
use reqwest::StatusCode;

use crate::helpers::{spawn_app, spawn_app_on, spawn_app_with};
use crate::pc_client::{PcClient, SESSION_COOKIE};

const FAILED: &str = causeway::partner_center::SIGN_IN_FAILED_MESSAGE;

/// The text of the sign-in page's error alert.
fn alert(body: &str) -> String {
    let start = body.find("id=\"sign-in-error\">").map(|i| i + "id=\"sign-in-error\">".len()).expect("an error alert");
    body[start..].split('<').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn failed_sign_ins_look_alike_and_open_no_session() {
    let app = spawn_app().await;
    let browser = PcClient::new(&app);
    let other = app.another_partner("Other Platform").await;
    let attempts = [
        (app.partner.app_id.clone(), "cwt_wrong".to_owned()),
        (app.partner.app_id.clone(), other.app_token.clone()),
        (uuid::Uuid::new_v4().to_string(), app.partner.app_token.clone()),
        ("not-an-id".to_owned(), app.partner.app_token.clone()),
        (String::new(), String::new()),
    ];
    for (app_id, token) in attempts {
        let page = browser.try_sign_in(&app_id, &token).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{app_id}");
        assert_eq!(alert(&page.body), FAILED, "the same message whichever half was wrong");
        assert!(page.set_cookies().iter().all(|c| !c.starts_with(SESSION_COOKIE)), "no session cookie");
        assert!(!page.body.contains(&token) || token.is_empty(), "the token is not echoed");
    }
    assert_eq!(browser.cookie(SESSION_COOKIE), None);
    assert_eq!(app.store.count_partner_sessions(app.partner.app_id.parse().unwrap()).await.unwrap(), 0);
    assert_eq!(browser.get("/partner-center").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_opens_a_server_side_session_with_a_hardened_cookie() {
    let app = spawn_app().await;
    let browser = PcClient::new(&app);
    let page = browser.try_sign_in(&app.partner.app_id, &app.partner.app_token).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let cookie = page.set_cookies().into_iter().find(|c| c.starts_with(&format!("{SESSION_COOKIE}="))).expect("session cookie");
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    for wanted in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attributes.contains(&wanted), "{wanted} in {cookie}");
    }
    assert!(!attributes.iter().any(|a| a.starts_with("Domain")), "__Host- cookies carry no Domain: {cookie}");
    let id = browser.cookie(SESSION_COOKIE).unwrap();
    assert!(id.len() >= 43, "256-bit session id");
    assert_eq!(app.store.count_partner_sessions(app.partner.app_id.parse().unwrap()).await.unwrap(), 1);

    let overview = browser.get("/partner-center").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.body.contains("Acme Platform"));
    // The database holds a hash, never the cookie value.
    if let Some(path) = app.db.sqlite_path() {
        let bytes = std::fs::read(path).unwrap();
        assert!(!bytes.windows(id.len()).any(|w| w == id.as_bytes()), "session id stored in clear");
    }

    let signed_in_page = browser.get("/partner-center/sign-in").await;
    assert_eq!(signed_in_page.status, StatusCode::SEE_OTHER, "a signed-in partner skips the form");
}

#[tokio::test]
async fn a_new_id_at_every_sign_in() {
    let app = spawn_app().await;
    let browser = PcClient::new(&app);
    browser.sign_in(&app.partner).await;
    let first = browser.cookie(SESSION_COOKIE).unwrap();
    // Fixation: whatever session id the browser holds when it signs in is replaced.
    browser.forget_cookie(SESSION_COOKIE);
    let form = browser.get("/partner-center/sign-in").await;
    browser.set_cookie(SESSION_COOKIE, &first);
    let creds = [("app_id", app.partner.app_id.as_str()), ("app_token", app.partner.app_token.as_str()), ("csrf_token", &form.csrf())];
    let page = browser.post("/partner-center/sign-in", &creds).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_ne!(browser.cookie(SESSION_COOKIE).unwrap(), first);
    let stale = PcClient::new(&app);
    stale.set_cookie(SESSION_COOKIE, &first);
    assert_eq!(stale.get("/partner-center").await.status, StatusCode::SEE_OTHER, "the old id no longer works");
    assert_eq!(app.store.count_partner_sessions(app.partner.app_id.parse().unwrap()).await.unwrap(), 1);
}

#[tokio::test]
async fn the_sign_in_form_needs_its_csrf_pair() {
    let app = spawn_app().await;
    let browser = PcClient::new(&app);
    let form = browser.get("/partner-center/sign-in").await;
    let csrf = form.csrf();
    let creds = [("app_id", app.partner.app_id.as_str()), ("app_token", app.partner.app_token.as_str())];
    let wrong = browser.post("/partner-center/sign-in", &[creds[0], creds[1], ("csrf_token", "forged")]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("This form has expired"));
    let missing = browser.post("/partner-center/sign-in", &creds).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    // The right token without its cookie (a cross-site form cannot send it) is refused too.
    let cookieless = PcClient::new(&app);
    let no_cookie = cookieless.post("/partner-center/sign-in", &[creds[0], creds[1], ("csrf_token", &csrf)]).await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.count_partner_sessions(app.partner.app_id.parse().unwrap()).await.unwrap(), 0);
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = spawn_app().await;
    let browser = PcClient::new(&app);
    let csrf = browser.sign_in(&app.partner).await;
    let id = browser.cookie(SESSION_COOKIE).unwrap();

    let refused = browser.post("/partner-center/sign-out", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "sign-out is CSRF-checked too");
    assert_eq!(browser.get("/partner-center").await.status, StatusCode::OK);

    let out = browser.post("/partner-center/sign-out", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/partner-center/sign-in?signed_out=1");
    assert!(out.set_cookies().iter().any(|c| c.starts_with(&format!("{SESSION_COOKIE}=;")) && c.contains("Max-Age=0")));
    assert_eq!(app.store.count_partner_sessions(app.partner.app_id.parse().unwrap()).await.unwrap(), 0);
    // Replaying the old cookie gets nowhere.
    browser.set_cookie(SESSION_COOKIE, &id);
    let after = browser.get("/partner-center").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location(), "/partner-center/sign-in?ended=1");
}

#[tokio::test]
async fn suspending_the_app_or_rotating_its_token_ends_its_sessions() {
    let app = spawn_app().await;
    let id = app.partner.app_id.parse().unwrap();
    let browser = PcClient::new(&app);
    browser.sign_in(&app.partner).await;
    apps::set_status(&app.store, id, AppStatus::Suspended).await.unwrap();
    assert_eq!(browser.get("/partner-center").await.status, StatusCode::SEE_OTHER);
    let refused = browser.try_sign_in(&app.partner.app_id, &app.partner.app_token).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "a suspended app cannot sign in");

    apps::set_status(&app.store, id, AppStatus::Active).await.unwrap();
    browser.sign_in(&app.partner).await;
    // Even within the same second as sign-in: the session is bound to the token itself.
    apps::rotate_token(&app.store, &app.clock, id).await.unwrap();
    let page = browser.get("/partner-center/idm").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(app.store.count_partner_sessions(id).await.unwrap(), 0);
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_app_id_and_address() {
    let app = spawn_app().await;
    let other = app.another_partner("Other Platform").await;
    let browser = PcClient::new(&app);
    for _ in 0..10 {
        let page = browser.try_sign_in(&app.partner.app_id, "cwt_guess").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right token waits: the budget is per App-Id and address, not per guess.
    let page = browser.try_sign_in(&app.partner.app_id, &app.partner.app_token).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.header("retry-after").parse::<u64>().unwrap() > 0);
    assert!(page.body.contains("Too many failed sign-ins"));
    assert_eq!(browser.cookie(SESSION_COOKIE), None);
    // Another partner signing in from the same address is not locked out by it.
    PcClient::new(&app).sign_in(&other).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget() {
    let app = spawn_app_with(&[("CAUSEWAY_TRUSTED_PROXIES", "127.0.0.0/8")]).await;
    let attacker = PcClient::forwarded_for(&app, "198.51.100.66");
    for _ in 0..10 {
        assert_eq!(attacker.try_sign_in(&app.partner.app_id, "cwt_guess").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attacker.try_sign_in(&app.partner.app_id, &app.partner.app_token).await.status, StatusCode::TOO_MANY_REQUESTS);
    // The partner's own staff, behind the same proxy, is not locked out.
    PcClient::forwarded_for(&app, "203.0.113.10").sign_in(&app.partner).await;

    // Without trusted proxies, X-Forwarded-For is a client's claim: it changes nothing.
    let direct = spawn_app().await;
    for i in 0..10 {
        let hopping = PcClient::forwarded_for(&direct, &format!("198.51.100.{i}"));
        assert_eq!(hopping.try_sign_in(&direct.partner.app_id, "cwt_guess").await.status, StatusCode::UNAUTHORIZED);
    }
    let page = PcClient::forwarded_for(&direct, "198.51.100.200").try_sign_in(&direct.partner.app_id, &direct.partner.app_token).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_sign_in_budget_is_shared_by_replicas() {
    let first = spawn_app().await;
    let second = spawn_app_on(first.db.same_database(), &[]).await;
    let on_first = PcClient::new(&first);
    for _ in 0..10 {
        assert_eq!(on_first.try_sign_in(&first.partner.app_id, "cwt_guess").await.status, StatusCode::UNAUTHORIZED);
    }
    let page = PcClient::new(&second).try_sign_in(&first.partner.app_id, &first.partner.app_token).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "the other replica counts the same failures");
}

#[tokio::test]
async fn pages_need_a_session_and_send_security_headers() {
    let app = spawn_app().await;
    let anonymous = PcClient::new(&app);
    for path in ["/partner-center", "/partner-center/idm", "/partner-center/branding", "/partner-center/events", "/partner-center/idm/history"] {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location(), "/partner-center/sign-in");
    }
    let browser = PcClient::new(&app);
    browser.sign_in(&app.partner).await;
    let csp = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    for path in ["/partner-center/sign-in", "/partner-center", "/partner-center/idm", "/partner-center/branding", "/partner-center/events", "/partner-center/no-such-page"] {
        let page = browser.get(path).await;
        assert_eq!(page.header("content-security-policy"), csp, "{path}");
        assert_eq!(page.header("x-frame-options"), "DENY", "{path}");
        assert_eq!(page.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(page.header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(page.header("cache-control"), "no-store", "{path}");
        assert!(!page.body.contains("<script>") && !page.body.contains(" style=\""), "no inline script or style: {path}");
    }
    // Errors are pages for people, not the API's JSON.
    let missing = browser.get("/partner-center/no-such-page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.header("content-type").starts_with("text/html"));
    assert!(missing.body.contains("Page not found") && missing.body.contains("Reference:"));
    let api = browser.get("/no-such-api").await;
    assert!(api.header("content-type").starts_with("application/json"), "the API keeps its JSON errors");

    // Assets: right type, cached for long, under a content-hashed URL.
    let overview = browser.get("/partner-center").await;
    let css_url = overview.body.split("href=\"").find_map(|s| s.strip_prefix("/assets/causeway.css")).map(|s| s.split('"').next().unwrap_or_default().to_owned()).unwrap();
    let css = browser.get(&format!("/assets/causeway.css{css_url}")).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    assert!(css.header("cache-control").contains("max-age=31536000"));
    let js = browser.get("/assets/partner-center.js").await;
    assert_eq!(js.header("content-type"), "text/javascript; charset=utf-8");
}
