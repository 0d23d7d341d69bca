//! The IdM monitor: discovery and JWKS read again, each change a notice in the app's health,
//! one replica per period, logins untouched.

use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use crate::form_browser::FormBrowser;
use crate::helpers::*;
use crate::support::fake_op::FakeOp;

const CLAIM: &str = "https://partner.example/wepay_account_id";

async fn notice_kinds(app: &TestApp) -> Vec<String> {
    let health: Value = app.get("/partner/health", &app.partner).await.json().await.unwrap();
    health["notices"].as_array().unwrap().iter().rev().map(|n| n["kind"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn changes_at_the_idm_become_notices_without_blocking_logins() {
    // Period 0: no background rounds, and every round of the test looks.
    let app = spawn_app_for_sso(&[("CAUSEWAY_IDM_MONITOR_SECONDS", "0")]).await;
    let account = app.account(&app.partner, "alice@shop.example", "Shop").await;
    let op = FakeOp::start().await;
    op.set(|b| b.id_token_claims = json!({"email": "alice@shop.example", "email_verified": true, "given_name": "Alice", "family_name": "Merchant", CLAIM: account}));
    app.configure_idm(&op.config(json!({}))).await;
    let round = || causeway::services::idm_monitor::check_due(&app.state);

    assert_eq!(round().await.unwrap(), 1);
    assert!(notice_kinds(&app).await.is_empty(), "the first look is the baseline");

    op.set(|b| (b.extra_kids, b.algorithms) = (vec!["rotated-in"], vec!["ES256", "RS256"]));
    round().await.unwrap();
    assert_eq!(notice_kinds(&app).await, ["algorithms_changed", "keys_added"]);
    // A login right after a key change works (and finds the key set fetched afresh).
    let fetches = app.state.jwks.fetch_count();
    assert_eq!(app.sign_in(&mut FormBrowser::new(), &[]).await, Ok("/merchant-center".into()));
    assert_eq!(app.state.jwks.fetch_count(), fetches + 1);

    op.set(|b| b.extra_kids = vec![]);
    round().await.unwrap();
    op.set(|b| b.discovery_down = true);
    round().await.unwrap();
    op.set(|b| b.discovery_down = false);
    round().await.unwrap();
    assert_eq!(
        notice_kinds(&app).await,
        ["algorithms_changed", "keys_added", "keys_removed", "one_signing_key_left", "unreachable", "reachable_again"]
    );
    let health: Value = app.get("/partner/health", &app.partner).await.json().await.unwrap();
    let removed = health["notices"].as_array().unwrap().iter().find(|n| n["kind"] == "keys_removed").unwrap().clone();
    assert!(removed["detail"].as_str().unwrap().contains("rotated-in"), "{removed}");
    // The Partner Center shows them as banners on the health page.
    let pc = crate::pc_client::PcClient::new(&app);
    pc.sign_in(&app.partner).await;
    assert_eq!(pc.get("/partner-center/health").await.body.matches("idm-notice").count(), 6);
    assert!(op.hits().discovery.load(Ordering::SeqCst) >= 6);
}

/// With several replicas, one looks at an app per period: the database row is the lease.
#[tokio::test]
async fn one_replica_looks_per_period() {
    let app = spawn_app().await;
    let me = app.partner.app_id.parse().unwrap();
    let now = now();
    assert!(app.store.claim_idm_check(me, now, 300).await.unwrap().is_some(), "the first replica takes it");
    assert!(app.store.claim_idm_check(me, now, 300).await.unwrap().is_none(), "another replica, the same moment");
    assert!(app.store.claim_idm_check(me, now + 299, 300).await.unwrap().is_none());
    assert!(app.store.claim_idm_check(me, now + 300, 300).await.unwrap().is_some(), "the next period");
}
