use super::error::{column, parsed};
use super::{Store, StoreError};
use crate::domain::ids::AppId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRow {
    pub state_hash: String,
    pub app_id: AppId,
    pub browser_hash: String,
    /// The connector's private state (sealed): what its callback needs back.
    pub private_sealed: String,
    pub config_version: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What became of a callback's `state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Taken {
    /// First use: the flow, now marked used (it may still have expired).
    Flow(FlowRow),
    /// The state was used before.
    Replayed,
    /// No flow ever had this state (or it was swept).
    Unknown,
}

impl Store {
    pub async fn insert_flow(&self, flow: &FlowRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sso_flows (state_hash, app_id, browser_hash, private_sealed, config_version, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&flow.state_hash)
        .bind(flow.app_id.to_string())
        .bind(&flow.browser_hash)
        .bind(&flow.private_sealed)
        .bind(flow.config_version)
        .bind(flow.created_at)
        .bind(flow.expires_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Marks the flow used and returns it, in one statement: of two callbacks racing with
    /// the same state, exactly one gets the flow.
    pub async fn take_flow(&self, state_hash: &str, now: i64) -> Result<Taken, StoreError> {
        let row = sqlx::query(
            "UPDATE sso_flows SET used_at = $2 WHERE state_hash = $1 AND used_at IS NULL
             RETURNING app_id, browser_hash, private_sealed, config_version, created_at, expires_at",
        )
        .bind(state_hash)
        .bind(now)
        .fetch_optional(self.writer())
        .await?;
        if let Some(row) = row {
            return Ok(Taken::Flow(FlowRow {
                state_hash: state_hash.to_owned(),
                app_id: parsed(&row, "app_id")?,
                browser_hash: column(&row, "browser_hash")?,
                private_sealed: column(&row, "private_sealed")?,
                config_version: column(&row, "config_version")?,
                created_at: column(&row, "created_at")?,
                expires_at: column(&row, "expires_at")?,
            }));
        }
        let seen = sqlx::query("SELECT 1 AS seen FROM sso_flows WHERE state_hash = $1")
            .bind(state_hash)
            .fetch_optional(self.writer())
            .await?;
        Ok(if seen.is_some() { Taken::Replayed } else { Taken::Unknown })
    }

    /// Deletes flows never completed once they expired (before `now`), and the tombstones
    /// of used ones that expired before `tombstones_before` (kept so that a late replay is
    /// still named a replay). Anonymous clicks on a CTA leave rows for minutes, not a day.
    pub async fn sweep_flows(&self, now: i64, tombstones_before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sso_flows WHERE (used_at IS NULL AND expires_at < $1) OR expires_at < $2")
            .bind(now)
            .bind(tombstones_before)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }
}
