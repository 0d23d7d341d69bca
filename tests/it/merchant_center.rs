//! The Merchant Center over plain HTTP, behind real logins at `oidc-provider`: KYC and
//! payout for the financial admin, read-only or refused for moderators, the team page,
//! CSRF and role on every post, and no way from one account's session to another's.

use reqwest::StatusCode;
use serde_json::json;

use crate::form_browser::{FormBrowser, csrf, first_form};
use crate::helpers::*;
use crate::idp::{causeway_client, person, OidcProvider};
pub const ROUTING: &str = "011000015";
pub const ACCOUNT_NUMBER: &str = "000987654321";
pub const TAX_ID: &str = "45-6012345";
/// The tax id as stored (digits only).
const TAX_DIGITS: &str = "456012345";

struct Portal {
    app: TestApp,
    _idp: OidcProvider,
    /// Alice controls account A; Bob is a moderator on A; Carol controls account B.
    a: String,
    b: String,
}

async fn portal() -> Portal {
    let app = spawn_app_for_sso(&[]).await;
    let a = app.account(&app.partner, "alice@shop.example", "Corner Shop").await;
    let b = app.account(&app.partner, "carol@other.example", "Other Shop").await;
    let logout_url = "https://partner.example/bye";
    let idp = OidcProvider::start(json!({
        "clients": [causeway_client(&app, logout_url, "ES256")],
        "accounts": [person("alice", "alice@shop.example", "Alice", &a), person("bob", "bob@shop.example", "Bob", &a),
                     person("carol", "carol@other.example", "Carol", &b)]
    }))
    .await;
    app.use_idm(&idp.issuer, logout_url).await;
    Portal { app, _idp: idp, a, b }
}

impl Portal {
    fn url(&self, path: &str) -> String {
        self.app.url(&format!("/merchant-center{path}"))
    }

    async fn sign_in(&self, login: &str) -> FormBrowser {
        let mut browser = FormBrowser::new();
        let cta = self.app.url(&format!("/sso/oidc/{}", self.app.partner.app_id));
        let landed = browser.run_until(&cta, &self.url(""), &[("login", login), ("password", "any")]).await;
        assert_eq!(landed.as_str(), self.url(""));
        browser
    }

    async fn kyc_rows(&self, account: &str) -> i64 {
        self.count("SELECT COUNT(*) FROM kyc_profiles WHERE account_id = $1", account).await
    }

    async fn payout_rows(&self, account: &str) -> i64 {
        self.count("SELECT COUNT(*) FROM payout_methods WHERE account_id = $1", account).await
    }

    async fn count(&self, sql: &'static str, account: &str) -> i64 {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&self.app.db.url).await.unwrap();
        sqlx::query_scalar(sql).bind(account).fetch_one(&mut conn).await.unwrap()
    }
}

pub fn kyc_form(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf_token", token.to_owned()),
        ("legal_name", "Corner Shop LLC".into()),
        ("business_type", "llc".into()),
        ("tax_id", TAX_ID.into()),
        ("address_line1", "1 Market St".into()),
        ("address_line2", "Suite 200".into()),
        ("city", "San Francisco".into()),
        ("region", "CA".into()),
        ("postal_code", "94105".into()),
        ("representative_dob", "1980-02-29".into()),
    ]
}

pub fn payout_form(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf_token", token.to_owned()),
        ("account_holder", "Corner Shop LLC".into()),
        ("routing_number", ROUTING.into()),
        ("account_number", ACCOUNT_NUMBER.into()),
        ("account_number_confirmation", ACCOUNT_NUMBER.into()),
    ]
}

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn with(form: &[(&'static str, String)], field: &'static str, value: &str) -> Vec<(&'static str, String)> {
    form.iter().map(|(k, v)| (*k, if *k == field { value.to_owned() } else { v.clone() })).collect()
}

#[tokio::test]
async fn the_financial_admin_submits_kyc_and_payout_and_sees_them_masked() {
    let p = portal().await;
    let mut alice = p.sign_in("alice").await;
    let (status, _, overview) = alice.get(&p.url("")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(overview.contains("Corner Shop") && overview.contains("Coffee and pastries") && overview.contains("United States"), "{overview}");
    assert!(overview.contains("Financial admin") && overview.contains("alice@shop.example"));
    assert!(overview.contains("Still missing: business legal name"), "the overview lists what KYC still needs");

    // Every mistake is named next to its field, and nothing is stored.
    let (_, _, page) = alice.get(&p.url("/kyc")).await;
    let token = csrf(&page);
    let bad = with(&with(&kyc_form(&token), "postal_code", "9410"), "representative_dob", "2015-01-01");
    let (status, _, page) = alice.post(&p.url("/kyc"), &pairs(&bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("id=\"f-postal_code-error\"") && page.contains("id=\"f-representative_dob-error\""), "{page}");
    assert!(page.contains("Corner Shop LLC"), "what was typed is kept");
    assert!(!page.contains(TAX_DIGITS) && !page.contains(TAX_ID), "the tax id is never echoed back");
    assert_eq!(p.kyc_rows(&p.a).await, 0);

    let (status, location, _) = alice.post(&p.url("/kyc"), &pairs(&kyc_form(&token))).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/merchant-center/kyc?saved=1")));
    let (_, _, page) = alice.get(&p.url("/kyc?saved=1")).await;
    assert!(page.contains("Business details submitted") && page.contains("value=\"Corner Shop LLC\"") && page.contains("ending in 2345"));
    assert!(!page.contains(TAX_DIGITS) && !page.contains(TAX_ID));
    // Resubmitting without a tax id keeps the one on file.
    let (status, _, _) = alice.post(&p.url("/kyc"), &pairs(&with(&with(&kyc_form(&token), "tax_id", ""), "city", "Oakland"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(alice.get(&p.url("/kyc")).await.2.contains("ending in 2345"));

    let (status, _, page) = alice.post(&p.url("/payout"), &pairs(&with(&payout_form(&token), "account_number_confirmation", "1"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("id=\"f-account_number_confirmation-error\"") && !page.contains(ACCOUNT_NUMBER));
    assert_eq!(p.payout_rows(&p.a).await, 0);
    let (status, _, _) = alice.post(&p.url("/payout"), &pairs(&payout_form(&token))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, page) = alice.get(&p.url("/payout")).await;
    assert!(page.contains("••••••4321") && page.contains("•••••0015"), "{page}");
    let (_, _, overview) = alice.get(&p.url("")).await;
    assert!(overview.contains("account ending 4321") && !overview.contains("Still missing"), "{overview}");

    // Only the last digits are anywhere in clear: pages, database.
    for path in ["", "/kyc", "/payout", "/users"] {
        let (_, _, page) = alice.get(&p.url(path)).await;
        for secret in [ACCOUNT_NUMBER, ROUTING, TAX_DIGITS] {
            assert!(!page.contains(secret), "{path} shows {secret}");
        }
    }
    let stored = p.app.database_text(&["kyc_profiles", "payout_methods"]).await;
    assert!(stored.contains("Corner Shop LLC"), "the search does see stored data");
    for secret in [ACCOUNT_NUMBER, ROUTING, TAX_DIGITS] {
        assert!(!stored.contains(secret), "{secret} is in the database in clear");
    }
}

#[tokio::test]
async fn moderators_read_kyc_and_are_refused_payout() {
    let p = portal().await;
    let mut alice = p.sign_in("alice").await;
    let token = csrf(&alice.get(&p.url("/kyc")).await.2);
    assert_eq!(alice.post(&p.url("/kyc"), &pairs(&kyc_form(&token))).await.0, StatusCode::SEE_OTHER);
    assert_eq!(alice.post(&p.url("/payout"), &pairs(&payout_form(&token))).await.0, StatusCode::SEE_OTHER);

    let mut bob = p.sign_in("bob").await;
    let (status, _, page) = bob.get(&p.url("/kyc")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"read-only\"") && page.contains("Corner Shop LLC") && page.contains("ending in 2345"));
    assert!(!page.contains("id=\"kyc-form\""), "no form for a moderator");
    let (_, _, overview) = bob.get(&p.url("")).await;
    assert!(overview.contains("Moderator") && !overview.contains("4321") && !overview.contains("nav-payout"));

    // The server refuses, whatever the page showed: same CSRF-valid posts as Alice's.
    let bob_token = csrf(&overview);
    let changed = with(&kyc_form(&bob_token), "legal_name", "Bob Was Here");
    let (status, _, page) = bob.post(&p.url("/kyc"), &pairs(&changed)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("Only a financial admin"));
    assert!(!alice.get(&p.url("/kyc")).await.2.contains("Bob Was Here"));
    assert_eq!(bob.get(&p.url("/payout")).await.0, StatusCode::FORBIDDEN);
    let (status, _, _) = bob.post(&p.url("/payout"), &pairs(&with(&payout_form(&bob_token), "account_holder", "Bob"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(alice.get(&p.url("/payout")).await.2.contains("Corner Shop LLC"));

    // The team page lists both, with roles and sign-in times; Carol is on another account.
    let (status, _, team) = bob.get(&p.url("/users")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(team.contains("alice@shop.example") && team.contains("bob@shop.example") && !team.contains("carol@other.example"), "{team}");
    assert!(team.contains("Financial admin") && team.contains("Moderator") && team.contains("UTC"));
}

/// Every route, GET and POST, for every kind of caller.
#[tokio::test]
async fn every_route_enforces_session_role_and_csrf() {
    let p = portal().await;
    let mut alice = p.sign_in("alice").await;
    let mut bob = p.sign_in("bob").await;
    let alice_token = csrf(&alice.get(&p.url("")).await.2);
    let bob_token = csrf(&bob.get(&p.url("")).await.2);
    let mut nobody = FormBrowser::new();
    let forms = |path: &str, token: &str| if path == "/kyc" { kyc_form(token) } else { payout_form(token) };

    let gets = [("", 200, 200), ("/kyc", 200, 200), ("/payout", 200, 403), ("/users", 200, 200)];
    for (path, admin, moderator) in gets {
        assert_eq!(nobody.get(&p.url(path)).await.0, StatusCode::UNAUTHORIZED, "GET {path} without a session");
        assert_eq!(alice.get(&p.url(path)).await.0.as_u16(), admin, "GET {path} as admin");
        assert_eq!(bob.get(&p.url(path)).await.0.as_u16(), moderator, "GET {path} as moderator");
    }
    for path in ["", "/users"] {
        // Read-only pages take no posts at all.
        assert_eq!(alice.post(&p.url(path), &[("csrf_token", alice_token.as_str())]).await.0, StatusCode::METHOD_NOT_ALLOWED, "POST {path}");
    }
    for path in ["/kyc", "/payout"] {
        let form = forms(path, &alice_token);
        assert_eq!(nobody.post(&p.url(path), &pairs(&form)).await.0, StatusCode::UNAUTHORIZED, "POST {path} without a session");
        for token in ["", "forged", bob_token.as_str()] {
            let (status, _, page) = alice.post(&p.url(path), &pairs(&with(&form, "csrf_token", token))).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "POST {path} with CSRF token {token:?}");
            assert!(page.contains("This form has expired"));
        }
        let no_token: Vec<(&str, &str)> = pairs(&form).into_iter().filter(|(k, _)| *k != "csrf_token").collect();
        assert_eq!(alice.post(&p.url(path), &no_token).await.0, StatusCode::FORBIDDEN, "POST {path} without a CSRF token");
        assert_eq!(bob.post(&p.url(path), &pairs(&forms(path, &bob_token))).await.0, StatusCode::FORBIDDEN, "POST {path} as moderator");
    }
    assert_eq!((p.kyc_rows(&p.a).await, p.payout_rows(&p.a).await), (0, 0), "no refused post changed anything");
    // Sign-out is a CSRF-checked post too: a forged one leaves the session alive.
    let (status, _, page) = alice.post(&p.app.url("/sso/logout"), &[("csrf_token", bob_token.as_str())]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("This form has expired") && page.contains("Alice Merchant"), "the portal's own page: {page}");
    assert_eq!(alice.get(&p.url("")).await.0, StatusCode::OK);
    let (status, location, _) = nobody.post(&p.app.url("/sso/logout"), &[("csrf_token", "x")]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/merchant-center")));

    // Every page, errors included, carries the security headers.
    for (who, path) in [(&mut alice, ""), (&mut bob, "/payout"), (&mut nobody, "/kyc")] {
        let resp = reqwest::Client::new()
            .get(p.url(path))
            .header("cookie", who.cookie("__Host-causeway_mc").map(|c| format!("__Host-causeway_mc={c}")).unwrap_or_default())
            .send()
            .await
            .unwrap();
        let h = resp.headers();
        assert!(h["content-security-policy"].to_str().unwrap().contains("script-src 'self'"), "{path}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["referrer-policy"], "no-referrer");
    }
}

#[tokio::test]
async fn a_session_never_reaches_another_account() {
    let p = portal().await;
    let mut alice = p.sign_in("alice").await;
    let mut carol = p.sign_in("carol").await;
    let (_, _, page) = carol.get(&p.url("")).await;
    assert!(page.contains("Other Shop") && page.contains(&p.b) && !page.contains(&p.a));

    // Alice names account B wherever an id could go: query string, extra form fields.
    let token = csrf(&alice.get(&p.url("")).await.2);
    let mut kyc = kyc_form(&token);
    kyc.extend([("account_id", p.b.clone()), ("account", p.b.clone()), ("legal_entity_id", p.b.clone())]);
    let mut payout = payout_form(&token);
    payout.push(("account_id", p.b.clone()));
    for (path, form) in [("/kyc", &kyc), ("/payout", &payout)] {
        let url = format!("{}?account_id={}&account={}", p.url(path), p.b, p.b);
        assert_eq!(alice.post(&url, &pairs(form)).await.0, StatusCode::SEE_OTHER);
        let (status, _, page) = alice.get(&url).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!page.contains("Other Shop") && !page.contains(&p.b), "{path} shows account B");
    }
    assert_eq!((p.kyc_rows(&p.b).await, p.payout_rows(&p.b).await), (0, 0), "account B untouched");
    assert_eq!((p.kyc_rows(&p.a).await, p.payout_rows(&p.a).await), (1, 1), "the posts went to Alice's own account");
    let (_, _, carol_kyc) = carol.get(&p.url("/kyc")).await;
    assert!(!carol_kyc.contains("Corner Shop LLC") && !carol_kyc.contains("ending in 2345"));
    let (_, _, carol_payout) = carol.get(&p.url("/payout")).await;
    assert!(!carol_payout.contains("4321") && carol_payout.contains("Add a bank account"));

    // Carol's CSRF token is worth nothing in Alice's session.
    let carol_token = csrf(&carol_kyc);
    assert_eq!(alice.post(&p.url("/kyc"), &pairs(&kyc_form(&carol_token))).await.0, StatusCode::FORBIDDEN);
    // A session id that is not exactly one issued opens nothing.
    let cookie = alice.cookie("__Host-causeway_mc").unwrap();
    let mut flipped = cookie.clone().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    for forged in [String::from_utf8(flipped).unwrap(), format!("{cookie}x"), cookie[..cookie.len() - 1].to_owned()] {
        let resp = reqwest::Client::new().get(p.url("")).header("cookie", format!("__Host-causeway_mc={forged}")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    assert!(first_form(&carol.get(&p.url("")).await.2).is_some(), "Carol's session is still fine");
}

/// Rotating the master key re-seals the tax id, the bank numbers and the sessions' ID
/// tokens too, and they open under the new key alone.
#[tokio::test]
async fn master_key_rotation_reseals_merchant_center_secrets() {
    use causeway::crypto::sealed;
    use secrecy::ExposeSecret;

    let p = portal().await;
    let mut alice = p.sign_in("alice").await;
    let token = csrf(&alice.get(&p.url("")).await.2);
    assert_eq!(alice.post(&p.url("/kyc"), &pairs(&kyc_form(&token))).await.0, StatusCode::SEE_OTHER);
    assert_eq!(alice.post(&p.url("/payout"), &pairs(&payout_form(&token))).await.0, StatusCode::SEE_OTHER);

    let rotated = crate::secrets_at_rest::rotate_master_key(&p.app);
    let (report, keyring) = (rotated.report, rotated.keyring);
    assert_eq!(report["resealed"], 4, "IdM client secret, tax id, bank numbers, Alice's session: {report}");
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&p.app.db.url).await.unwrap();
    let (tax, bank): (String, String) = sqlx::query_as("SELECT k.tax_id_sealed, b.bank_sealed FROM kyc_profiles k JOIN payout_methods b ON b.account_id = k.account_id")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let account = p.a.parse().unwrap();
    let tax = sealed::open(&keyring, &causeway::services::kyc::tax_id_context(account), &tax).unwrap();
    assert_eq!(tax.expose_secret(), TAX_DIGITS);
    let bank = sealed::open(&keyring, &causeway::services::payout::bank_context(account), &bank).unwrap();
    assert!(bank.expose_secret().contains(ACCOUNT_NUMBER) && bank.expose_secret().contains(ROUTING));
}

#[tokio::test]
async fn suspending_the_partner_ends_its_merchants_sessions() {
    use causeway::domain::app::AppStatus;
    let p = portal().await;
    let mut alice = p.sign_in("alice").await;
    assert_eq!(alice.get(&p.url("")).await.0, StatusCode::OK);
    let app_id = p.app.partner.app_id.parse().unwrap();
    causeway::services::apps::set_status(&p.app.store, app_id, AppStatus::Suspended).await.unwrap();
    assert_eq!(alice.get(&p.url("/kyc")).await.0, StatusCode::UNAUTHORIZED);
    causeway::services::apps::set_status(&p.app.store, app_id, AppStatus::Active).await.unwrap();
    assert_eq!(alice.get(&p.url("")).await.0, StatusCode::UNAUTHORIZED, "the session was ended, not paused");
}
