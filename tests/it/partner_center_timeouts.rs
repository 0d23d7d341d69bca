//! Partner Center session lifetimes on a pinned clock: 30 minutes idle, 12 hours at most.

use std::collections::HashMap;

use causeway::clock::Clock;
use causeway::config::Settings;
use causeway::startup::Application;
use reqwest::StatusCode;

use crate::helpers::{create_partner, TestDatabase};
use crate::pc_client::PcClient;

const MINUTE: i64 = 60;

#[tokio::test]
async fn sessions_end_after_30_idle_minutes_and_after_12_hours_whatever_the_activity() {
    let db = TestDatabase::new().await;
    let mut vars: HashMap<String, String> =
        HashMap::from([("CAUSEWAY_DATABASE_URL".into(), db.url.clone()), ("CAUSEWAY_LISTEN".into(), "127.0.0.1:0".into())]);
    vars.extend(db.env.iter().cloned());
    let clock = Clock::pinned(1_800_000_000);
    let app = Application::build_with_clock(Settings::from_map(&vars).unwrap(), clock.clone()).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let store = app.state().store.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let partner = create_partner(&store, &clock, "Acme Platform").await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let browser = PcClient::at(http, base);

    // Idle: each page view restarts the 30 minutes.
    browser.sign_in(&partner).await;
    for _ in 0..3 {
        clock.advance(29 * MINUTE);
        assert_eq!(browser.get("/partner-center").await.status, StatusCode::OK);
    }
    clock.advance(30 * MINUTE);
    let idle = browser.get("/partner-center").await;
    assert_eq!(idle.status, StatusCode::SEE_OTHER);
    assert_eq!(idle.location(), "/partner-center/sign-in?ended=1");

    // Absolute: busy all day, still over after 12 hours.
    browser.sign_in(&partner).await;
    let mut elapsed = 0;
    while elapsed + 20 * MINUTE < 12 * 60 * MINUTE {
        clock.advance(20 * MINUTE);
        elapsed += 20 * MINUTE;
        assert_eq!(browser.get("/partner-center").await.status, StatusCode::OK, "after {elapsed} s");
    }
    clock.advance(12 * 60 * MINUTE - elapsed);
    assert_eq!(browser.get("/partner-center").await.status, StatusCode::SEE_OTHER);
    assert_eq!(store.count_partner_sessions(partner.app_id.parse().unwrap()).await.unwrap(), 0, "expired sessions are deleted");
    let _ = stop.send(());
}
