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

    /// Keeps only the newest `keep` events of every app (bounded retention).
    pub async fn prune_sso_events(&self, keep: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM sso_events WHERE id IN (
                SELECT id FROM (
                    SELECT id, ROW_NUMBER() OVER (PARTITION BY app_id ORDER BY occurred_at DESC, id DESC) AS rank FROM sso_events
                ) ranked WHERE rank > $1)",
        )
        .bind(keep)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }
}
