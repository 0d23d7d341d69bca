use std::collections::HashSet;
use std::sync::Mutex;

use super::error::{column, parsed};
use super::{Store, StoreError};
use crate::domain::ids::AppId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoEventRow {
    pub id: String,
    pub app_id: AppId,
    pub occurred_at: i64,
    pub outcome: String,
    pub error_code: Option<String>,
    pub detail: String,
    pub correlation_id: String,
}

/// Events one pruning statement deletes at most. Each chunk is a short write, and sign-ins go
/// on between them: one DELETE of every surplus event, ranked by a window over the whole
/// table, held the write lock for about half a second after a minute of sign-ins at full
/// load (a login's maximum went to 664 ms), and its sort left the server 9 MB larger.
const PRUNE_CHUNK: i64 = 1000;

/// Which apps' logs a prune looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PruneScope {
    /// Every app's: one walk of the whole log (events other processes logged, a replica
    /// that stopped, included).
    Everywhere,
    /// Only those of the apps this process logged events for since its last prune: their
    /// ranges of the key, not the whole log. The walk of the whole log read every event
    /// once a minute — 167 ms per million, and at 10,000 partners with 1,000 events kept
    /// each, a file of gigabytes read through the page cache each time.
    LoggedHere,
}

/// The apps this process logged events for since its last prune (`PruneScope::LoggedHere`).
#[derive(Debug, Default)]
pub(crate) struct LoggedApps(Mutex<HashSet<AppId>>);

impl LoggedApps {
    pub(crate) fn note(&self, app: AppId) {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(app);
    }

    fn take(&self) -> HashSet<AppId> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    fn restore(&self, apps: impl IntoIterator<Item = AppId>) {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend(apps);
    }
}

impl Store {
    pub async fn insert_sso_event(&self, e: &SsoEventRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sso_events (id, app_id, occurred_at, outcome, error_code, detail, correlation_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&e.id)
        .bind(e.app_id.to_string())
        .bind(e.occurred_at)
        .bind(&e.outcome)
        .bind(&e.error_code)
        .bind(&e.detail)
        .bind(&e.correlation_id)
        .execute(self.writer())
        .await?;
        self.logged_apps.note(e.app_id);
        Ok(())
    }

    /// Newest first.
    pub async fn recent_sso_events(&self, app: AppId, limit: i64) -> Result<Vec<SsoEventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, occurred_at, outcome, error_code, detail, correlation_id FROM sso_events
             WHERE app_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2",
        )
        .bind(app.to_string())
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SsoEventRow {
                    id: column(r, "id")?,
                    app_id: app,
                    occurred_at: column(r, "occurred_at")?,
                    outcome: column(r, "outcome")?,
                    error_code: column(r, "error_code")?,
                    detail: column(r, "detail")?,
                    correlation_id: column(r, "correlation_id")?,
                })
            })
            .collect()
    }

    /// Keeps only the newest `keep` events of each app in `scope` (bounded retention),
    /// newest by time and then by id (time-ordered).
    pub async fn prune_sso_events(&self, keep: i64, scope: PruneScope) -> Result<u64, StoreError> {
        self.prune_sso_events_in_chunks(keep, scope, PRUNE_CHUNK).await
    }

    async fn prune_sso_events_in_chunks(&self, keep: i64, scope: PruneScope, chunk: i64) -> Result<u64, StoreError> {
        // Taken first: what is logged from here on waits for the next prune.
        let logged = self.logged_apps.take();
        let apps: Vec<AppId> = match scope {
            PruneScope::LoggedHere => logged.into_iter().collect(),
            // Apps past the bound, from a walk of the table in its key order (app first), on a reader.
            PruneScope::Everywhere => {
                let over = async {
                    let rows = sqlx::query("SELECT app_id FROM sso_events GROUP BY app_id HAVING COUNT(*) > $1").bind(keep).fetch_all(self.reader()).await?;
                    rows.iter().map(|row| parsed(row, "app_id")).collect::<Result<_, StoreError>>()
                };
                over.await.inspect_err(|_| self.logged_apps.restore(logged))?
            }
        };
        let mut deleted = 0;
        for (done, app) in apps.iter().enumerate() {
            match self.prune_app_events(*app, keep, chunk).await {
                Ok(n) => deleted += n,
                Err(err) => {
                    // The apps not pruned yet stay due.
                    self.logged_apps.restore(apps[done..].iter().copied());
                    return Err(err);
                }
            }
        }
        Ok(deleted)
    }

    async fn prune_app_events(&self, app: AppId, keep: i64, chunk: i64) -> Result<u64, StoreError> {
        let app = app.to_string();
        // The oldest event kept, and whether one older follows it. The key yields the app's
        // events newest first, so this reads `keep` + 1 entries (ties within a second sorted
        // as they come), not them all; an app within the bound costs no write.
        let (at, id): (i64, String) = if keep < 1 {
            (i64::MAX, String::new())
        } else {
            let mut edge: Vec<(i64, String)> =
                sqlx::query_as("SELECT occurred_at, id FROM sso_events WHERE app_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT 2 OFFSET $2")
                    .bind(&app)
                    .bind(keep - 1)
                    .fetch_all(self.reader())
                    .await?;
            if edge.len() < 2 {
                return Ok(0);
            }
            edge.remove(0)
        };
        let mut deleted = 0;
        loop {
            let done = sqlx::query(
                // By the whole key (0019): the table has no index on the id alone.
                "DELETE FROM sso_events WHERE (app_id, occurred_at, id) IN (
                    SELECT app_id, occurred_at, id FROM sso_events WHERE app_id = $1 AND (occurred_at < $2 OR (occurred_at = $2 AND id < $3)) LIMIT $4)",
            )
            .bind(&app)
            .bind(at)
            .bind(&id)
            .bind(chunk)
            .execute(self.writer())
            .await?;
            deleted += done.rows_affected();
            if (done.rows_affected() as i64) < chunk {
                return Ok(deleted);
            }
            self.let_waiting_writes_in().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::merchants::{SignIn, UsedState, UserProfile};
    use crate::store::scratch_app;

    async fn log(store: &Store, app: AppId, count: i64) {
        for _ in 0..count {
            let event = SsoEventRow {
                id: uuid::Uuid::now_v7().to_string(),
                app_id: app,
                occurred_at: 100,
                outcome: "failed".into(),
                error_code: Some("state_expired".into()),
                detail: "event".into(),
                correlation_id: "c".into(),
            };
            store.insert_sso_event(&event).await.unwrap();
        }
    }

    async fn logged(store: &Store, app: AppId) -> usize {
        store.recent_sso_events(app, 100).await.unwrap().len()
    }

    /// Between the hourly walks of the whole log, a prune looks only at the apps this
    /// process logged events for (a failure, a sign-in) since its last prune; the rest of
    /// the log, here what another replica logged, waits for the next whole walk.
    #[tokio::test]
    async fn a_prune_of_the_apps_logged_here_leaves_the_rest_to_the_whole_walk() {
        let dir = tempfile::tempdir().unwrap();
        let here = crate::store::scratch_store(&dir, "events.db").await;
        here.migrate().await.unwrap();
        let other = crate::store::scratch_store(&dir, "events.db").await;
        let (failing, signing_in, elsewhere) = (scratch_app(&here).await, scratch_app(&here).await, scratch_app(&here).await);
        log(&here, failing, 6).await;
        log(&other, signing_in, 5).await;
        log(&other, elsewhere, 6).await;
        let used = UsedState { hash: "state-hash".into(), expires_at: 9_000 };
        let sign_in = SignIn {
            profile: UserProfile {
                app_id: signing_in,
                issuer: "https://idm.example",
                subject: "sub-1",
                email: Some("a@shop.example"),
                email_key: Some("a@shop.example"),
                phone_number: None,
                phone_key: None,
                given_name: "Ada",
                family_name: "Shop",
            },
            membership: None,
            session_id_hash: "session-hash",
            csrf_token: "csrf",
            logout_hint_sealed: None,
            sign_out_origins: "",
            reachable_accounts: 2,
            expires_at: 9_000,
            idm_sid: None,
            authenticated_at: 200,
            event_id: &uuid::Uuid::now_v7().to_string(),
            event_detail: "signed in",
            correlation_id: "c-sign-in",
            signed_in_at: 200,
            used_state: &used,
        };
        here.sign_in(&sign_in).await.unwrap();

        assert_eq!(here.prune_sso_events(3, PruneScope::LoggedHere).await.unwrap(), 3 + 3);
        assert_eq!((logged(&here, failing).await, logged(&here, signing_in).await, logged(&here, elsewhere).await), (3, 3, 6));
        let newest = here.recent_sso_events(signing_in, 1).await.unwrap();
        assert_eq!(newest[0].correlation_id, "c-sign-in", "the newest are kept");
        assert_eq!(here.prune_sso_events(3, PruneScope::LoggedHere).await.unwrap(), 0, "nothing logged here since");

        log(&here, failing, 1).await;
        assert_eq!(here.prune_sso_events(3, PruneScope::Everywhere).await.unwrap(), 1 + 3);
        assert_eq!((logged(&here, failing).await, logged(&here, elsewhere).await), (3, 3));
        // The whole walk took the apps logged here with it.
        log(&other, failing, 1).await;
        assert_eq!(here.prune_sso_events(3, PruneScope::LoggedHere).await.unwrap(), 0);
        assert_eq!(other.prune_sso_events(3, PruneScope::LoggedHere).await.unwrap(), 1);
    }

    /// Each app keeps its newest events, ties within a second broken by id, however many
    /// chunks the surplus takes.
    #[tokio::test]
    async fn pruning_in_chunks_keeps_each_apps_newest_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::scratch_store(&dir, "events.db").await;
        store.migrate().await.unwrap();
        let apps = [scratch_app(&store).await, scratch_app(&store).await, scratch_app(&store).await];
        // Two events a second, ids in order: the 8th and 9th newest of app 0 share a second.
        let events = [(apps[0], 25), (apps[1], 4), (apps[2], 12)];
        for (app, count) in events {
            for n in 0..count {
                let event = SsoEventRow {
                    id: format!("{app}-{n:04}"),
                    app_id: app,
                    occurred_at: n / 2,
                    outcome: "failed".into(),
                    error_code: None,
                    detail: format!("event {n}"),
                    correlation_id: "c".into(),
                };
                store.insert_sso_event(&event).await.unwrap();
            }
        }
        assert_eq!(store.prune_sso_events_in_chunks(8, PruneScope::Everywhere, 4).await.unwrap(), 17 + 4);
        for (app, count) in events {
            let left: Vec<String> = store.recent_sso_events(app, 100).await.unwrap().into_iter().map(|e| e.id).collect();
            let newest: Vec<String> = (0..count).rev().take(8).map(|n| format!("{app}-{n:04}")).collect();
            assert_eq!(left, newest);
        }
        assert_eq!(store.prune_sso_events_in_chunks(0, PruneScope::Everywhere, 4).await.unwrap(), 8 + 4 + 8);
        assert!(store.recent_sso_events(apps[0], 100).await.unwrap().is_empty());
    }
}
