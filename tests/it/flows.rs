//! The login-flow store on both backends: single use under races, replay told apart.

use causeway::domain::app::AppStatus;
use causeway::store::flows::{FlowRow, Taken};
use causeway::store::idm_configs::NewIdmVersion;

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
    assert_eq!(app.store.take_flow("h1", now()).await.unwrap(), Taken::Flow(row, AppStatus::Active));
    assert_eq!(app.store.take_flow("h1", now()).await.unwrap(), Taken::Replayed);
    assert_eq!(app.store.take_flow("never", now()).await.unwrap(), Taken::Unknown);
}

#[tokio::test]
async fn racing_callbacks_get_the_flow_exactly_once() {
    let app = spawn_app().await;
    app.store.insert_flow(&flow(&app, "race", now() + 600)).await.unwrap();
    let takes = futures_util::future::join_all((0..20).map(|_| app.store.take_flow("race", now()))).await;
    let winners = takes.iter().filter(|t| matches!(t, Ok(Taken::Flow(..)))).count();
    let replays = takes.iter().filter(|t| matches!(t, Ok(Taken::Replayed))).count();
    assert_eq!((winners, replays), (1, 19));
}

#[tokio::test]
async fn flows_never_completed_go_at_expiry_and_used_ones_stay_a_day() {
    let app = spawn_app().await;
    app.store.insert_flow(&flow(&app, "abandoned", now() - 10)).await.unwrap();
    app.store.insert_flow(&flow(&app, "fresh", now() + 600)).await.unwrap();
    app.store.insert_flow(&flow(&app, "used", now() - 10)).await.unwrap();
    assert!(matches!(app.store.take_flow("used", now() - 20).await.unwrap(), Taken::Flow(..)));
    app.store.insert_flow(&flow(&app, "used-long-ago", now() - 90_000)).await.unwrap();
    assert!(matches!(app.store.take_flow("used-long-ago", now() - 90_000).await.unwrap(), Taken::Flow(..)));
    assert_eq!(app.store.sweep_flows(now(), now() - 86_400).await.unwrap(), 2, "the abandoned one and the day-old tombstone");
    assert_eq!(app.store.take_flow("abandoned", now()).await.unwrap(), Taken::Unknown);
    assert_eq!(app.store.take_flow("used-long-ago", now()).await.unwrap(), Taken::Unknown);
    assert_eq!(app.store.take_flow("used", now()).await.unwrap(), Taken::Replayed, "a recent tombstone still names a replay");
    assert!(matches!(app.store.take_flow("fresh", now()).await.unwrap(), Taken::Flow(..)));
}

#[tokio::test]
async fn a_flow_is_written_only_for_an_active_app_and_its_current_configuration() {
    let app = spawn_app().await;
    let app_id = app.partner.app_id.parse().unwrap();
    assert!(app.store.insert_flow(&flow(&app, "before-any-config", now() + 600)).await.unwrap(), "no configuration yet: nothing newer");
    let version = |n: i64| NewIdmVersion { config_json: "{}", client_secret_sealed: None, secret_changed: false, changed_by: "test", changed_at: n };
    assert_eq!(app.store.append_idm_version(app_id, &version(1)).await.unwrap(), 1);
    assert_eq!(app.store.append_idm_version(app_id, &version(2)).await.unwrap(), 2);
    let mut stale = flow(&app, "stale", now() + 600);
    assert!(!app.store.insert_flow(&stale).await.unwrap(), "version 1 is no longer current");
    stale.config_version = 2;
    assert!(app.store.insert_flow(&stale).await.unwrap());
    app.store.set_app_status(app_id, AppStatus::Suspended).await.unwrap();
    let mut suspended = flow(&app, "suspended", now() + 600);
    suspended.config_version = 2;
    assert!(!app.store.insert_flow(&suspended).await.unwrap(), "a suspended app starts no login");
    assert_eq!(app.store.take_flow("suspended", now()).await.unwrap(), Taken::Unknown, "nothing was written");
    assert!(matches!(app.store.take_flow("stale", now()).await.unwrap(), Taken::Flow(_, AppStatus::Suspended)), "the callback learns the status with the flow");
}

/// On SQLite the request path writes inline, without waiting for the database lock; while
/// another connection holds it, the same statement goes through the pool's writer, which
/// waits. Nothing is lost and nothing fails.
#[tokio::test]
async fn a_flow_written_while_another_connection_holds_the_write_lock_waits_for_it() {
    let app = spawn_app().await;
    sqlx::any::install_default_drivers();
    let mut other = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db.url).await.unwrap();
    let begin = if app.db.url.starts_with("sqlite") { "BEGIN IMMEDIATE" } else { "BEGIN" };
    sqlx::Executor::execute(&mut other, begin).await.unwrap();
    sqlx::Executor::execute(&mut other, "UPDATE apps SET name = name").await.unwrap();
    let store = app.store.clone();
    let waiting = flow(&app, "while-locked", now() + 600);
    let write = tokio::spawn(async move { store.insert_flow(&waiting).await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    sqlx::Executor::execute(&mut other, "COMMIT").await.unwrap();
    assert!(write.await.unwrap().unwrap(), "written once the lock was released");
    assert!(matches!(app.store.take_flow("while-locked", now()).await.unwrap(), Taken::Flow(..)));
}
