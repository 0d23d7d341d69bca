//! The login-flow store on both backends: single use under races, replay told apart.

use causeway::store::flows::{FlowRow, Taken};

use crate::helpers::*;

fn flow(app: &TestApp, state_hash: &str, expires_at: i64) -> FlowRow {
    FlowRow {
        state_hash: state_hash.to_owned(),
        app_id: app.partner.app_id.parse().unwrap(),
        browser_hash: "browser".into(),
        private_sealed: "v1.k.sealed".into(),
        config_version: 1,
        created_at: now(),
        expires_at,
    }
}

#[tokio::test]
async fn a_flow_is_taken_once_and_a_replay_is_recognised() {
    let app = spawn_app().await;
    let row = flow(&app, "h1", now() + 600);
    app.store.insert_flow(&row).await.unwrap();
    assert_eq!(app.store.take_flow("h1", now()).await.unwrap(), Taken::Flow(row));
    assert_eq!(app.store.take_flow("h1", now()).await.unwrap(), Taken::Replayed);
    assert_eq!(app.store.take_flow("never", now()).await.unwrap(), Taken::Unknown);
}

#[tokio::test]
async fn racing_callbacks_get_the_flow_exactly_once() {
    let app = spawn_app().await;
    app.store.insert_flow(&flow(&app, "race", now() + 600)).await.unwrap();
    let takes = futures_util::future::join_all((0..20).map(|_| app.store.take_flow("race", now()))).await;
    let winners = takes.iter().filter(|t| matches!(t, Ok(Taken::Flow(_)))).count();
    let replays = takes.iter().filter(|t| matches!(t, Ok(Taken::Replayed))).count();
    assert_eq!((winners, replays), (1, 19));
}

#[tokio::test]
async fn flows_never_completed_go_at_expiry_and_used_ones_stay_a_day() {
    let app = spawn_app().await;
    app.store.insert_flow(&flow(&app, "abandoned", now() - 10)).await.unwrap();
    app.store.insert_flow(&flow(&app, "fresh", now() + 600)).await.unwrap();
    app.store.insert_flow(&flow(&app, "used", now() - 10)).await.unwrap();
    assert!(matches!(app.store.take_flow("used", now() - 20).await.unwrap(), Taken::Flow(_)));
    app.store.insert_flow(&flow(&app, "used-long-ago", now() - 90_000)).await.unwrap();
    assert!(matches!(app.store.take_flow("used-long-ago", now() - 90_000).await.unwrap(), Taken::Flow(_)));
    assert_eq!(app.store.sweep_flows(now(), now() - 86_400).await.unwrap(), 2, "the abandoned one and the day-old tombstone");
    assert_eq!(app.store.take_flow("abandoned", now()).await.unwrap(), Taken::Unknown);
    assert_eq!(app.store.take_flow("used-long-ago", now()).await.unwrap(), Taken::Unknown);
    assert_eq!(app.store.take_flow("used", now()).await.unwrap(), Taken::Replayed, "a recent tombstone still names a replay");
    assert!(matches!(app.store.take_flow("fresh", now()).await.unwrap(), Taken::Flow(_)));
}
