//! The used-state store on both backends: a login's state is recorded used once, under
//! races too; a replay is told apart for a day; the CTA's read sees every change.

use causeway::domain::app::AppStatus;
use causeway::domain::ids::AppId;
use causeway::store::idm_configs::NewIdmVersion;
use causeway::store::login_states::CallbackFacts;

use crate::helpers::*;

fn facts(status: AppStatus, used: bool) -> Option<CallbackFacts> {
    Some(CallbackFacts { app_status: status, used })
}

#[tokio::test]
async fn a_state_is_recorded_used_once_and_the_callback_reads_it_back() {
    let app = spawn_app().await;
    let me: AppId = app.partner.app_id.parse().unwrap();
    let expiry = now() + 600;
    assert_eq!(app.store.callback_facts(me, "h1", expiry).await.unwrap(), facts(AppStatus::Active, false));
    assert!(app.store.mark_state_used("h1", expiry).await.unwrap());
    assert_eq!(app.store.callback_facts(me, "h1", expiry).await.unwrap(), facts(AppStatus::Active, true));
    assert!(!app.store.mark_state_used("h1", expiry).await.unwrap(), "recorded already");
    assert_eq!(app.store.callback_facts(me, "h2", expiry).await.unwrap(), facts(AppStatus::Active, false), "another state");
    assert_eq!(app.store.callback_facts(me, "h1", expiry + 1).await.unwrap(), facts(AppStatus::Active, false), "the key is the pair");
    app.store.set_app_status(me, AppStatus::Suspended).await.unwrap();
    assert_eq!(app.store.callback_facts(me, "h1", expiry).await.unwrap(), facts(AppStatus::Suspended, true));
    let unknown: AppId = "00000000-0000-4000-8000-000000000000".parse().unwrap();
    assert_eq!(app.store.callback_facts(unknown, "h1", expiry).await.unwrap(), None);
}

#[tokio::test]
async fn racing_callbacks_record_a_state_exactly_once() {
    let app = spawn_app().await;
    let expiry = now() + 600;
    let marks = futures_util::future::join_all((0..20).map(|_| app.store.mark_state_used("race", expiry))).await;
    let firsts = marks.iter().filter(|m| matches!(m, Ok(true))).count();
    let again = marks.iter().filter(|m| matches!(m, Ok(false))).count();
    assert_eq!((firsts, again), (1, 19));
}

#[tokio::test]
async fn used_states_stay_a_day_past_their_flows_expiry() {
    let app = spawn_app().await;
    let me: AppId = app.partner.app_id.parse().unwrap();
    app.store.mark_state_used("recent", now() - 10).await.unwrap();
    app.store.mark_state_used("long-ago", now() - 90_000).await.unwrap();
    assert_eq!(app.store.sweep_used_states(now() - 86_400).await.unwrap(), 1, "the day-old one");
    assert_eq!(app.store.callback_facts(me, "recent", now() - 10).await.unwrap(), facts(AppStatus::Active, true), "still names a replay");
    assert_eq!(app.store.callback_facts(me, "long-ago", now() - 90_000).await.unwrap(), facts(AppStatus::Active, false));
}

#[tokio::test]
async fn the_ctas_read_names_the_apps_status_and_current_configuration() {
    let app = spawn_app().await;
    let me: AppId = app.partner.app_id.parse().unwrap();
    assert_eq!(app.store.app_status_and_version(me).await.unwrap(), Some((AppStatus::Active, None)), "no configuration yet");
    let version = |n: i64| NewIdmVersion { config_json: "{}", client_secret_sealed: None, secret_changed: false, changed_by: "test", changed_at: n };
    assert_eq!(app.store.append_idm_version(me, &version(1)).await.unwrap(), 1);
    assert_eq!(app.store.append_idm_version(me, &version(2)).await.unwrap(), 2);
    assert_eq!(app.store.app_status_and_version(me).await.unwrap(), Some((AppStatus::Active, Some(2))));
    app.store.set_app_status(me, AppStatus::Suspended).await.unwrap();
    assert_eq!(app.store.app_status_and_version(me).await.unwrap(), Some((AppStatus::Suspended, Some(2))));
    let unknown: AppId = "00000000-0000-4000-8000-000000000000".parse().unwrap();
    assert_eq!(app.store.app_status_and_version(unknown).await.unwrap(), None);
}

/// On SQLite the request path writes inline, without waiting for the database lock; while
/// another connection holds it, the same statement goes through the pool's writer, which
/// waits. Nothing is lost and nothing fails.
#[tokio::test]
async fn a_state_recorded_while_another_connection_holds_the_write_lock_waits_for_it() {
    let app = spawn_app().await;
    let me: AppId = app.partner.app_id.parse().unwrap();
    sqlx::any::install_default_drivers();
    let mut other = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db.url).await.unwrap();
    let begin = if app.db.url.starts_with("sqlite") { "BEGIN IMMEDIATE" } else { "BEGIN" };
    sqlx::Executor::execute(&mut other, begin).await.unwrap();
    sqlx::Executor::execute(&mut other, "UPDATE apps SET name = name").await.unwrap();
    let store = app.store.clone();
    let expiry = now() + 600;
    let write = tokio::spawn(async move { store.mark_state_used("while-locked", expiry).await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    sqlx::Executor::execute(&mut other, "COMMIT").await.unwrap();
    assert!(write.await.unwrap().unwrap(), "written once the lock was released");
    assert_eq!(app.store.callback_facts(me, "while-locked", expiry).await.unwrap(), facts(AppStatus::Active, true));
}
