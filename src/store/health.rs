//! Health counters: added to per (app, hour, metric, label), summed over a window.

use super::error::column;
use super::{Store, StoreError};
use crate::domain::ids::AppId;

pub struct HealthCount {
    pub app_id: AppId,
    pub hour: i64,
    pub metric: &'static str,
    pub label: String,
    pub n: i64,
}

impl Store {
    /// Adds `counts` (one statement each; the flush runs off the request path).
    pub async fn add_health_counts(&self, counts: &[HealthCount]) -> Result<(), StoreError> {
        for c in counts {
            sqlx::query(
                "INSERT INTO health_counts (app_id, hour, metric, label, n) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (app_id, hour, metric, label) DO UPDATE SET n = health_counts.n + excluded.n",
            )
            .bind(c.app_id.to_string())
            .bind(c.hour)
            .bind(c.metric)
            .bind(&c.label)
            .bind(c.n)
            .execute(self.writer())
            .await?;
        }
        Ok(())
    }

    /// (hour, metric, label, n) of `app` since the hour `from`.
    pub async fn health_counts(&self, app: AppId, from: i64) -> Result<Vec<(i64, String, String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT hour, metric, label, n FROM health_counts WHERE app_id = $1 AND hour >= $2 ORDER BY hour")
            .bind(app.to_string())
            .bind(from)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(|r| Ok((column(r, "hour")?, column(r, "metric")?, column(r, "label")?, column(r, "n")?))).collect()
    }

    /// Forgets hours before `before` (more than the longest window ago).
    pub async fn prune_health_counts(&self, before: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM health_counts WHERE hour < $1").bind(before).execute(self.writer()).await?.rows_affected())
    }
}
