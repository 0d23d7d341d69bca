use super::error::column;
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

    /// Keeps only the newest `keep` events of every app (bounded retention), newest by time
    /// and then by id (time-ordered).
    pub async fn prune_sso_events(&self, keep: i64) -> Result<u64, StoreError> {
        self.prune_sso_events_in_chunks(keep, PRUNE_CHUNK).await
    }

    async fn prune_sso_events_in_chunks(&self, keep: i64, chunk: i64) -> Result<u64, StoreError> {
        // Apps past the bound, from a walk of the table in its key order (app first), on a reader.
        let over: Vec<(String,)> =
            sqlx::query_as("SELECT app_id FROM sso_events GROUP BY app_id HAVING COUNT(*) > $1").bind(keep).fetch_all(self.reader()).await?;
        let mut deleted = 0;
        for (app,) in over {
            // The oldest event kept. The key yields the app's events newest first, so this
            // reads `keep` entries (ties within a second sorted as they come), not them all.
            let (at, id): (i64, String) = if keep < 1 {
                (i64::MAX, String::new())
            } else {
                let oldest_kept = sqlx::query_as("SELECT occurred_at, id FROM sso_events WHERE app_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT 1 OFFSET $2")
                    .bind(&app)
                    .bind(keep - 1)
                    .fetch_optional(self.reader())
                    .await?;
                let Some(row) = oldest_kept else { continue };
                row
            };
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
                    break;
                }
                self.let_waiting_writes_in().await;
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each app keeps its newest events, ties within a second broken by id, however many
    /// chunks the surplus takes.
    #[tokio::test]
    async fn pruning_in_chunks_keeps_each_apps_newest_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::scratch_store(&dir, "events.db").await;
        store.migrate().await.unwrap();
        let apps: Vec<AppId> = (0..3).map(|_| AppId::new()).collect();
        for app in &apps {
            sqlx::query("INSERT INTO apps (id, name, status, token_hash, token_prefix, token_created_at, created_at) VALUES ($1, 'a', 'active', $1, 'p', 0, 0)")
                .bind(app.to_string())
                .execute(store.writer())
                .await
                .unwrap();
        }
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
        assert_eq!(store.prune_sso_events_in_chunks(8, 4).await.unwrap(), 17 + 4);
        for (app, count) in events {
            let left: Vec<String> = store.recent_sso_events(app, 100).await.unwrap().into_iter().map(|e| e.id).collect();
            let newest: Vec<String> = (0..count).rev().take(8).map(|n| format!("{app}-{n:04}")).collect();
            assert_eq!(left, newest);
        }
        assert_eq!(store.prune_sso_events_in_chunks(0, 4).await.unwrap(), 8 + 4 + 8);
        assert!(store.recent_sso_events(apps[0], 100).await.unwrap().is_empty());
    }
}
