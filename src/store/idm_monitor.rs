//! The IdM monitor's lease and memory per app, and its notices.

use super::error::column;
use super::{Store, StoreError};
use crate::domain::ids::AppId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeRow {
    pub occurred_at: i64,
    pub kind: String,
    pub detail: String,
}

impl Store {
    /// Takes the app's check for this period: `Some(what was seen last, of which config
    /// version)` for the one replica whose update found the last check at least `period`
    /// old, `None` for every other (and until the period has passed).
    pub async fn claim_idm_check(&self, app: AppId, now: i64, period: i64) -> Result<Option<(i64, Option<String>)>, StoreError> {
        sqlx::query("INSERT INTO idm_monitor (app_id, config_version, checked_at) VALUES ($1, 0, 0) ON CONFLICT (app_id) DO NOTHING")
            .bind(app.to_string())
            .execute(self.writer())
            .await?;
        let claimed = sqlx::query("UPDATE idm_monitor SET checked_at = $1 WHERE app_id = $2 AND checked_at <= $3 RETURNING config_version, snapshot_json")
            .bind(now)
            .bind(app.to_string())
            .bind(now - period)
            .fetch_optional(self.writer())
            .await?;
        claimed.map(|row| Ok((column(&row, "config_version")?, column(&row, "snapshot_json")?))).transpose()
    }

    pub async fn save_idm_snapshot(&self, app: AppId, config_version: i64, snapshot_json: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE idm_monitor SET config_version = $1, snapshot_json = $2 WHERE app_id = $3")
            .bind(config_version)
            .bind(snapshot_json)
            .bind(app.to_string())
            .execute(self.writer())
            .await?;
        Ok(())
    }

    pub async fn insert_idm_notice(&self, app: AppId, occurred_at: i64, kind: &str, detail: &str) -> Result<(), StoreError> {
        // Time-ordered ids: notices of one second keep the order they were noticed in.
        sqlx::query("INSERT INTO idm_notices (id, app_id, occurred_at, kind, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(app.to_string())
            .bind(occurred_at)
            .bind(kind)
            .bind(detail)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The app's notices since `from`, newest first.
    pub async fn idm_notices(&self, app: AppId, from: i64) -> Result<Vec<NoticeRow>, StoreError> {
        let rows = sqlx::query("SELECT occurred_at, kind, detail FROM idm_notices WHERE app_id = $1 AND occurred_at >= $2 ORDER BY occurred_at DESC, id DESC LIMIT 50")
            .bind(app.to_string())
            .bind(from)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(|r| Ok(NoticeRow { occurred_at: column(r, "occurred_at")?, kind: column(r, "kind")?, detail: column(r, "detail")? })).collect()
    }

    /// The apps whose current configuration the monitor reads: active, with an IdM.
    pub async fn monitored_apps(&self) -> Result<Vec<AppId>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT v.app_id FROM idm_config_versions v JOIN apps a ON a.id = v.app_id WHERE a.status = 'active'")
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(|r| super::error::parsed(r, "app_id")).collect()
    }
}
